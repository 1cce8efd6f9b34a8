import type {DuckDBConnection} from '@duckdb/node-api'
import {CONCENTRATION_COLUMNS, FAST_PATH, LORENZ_INNER_POINTS, ORDER_FREE_SUM} from '../metrics/concentration'
import {queryOne, queryRows, type Row} from '../metrics/sql-values'
import {BALANCE_CHANGES_DDL} from './balances'
import {type BalanceChange, OrderedBalances} from './ordered-balances'
import {BALANCES_FROM_STATE} from './routes'

/**
 * The token concentration row at the head (CONCENTRATION_WITH_LORENZ_SQL's columns over balance_state) from the
 * balances kept sorted in the process (ordered-balances.ts) plus one scan in DuckDB, instead of a sort of every
 * balance: the order statistics come from the sorted balances as exact integers, and one query over balance_state
 * sums the order-free terms (HHI, entropy, Theil, with the same expressions as the query) and forms every DOUBLE of
 * the row with the query's own column expressions (CONCENTRATION_COLUMNS, LORENZ_INNER_POINTS) from those integers.
 * So the row is the query's row, value for value; head-balances.test.ts compares them over random histories.
 *
 * Keeping the sorted balances current: per connection and token, the structure takes the changes the sync logged on
 * that connection (balance_changes, balances.ts) since it last looked. It is rebuilt from balance_state (a sort in
 * DuckDB, once) when the connection has none yet, when the changes are many (a first load, a rebuild: see
 * REBUILD_ABOVE_CHANGES), or when they do not fit it. Every use checks it against balance_state in the same scan
 * that sums the terms: the count, the exact total and an exact sum of squared residues (Σ (w mod 2^31)²) must be
 * equal, or the structure is rebuilt and the row computed again. balance_state has one writer, applyTransfersAbove,
 * which logs what it changes in the same transaction; the check is there against a future writer that does not (a
 * transfer that bypassed the log keeps the total but changes that sum, unless its amount is a multiple of 2^31).
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
    // FAST_PATH with a margin: the query below checks the exact condition too.
    if (!figures || Number(figures.total) * (figures.n + 1) >= 4.0e37) return undefined
    const row = await queryOne(conn, HEAD_BALANCES_SQL, {
      token,
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
    })
    const {n_check, w_check, m2_check, ...concentration} = row
    if (Number(n_check) === figures.n && String(w_check) === figures.total.toString() && String(m2_check) === kept.m2.toString()) {
      return concentration.lorenz_fast === true ? concentration : undefined
    }
  }
  throw new Error(`the balances of ${token} kept in the process differ from balance_state right after a rebuild from it`)
}

/**
 * The check sum's term: the square of a balance's low 31 bits. (A remainder modulo a prime would see every bit, but
 * a HUGEINT remainder cost ~0.45 s over a million balances, a mask ~5 ms.)
 */
const LOW31 = 2147483647n
const residueSquare = (w: bigint) => (w & LOW31) * (w & LOW31)
const RESIDUE_SQUARE_SQL = (w: string) => `(${w} & ${LOW31})::BIGINT * (${w} & ${LOW31})::BIGINT`

interface Kept {
  ordered: OrderedBalances
  /** Σ (w mod 2^31)² over the balances: the check against balance_state. */
  m2: bigint
}

/**
 * Changes beyond this many, and beyond a quarter of the balances, rebuild instead (a first load, a rebuild of the
 * mirror: sorting afresh in DuckDB is then cheaper than a million BigInt changes).
 */
const REBUILD_ABOVE_CHANGES = 10_000

const keptByConnection = new WeakMap<DuckDBConnection, Map<string, Kept>>()

/** The token's kept balances, brought up to the logged changes or rebuilt (see headBalancesRow). */
async function keptBalances(conn: DuckDBConnection, token: string, rebuild: boolean): Promise<Kept | undefined> {
  let byToken = keptByConnection.get(conn)
  if (!byToken) keptByConnection.set(conn, (byToken = new Map()))
  const changes = await takeLoggedChanges(conn, token)
  const kept = byToken.get(token)
  if (kept && !rebuild && changes.length <= Math.max(REBUILD_ABOVE_CHANGES, kept.ordered.count / 4) && kept.ordered.apply(changes)) {
    for (const c of changes) {
      if (c.old !== null && c.old > 0n) kept.m2 -= residueSquare(c.old)
      if (c.new > 0n) kept.m2 += residueSquare(c.new)
    }
    return kept
  }
  byToken.delete(token)
  const built = await buildFromState(conn, token)
  if (built) byToken.set(token, built)
  return built
}

/** The changes logged for `token` on this connection since the last call, removed from the log. */
async function takeLoggedChanges(conn: DuckDBConnection, token: string): Promise<BalanceChange[]> {
  await conn.run(BALANCE_CHANGES_DDL)
  const rows = await queryRows(conn, `SELECT old::VARCHAR AS old, new::VARCHAR AS new FROM balance_changes WHERE token = $token`, {token})
  if (rows.length > 0) await conn.run(`DELETE FROM balance_changes WHERE token = $token`, {token})
  return rows.map((r) => ({old: r.old === null ? null : BigInt(String(r.old)), new: BigInt(String(r.new))}))
}

let builds = 0
/** How many times this process built kept balances from balance_state (the tests check that changes need none). */
export const headBalanceBuilds = (): number => builds

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

/**
 * The row from the order statistics (parameters) and one scan of balance_state: the terms with the query's
 * expressions over the same s = w / W, the columns with the query's expressions, and the checks.
 */
const HEAD_BALANCES_SQL = `
WITH d AS NOT MATERIALIZED (${BALANCES_FROM_STATE}),
t AS (SELECT $n::BIGINT AS n, $total::BIGNUM AS total, $total::HUGEINT AS th),
terms AS (
  SELECT count(*) AS n_check, coalesce(sum(r.w), 0)::VARCHAR AS w_check,
    coalesce(sum(${RESIDUE_SQUARE_SQL('r.w')}), 0)::VARCHAR AS m2_check,
    ${ORDER_FREE_SUM('r.s * r.s')} AS hhi,
    -${ORDER_FREE_SUM('r.s * ln(r.s)')} AS entropy,
    ${ORDER_FREE_SUM('r.s * ln(r.s * t.n)')} AS theil
  FROM (SELECT d.w, d.w::DOUBLE / t.total::DOUBLE AS s FROM d, t) r, t
),
a AS (
  SELECT $gini_numerator::VARCHAR AS gini_numerator, $nakamoto_50::BIGINT AS nakamoto_50, $nakamoto_quorum::BIGINT AS nakamoto_quorum,
    terms.hhi, terms.entropy, terms.theil, $top1::VARCHAR AS top1, $top10::VARCHAR AS top10, $top1pct::VARCHAR AS top1pct,
    CAST(string_split($lorenz_k, ',') AS BIGINT[]) AS lorenz_k, CAST(string_split($lorenz_cum, ',') AS HUGEINT[]) AS lorenz_cum
  FROM terms
)
SELECT
${CONCENTRATION_COLUMNS},
  ${FAST_PATH('t')} AS lorenz_fast,
${LORENZ_INNER_POINTS},
  t.th::VARCHAR::DOUBLE / t.total::DOUBLE AS lorenz_last_y,
  terms.n_check, terms.w_check, terms.m2_check
FROM t, a, terms
`
