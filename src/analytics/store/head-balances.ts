import type {DuckDBConnection} from '@duckdb/node-api'
import {CONCENTRATION_COLUMNS, FAST_PATH, FIXED_POINT_TERM, FROM_FIXED_POINT, LORENZ_INNER_POINTS} from '../metrics/concentration'
import {queryOne, type Row} from '../metrics/sql-values'
import {ensureBalanceLog} from './balances'
import {type ChangeLimbs, OrderedBalances, type OrderFigures} from './ordered-balances'
import {BALANCES_FROM_STATE} from './routes'

/**
 * The token concentration row at the head (CONCENTRATION_WITH_LORENZ_SQL's columns over balance_state) from state
 * kept in the process instead of a sort of every balance; head-balances.test.ts compares it with the query's row,
 * value for value, over histories with rollbacks.
 *
 * - The order statistics (Gini numerator, Nakamoto counts, top-k sums, the Lorenz curve's kept points) come from the
 *   balances kept sorted (ordered-balances.ts), as exact integers.
 * - HHI, entropy and Theil are the query's order-free sums (ORDER_FREE_SUM: each balance's DOUBLE term rounded to a
 *   multiple of 2^-100, the multiples added exactly). Each term depends on the balance, the total W and the count n
 *   only, so while W and n stay what they were, the kept exact sums follow the changes: the terms of the balances
 *   that leave are subtracted and those of the balances that come are added, computed by DuckDB with the query's
 *   expressions. When W or n changed (a mint, a burn, a holder who came or went), one scan of balance_state sums the
 *   terms afresh, and they are kept from there.
 * - One query then forms every DOUBLE of the row with the query's own column expressions (CONCENTRATION_COLUMNS,
 *   LORENZ_INNER_POINTS) from those integers, so the row is the query's row.
 *
 * Keeping the state current: per connection and token, it takes the balance changes the sync logged on that
 * connection (balance_changes, balances.ts) since it last looked; the sync logs a token's changes from the moment its
 * state is built. It is rebuilt from balance_state (a sort in DuckDB,
 * once) when the connection has none yet, when the changes are many (a first load, a rebuild: see
 * REBUILD_ABOVE_CHANGES), or when they do not fit it. Every use checks it against balance_state with one scan: the
 * count, the exact total and an exact sum of squared residues (Σ (w mod 2^31)²) must be equal, or the state is
 * rebuilt and the row computed again. balance_state has one writer, applyStagedTransfers, which logs what it changes
 * in the same transaction; the check is there against a future writer that does not (a transfer that bypassed the
 * log keeps the total but changes that sum, unless its amount is a multiple of 2^31).
 *
 * Undefined (the caller runs the query) when the token has no positive balance, or a balance or the total reaches
 * 2^104, or the distribution is not on the query's HUGEINT path (FAST_PATH).
 */
export async function headBalancesRow(
  conn: DuckDBConnection,
  token: string,
  quorumWad: string | null,
  maxPoints: number,
): Promise<Row | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const kept = await keptBalances(conn, token, attempt > 0)
    if (!kept) return undefined
    const figures = kept.ordered.figures(maxPoints, quorumWad === null ? null : BigInt(quorumWad))
    if (!surelyFastPath(figures)) return undefined
    const terms = currentTerms(kept)
    if (!terms) termScans++
    const row = await queryOne(conn, terms ? HEAD_BALANCES_KEPT_TERMS_SQL : HEAD_BALANCES_SQL, {
      token,
      ...orderStatisticParams(figures),
      ...(terms ? {f_hhi: terms.hhi.toString(), f_entropy: terms.entropy.toString(), f_theil: terms.theil.toString()} : {}),
    })
    const {checked, concentration, sums} = splitCheckedRow(row, figures, kept.m2)
    if (checked) {
      if (!terms) {
        kept.terms = {total: figures.total, n: figures.n, hhi: BigInt(String(sums.f_hhi)), entropy: BigInt(String(sums.f_entropy)), theil: BigInt(String(sums.f_theil))}
      }
      return concentration.lorenz_fast === true ? concentration : undefined
    }
  }
  throw new Error(`the balances of ${token} kept in the process differ from balance_state right after a rebuild from it`)
}

/** The query's FAST_PATH with a margin, for the kept figures (the row's query checks the exact condition too). */
export const surelyFastPath = (figures: OrderFigures | undefined): figures is OrderFigures =>
  figures !== undefined && Number(figures.total) * (figures.n + 1) < 4.0e37

/**
 * A headRowSql row (or its kept-terms twin) split into the concentration row and the terms' exact sums (f_hhi,
 * f_entropy, f_theil; absent from the twin), with whether its checks of the scanned table (count, total, Σ (w mod
 * 2^31)²) equal the kept state's: `figures` and `m2`.
 */
export function splitCheckedRow(row: Row, figures: OrderFigures, m2: bigint): {checked: boolean; concentration: Row; sums: Row} {
  const {n_check, w_check, m2_check, f_hhi, f_entropy, f_theil, ...concentration} = row
  const checked = Number(n_check) === figures.n && String(w_check) === figures.total.toString() && String(m2_check) === m2.toString()
  return {checked, concentration, sums: {f_hhi: f_hhi ?? null, f_entropy: f_entropy ?? null, f_theil: f_theil ?? null}}
}

/** The order statistics as the parameters of headRowSql's row (ORDER_COLUMNS), with $n and $total. */
export function orderStatisticParams(figures: OrderFigures): Record<string, string | number | null> {
  return {
    n: figures.n,
    total: figures.total.toString(),
    gini_numerator: figures.giniNumerator.toString(),
    nakamoto_50: figures.nakamoto50,
    nakamoto_quorum: figures.nakamotoQuorum,
    top1: figures.top1?.toString() ?? null,
    top10: figures.top10?.toString() ?? null,
    top1pct: figures.top1pct?.toString() ?? null,
    lorenz_k: figures.lorenzK.length > 0 ? figures.lorenzK.join(',') : null,
    lorenz_cum: figures.lorenzCum.length > 0 ? figures.lorenzCum.join(',') : null,
  }
}

/**
 * The check sum's term: the square of a balance's low 31 bits. (A remainder modulo a prime would see every bit, but
 * a HUGEINT remainder cost ~0.45 s over a million balances, a mask ~5 ms.)
 */
const RESIDUE_SQUARE_SQL = (w: string) => `(${w} & 2147483647)::BIGINT * (${w} & 2147483647)::BIGINT`

interface Kept {
  ordered: OrderedBalances
  /** Σ (w mod 2^31)² over the balances: the check against balance_state. */
  m2: bigint
  /** The exact fixed-point sums of the HHI, entropy and Theil terms, valid for this total and count only. */
  terms?: {total: bigint; n: number; hhi: bigint; entropy: bigint; theil: bigint}
}

/** The kept term sums when they were summed for the balances' present total and count; undefined otherwise. */
const currentTerms = (kept: Kept): Kept['terms'] =>
  kept.terms?.total === kept.ordered.sum && kept.terms.n === kept.ordered.count ? kept.terms : undefined

/**
 * Changes beyond this many, and beyond a quarter of the balances, rebuild instead (a first load, a rebuild of the
 * mirror: sorting afresh in DuckDB is then cheaper than a million changes).
 */
const REBUILD_ABOVE_CHANGES = 10_000

const keptByConnection = new WeakMap<DuckDBConnection, Map<string, Kept>>()

/** The token's kept state, brought up to the logged changes or rebuilt (see headBalancesRow). */
async function keptBalances(conn: DuckDBConnection, token: string, rebuild: boolean): Promise<Kept | undefined> {
  let byToken = keptByConnection.get(conn)
  if (!byToken) keptByConnection.set(conn, (byToken = new Map()))
  await ensureBalanceLog(conn)
  const {logged, count, limbs: changes} = await readLoggedChanges(conn, token)
  // Kept state whose token is no longer logged (see balances.ts) has missed changes: rebuilt.
  const kept = logged ? byToken.get(token) : undefined
  if (kept && !rebuild && (count === 0 || (count <= Math.max(REBUILD_ABOVE_CHANGES, kept.ordered.count / 4) && kept.ordered.applyLimbs(changes)))) {
    if (count > 0) {
      try {
        // The terms follow the changes while the total and the count stay those they were summed for.
        const terms = currentTerms(kept)
        const d = terms
          ? await queryOne(conn, CHANGE_SUMS_SQL, {token, total: terms.total.toString(), n: terms.n})
          : await queryOne(conn, CHANGE_CHECK_SUM_SQL, {token})
        kept.m2 += BigInt(String(d.m2))
        if (terms) {
          terms.hhi += BigInt(String(d.hhi))
          terms.entropy += BigInt(String(d.entropy))
          terms.theil += BigInt(String(d.theil))
        } else kept.terms = undefined
        await conn.run(`DELETE FROM balance_changes WHERE token = $token`, {token})
      } catch (e) {
        // The sorted balances took the changes but the sums may not have: nothing kept is trusted after this.
        byToken.delete(token)
        throw e
      }
    }
    return kept
  }
  if (count > 0) await conn.run(`DELETE FROM balance_changes WHERE token = $token`, {token})
  byToken.delete(token)
  const built = await buildFromState(conn, token)
  if (built) {
    byToken.set(token, built)
    // From here on the sync logs the token's changes for it.
    await conn.run(`INSERT OR IGNORE INTO balance_log_tokens VALUES ($token)`, {token})
  } else await conn.run(`DELETE FROM balance_log_tokens WHERE token = $token`, {token})
  return built
}

/**
 * The changes logged for `token` on this connection since it was last brought up to them: whether the token is logged
 * at all (balance_log_tokens), how many changes, and as limbs the positive old balances (those that leave) and the
 * positive new ones (those that enter), each list sorted by DuckDB (applyLimbs then has nothing to sort: sorting
 * ~15,000 limb pairs in the process cost ~20 ms a refresh, DuckDB's sort of them ~8 ms). One statement: asked apart,
 * whether the token is logged cost ~3 ms of a refresh beside the other connection's work.
 */
async function readLoggedChanges(conn: DuckDBConnection, token: string): Promise<{logged: boolean; count: number; limbs: ChangeLimbs}> {
  // Side 0: old balances, 1: new balances, 2: one row with the count of logged changes in `hi`, 3: one row with the
  // token's rows in balance_log_tokens in `hi`.
  const reader = await conn.runAndReadAll(
    `SELECT side, hi, lo FROM (
       SELECT 0 AS side, old AS w, (old >> 52)::DOUBLE AS hi, (old & 4503599627370495)::DOUBLE AS lo FROM balance_changes WHERE token = $token AND old > 0
       UNION ALL
       SELECT 1, new, (new >> 52)::DOUBLE, (new & 4503599627370495)::DOUBLE FROM balance_changes WHERE token = $token AND new > 0
       UNION ALL
       SELECT 2, NULL, count(*)::DOUBLE, 0 FROM balance_changes WHERE token = $token
       UNION ALL
       SELECT 3, NULL, count(*)::DOUBLE, 0 FROM balance_log_tokens WHERE token = $token
     ) ORDER BY side, w`,
    {token},
  )
  const [side, hi, lo] = reader.getColumnsJS() as [number[], number[], number[]]
  const from = (s: number) => {
    let a = 0
    while (a < side.length && side[a]! < s) a++
    let b = a
    while (b < side.length && side[b] === s) b++
    return [a, b] as const
  }
  const [o0, o1] = from(0)
  const [n0, n1] = from(1)
  const [c0] = from(2)
  const [l0] = from(3)
  return {
    logged: Number(hi[l0] ?? 0) > 0,
    count: Number(hi[c0] ?? 0),
    limbs: {
      oldHi: Float64Array.from(hi.slice(o0, o1)),
      oldLo: Float64Array.from(lo.slice(o0, o1)),
      newHi: Float64Array.from(hi.slice(n0, n1)),
      newLo: Float64Array.from(lo.slice(n0, n1)),
    },
  }
}

/**
 * The logged changes' sums, exactly: of the check sum's terms and, with `terms`, of the HHI, entropy and Theil terms
 * (the query's expressions, with s = w / W for the given W and n): each new balance's term minus each old one's.
 * $token, and with `terms` $total and $n.
 */
const changeSumsSql = (terms: boolean) => `
WITH ${terms ? 't AS (SELECT $n::BIGINT AS n, $total::BIGNUM AS total)' : 't AS (SELECT 1 AS n, 1 AS total)'},
c AS (
  SELECT w, sign${terms ? ', w::DOUBLE / t.total::DOUBLE AS s' : ''} FROM (
    SELECT old AS w, -1 AS sign FROM balance_changes WHERE token = $token AND old > 0
    UNION ALL
    SELECT new, 1 FROM balance_changes WHERE token = $token AND new > 0
  ), t
)
SELECT
  coalesce(sum(sign * ${RESIDUE_SQUARE_SQL('c.w')}), 0)::VARCHAR AS m2${terms ? `,
  coalesce(sum(sign * ${FIXED_POINT_TERM('c.s * c.s')}), 0)::VARCHAR AS hhi,
  coalesce(sum(sign * ${FIXED_POINT_TERM('c.s * ln(c.s)')}), 0)::VARCHAR AS entropy,
  coalesce(sum(sign * ${FIXED_POINT_TERM('c.s * ln(c.s * t.n)')}), 0)::VARCHAR AS theil` : ''}
FROM c, t`
const CHANGE_SUMS_SQL = changeSumsSql(true)
const CHANGE_CHECK_SUM_SQL = changeSumsSql(false)

/**
 * Drops this connection's kept state (the benchmark's full-suite runs, which measure a suite computed from the mirror
 * alone): the next suite rebuilds it, and the sync logs nothing until then.
 */
export async function forgetKeptBalances(conn: DuckDBConnection): Promise<void> {
  keptByConnection.delete(conn)
  await ensureBalanceLog(conn)
  await conn.run(`DELETE FROM balance_log_tokens`)
  await conn.run(`DELETE FROM balance_changes`)
}

let builds = 0
let termScans = 0
/**
 * How many times this process built kept balances from balance_state, and summed the terms over all of it: the tests
 * check that changes need neither (the terms: while the total and the count stay).
 */
export const headBalanceBuilds = (): number => builds
export const headBalanceTermScans = (): number => termScans

/** The positive balances sorted in DuckDB and read as two exact DOUBLE limbs, and their check sum. */
async function buildFromState(conn: DuckDBConnection, token: string): Promise<Kept | undefined> {
  builds++
  const reader = await conn.runAndReadAll(
    `SELECT (w >> 52)::DOUBLE AS hi, (w & 4503599627370495)::DOUBLE AS lo FROM (${BALANCES_FROM_STATE}) ORDER BY w`,
    {token},
  )
  const [hi, lo] = reader.getColumnsJS() as number[][]
  if (!hi || !lo || hi.length === 0) return undefined
  const ordered = OrderedBalances.fromSortedLimbs(Float64Array.from(hi), Float64Array.from(lo))
  if (!ordered) return undefined
  const m2 = await queryOne(conn, `SELECT coalesce(sum(${RESIDUE_SQUARE_SQL('w')}), 0)::VARCHAR AS m2 FROM (${BALANCES_FROM_STATE})`, {token})
  return {ordered, m2: BigInt(String(m2.m2))}
}

/** The check of every use: count, total and check sum of balance_state's positive balances. */
const CHECK_SUMS = (w: string) =>
  `count(*) AS n_check, coalesce(sum(${w}), 0)::VARCHAR AS w_check, coalesce(sum(${RESIDUE_SQUARE_SQL(w)}), 0)::VARCHAR AS m2_check`

/** The order statistics' parameters as the columns of the query's aggregates `a` (concentration.ts). */
const ORDER_COLUMNS = `$gini_numerator::VARCHAR AS gini_numerator, $nakamoto_50::BIGINT AS nakamoto_50, $nakamoto_quorum::BIGINT AS nakamoto_quorum,
    $top1::VARCHAR AS top1, $top10::VARCHAR AS top10, $top1pct::VARCHAR AS top1pct,
    CAST(string_split($lorenz_k, ',') AS BIGINT[]) AS lorenz_k, CAST(string_split($lorenz_cum, ',') AS HUGEINT[]) AS lorenz_cum`

const ROW_COLUMNS = `${CONCENTRATION_COLUMNS},
  ${FAST_PATH('t')} AS lorenz_fast,
${LORENZ_INNER_POINTS},
  t.th::VARCHAR::DOUBLE / t.total::DOUBLE AS lorenz_last_y`

/**
 * The row from the order statistics (parameters) and one scan of `source` (entity, w; parameter $token) that sums the
 * terms afresh (with the query's expressions over the same s = w / W), returning their exact sums to keep, and the
 * checks: over balance_state here, over delegate_power in head-power.ts.
 */
export const headRowSql = (source: string): string => `
WITH d AS NOT MATERIALIZED (${source}),
t AS (SELECT $n::BIGINT AS n, $total::BIGNUM AS total, $total::HUGEINT AS th),
terms AS (
  SELECT ${CHECK_SUMS('r.w')},
    sum(${FIXED_POINT_TERM('r.s * r.s')}) AS f_hhi,
    sum(${FIXED_POINT_TERM('r.s * ln(r.s)')}) AS f_entropy,
    sum(${FIXED_POINT_TERM('r.s * ln(r.s * t.n)')}) AS f_theil
  FROM (SELECT d.w, d.w::DOUBLE / t.total::DOUBLE AS s FROM d, t) r, t
),
a AS (
  SELECT ${ORDER_COLUMNS},
    ${FROM_FIXED_POINT('terms.f_hhi')} AS hhi, -${FROM_FIXED_POINT('terms.f_entropy')} AS entropy, ${FROM_FIXED_POINT('terms.f_theil')} AS theil
  FROM terms
)
SELECT
${ROW_COLUMNS},
  terms.n_check, terms.w_check, terms.m2_check,
  terms.f_hhi::VARCHAR AS f_hhi, terms.f_entropy::VARCHAR AS f_entropy, terms.f_theil::VARCHAR AS f_theil
FROM t, a, terms
`
const HEAD_BALANCES_SQL = headRowSql(BALANCES_FROM_STATE)

/** The same row with the terms' exact sums kept ($f_hhi, $f_entropy, $f_theil): the scan only checks. */
const HEAD_BALANCES_KEPT_TERMS_SQL = `
WITH t AS (SELECT $n::BIGINT AS n, $total::BIGNUM AS total, $total::HUGEINT AS th),
checks AS (SELECT ${CHECK_SUMS('w')} FROM (${BALANCES_FROM_STATE})),
a AS (
  SELECT ${ORDER_COLUMNS},
    ${FROM_FIXED_POINT('$f_hhi::HUGEINT')} AS hhi, -${FROM_FIXED_POINT('$f_entropy::HUGEINT')} AS entropy,
    ${FROM_FIXED_POINT('$f_theil::HUGEINT')} AS theil
)
SELECT
${ROW_COLUMNS},
  checks.n_check, checks.w_check, checks.m2_check
FROM t, a, checks
`
