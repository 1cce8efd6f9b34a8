/**
 * Concentration of a weight distribution: who holds how much of something (voting power, validations, models).
 *
 * Input: a relation `dist(entity VARCHAR, w HUGEINT)` defined by the caller (table, temp table or view), one row
 * per entity. An ENTITY is a distinct `entity` value with w > 0; rows with w <= 0 are excluded (a zero balance
 * is not a holder). Let n = number of entities, W = Σ w (exact), s_i = w_i / W, entities ranked by w DESC.
 * Ties need no rule: every figure below depends on the sorted values only (D_k, the sum of the k largest, is the
 * same whichever of two equal weights comes first), so the queries sort by w alone.
 *
 *   concentration.count              n
 *   concentration.gini               Σ_i Σ_j |w_i − w_j| / (2 n W)   (mean absolute difference / 2·mean);
 *                                    computed as (2 Σ_k D_k − (n+1) W) / (n W) with D_k the k-th cumulative sum
 *                                    from the largest; 0 for n = 1
 *   concentration.nakamoto_50        smallest k such that the k largest entities together hold STRICTLY more than
 *                                    50% (2 D_k > W)
 *   concentration.nakamoto_quorum    smallest k with D_k / W > quorumShare; NULL when no quorumShare is given or
 *                                    no k qualifies (quorumShare = 1)
 *   concentration.hhi                Σ s_i² (1/n … 1)
 *   concentration.hhi_normalized     (HHI − 1/n) / (1 − 1/n); 1 for n = 1 (a single holder is total concentration)
 *   concentration.entropy            Shannon entropy in NATS: −Σ s_i ln s_i (0 … ln n)
 *   concentration.entropy_normalized entropy / ln n (0 … 1); 0 for n = 1
 *   concentration.theil              Theil T = (1/n) Σ (w_i/μ) ln(w_i/μ) = Σ s_i ln(n s_i) = ln n − entropy
 *   concentration.top1_share         D_1 / W
 *   concentration.top10_share        D_min(10,n) / W
 *   concentration.top1pct_share      D_k / W with k = ceil(n / 100) (at least 1)
 *
 * Empty set (no entity with w > 0): count 0, total '0', every other metric NULL.
 *
 * Exactness. Sums are exact. W is a BIGNUM (arbitrary precision), summed in HUGEINT when no partial sum can overflow
 * (EXACT_SUM). When W·(n + 1) < 2^125 (FAST_PATH: any real token), the cumulative sums D_k, the Gini numerator and
 * the Nakamoto comparisons run in HUGEINT, where that bound keeps every sum and product below the type's limit
 * (1.6–2× faster than BIGNUM at a million holders);
 * otherwise D_k are HUGEINT window sums cast to BIGNUM when W fits in HUGEINT, and BIGNUM window sums beyond (UNION
 * ALL branches, only one of which has rows; the BIGNUM window is ~6× slower). Plain `sum()` over HUGEINT is relied
 * on only within that bound: in DuckDB 1.5 it can wrap around silently on overflow. A ratio is formed in
 * DOUBLE only after its numerator and denominator are exact, so Gini and the top shares carry one rounding
 * each (relative error ~1e-16). The Nakamoto comparisons are exact integer comparisons: D_k > W − D_k, and
 * D_k > floor(W · q / 10^18) with q the quorum share as an 18-decimal fixed-point integer; that floor is computed
 * in HUGEINT, so when W exceeds the HUGEINT range (> 1.7e38, far beyond any real token supply in wei) the
 * quorum comparison falls back to DOUBLE. HHI, entropy and Theil are sums of DOUBLE terms, added exactly in fixed
 * point (ORDER_FREE_SUM) so that they are the same doubles on every run and in the grouped queries; their rounding
 * residue is clamped to the mathematical range (HHI_norm and entropy_norm in [0, 1],
 * entropy and Theil ≥ 0; note that DuckDB's greatest/least skip NULLs, hence the CASE guards).
 *
 * (BIGNUM caveats found in DuckDB 1.5.6, avoided here: casts between HUGEINT and BIGNUM are wrong or fail for some
 * values, so they go through VARCHAR (bignum.ts); comparing `column::BIGNUM` with a BIGNUM constant fails for the
 * same reason; BIGNUM multiplication and division return DOUBLE.)
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import {
  queryOne, queryRows, readBoolean, readInt, readIntOrNull, readIntegerString, readNumberOrNull, shareToWad, type Row,
} from './sql-values'
import {HUGEINT_TO_BIGNUM} from './bignum'
import {EXACT_SUM} from './exact-sum'

export interface ConcentrationResult {
  count: number
  /** Σ w over the entities, exact, as a decimal string ('0' for the empty set). */
  total: string
  gini: number | null
  nakamoto50: number | null
  nakamotoQuorum: number | null
  hhi: number | null
  hhiNormalized: number | null
  /** nats */
  entropy: number | null
  entropyNormalized: number | null
  theil: number | null
  top1Share: number | null
  top10Share: number | null
  top1PctShare: number | null
}

export interface ConcentrationOptions {
  /** Threshold for `nakamotoQuorum`, in [0, 1], read as the decimal it prints as (0.04 means exactly 4/100). */
  quorumShare?: number
}

export interface LorenzPoint {
  /** cumulative share of entities, smallest first */
  x: number
  /** cumulative share of weight */
  y: number
}

export const HUGEINT_MAX = "'170141183460469231731687303715884105727'::BIGNUM"

/**
 * The concentration query over the entities of `distSelect`, a constant SQL text producing (entity, w), or of
 * the caller's `dist` relation when omitted. For modules of this folder that derive a distribution
 * (validations per validator, models per owner); never build `distSelect` from values.
 */

/**
 * 2^100, the fixed point in which the DOUBLE terms of HHI, entropy and Theil are added (ORDER_FREE_SUM), as a DOUBLE
 * (exact: a power of two).
 */
const FIXED_POINT = `1267650600228229401496703205376::DOUBLE`

/**
 * Σ term over the rows, the same DOUBLE whatever the order in which rows are added: each term (a DOUBLE) is rounded
 * to a multiple of 2^-100 and the multiples are added exactly in HUGEINT, then the exact sum is converted once
 * (through its decimal text, correctly rounded) and scaled back by the power of two. A floating-point sum (fsum)
 * depends on the order of addition, and DuckDB's parallel aggregation does not fix that order: the same query over
 * the same million balances returned HHI and entropy differing in the last digit from run to run, and a grouped query
 * could differ from the single one. Bounds: the terms here are s², −s·ln s and s·ln(n·s) with shares s in (0, 1],
 * whose absolute values sum to at most 1, ln n and 2·ln n; with n < 2^63 every partial sum stays below 2^107, far
 * inside HUGEINT, and the rounding adds at most n·2^-101 (< 5e-25 for a million entities).
 */
export const ORDER_FREE_SUM = (term: string) => FROM_FIXED_POINT(`sum(${FIXED_POINT_TERM(term)})`)
/** ORDER_FREE_SUM's parts: one term as a multiple of 2^-100 (HUGEINT), and the exact sum of such multiples as the DOUBLE. */
export const FIXED_POINT_TERM = (term: string) => `CAST((${term}) * ${FIXED_POINT} AS HUGEINT)`
export const FROM_FIXED_POINT = (sum: string) => `(${sum}::VARCHAR::DOUBLE / ${FIXED_POINT})`

/**
 * The aggregates of every concentration query over the ranked rows `r` (k, cum, s), totals `t` and quorum
 * threshold `qt`: the Gini numerator, Nakamoto counts, HHI, entropy, Theil and top-k sums, written once and shared
 * with the grouped queries (grouped.ts). Integer results leave as VARCHAR, so the two paths have one row type.
 *
 * - 'hugeint' (the fast path): cum and the total `t.th` are HUGEINT. Only for a distribution with
 *   W·(n + 1) < 2^125 (FAST_PATH), where no sum below can overflow: Σ cum <= n·W, 2·cum <= 2·W.
 * - 'bignum': cum and `t.total` are BIGNUM, for any W.
 */
export const concentrationAggregates = (path: 'hugeint' | 'bignum') => {
  const total = path === 'hugeint' ? 't.th' : 't.total'
  const quorumAmount = path === 'hugeint' ? 'qt.amount' : HUGEINT_TO_BIGNUM('qt.amount')
  const gini = path === 'hugeint' ? `2 * sum(r.cum) - (any_value(t.n) + 1) * any_value(t.th)` : `sum(r.cum + r.cum - t.total) - any_value(t.total)`
  return `    (${gini})::VARCHAR AS gini_numerator,
    min(r.k) FILTER (WHERE r.cum > ${total} - r.cum) AS nakamoto_50,
    min(r.k) FILTER (WHERE CASE WHEN qt.amount IS NOT NULL THEN r.cum > ${quorumAmount}
                           ELSE r.cum::DOUBLE / ${total}::DOUBLE > qt.q::DOUBLE / 1e18 END) AS nakamoto_quorum,
    ${ORDER_FREE_SUM('r.s * r.s')} AS hhi,
    -${ORDER_FREE_SUM('r.s * ln(r.s)')} AS entropy,
    ${ORDER_FREE_SUM('r.s * ln(r.s * t.n)')} AS theil,
    (max(r.cum) FILTER (WHERE r.k = 1))::VARCHAR AS top1,
    (max(r.cum) FILTER (WHERE r.k <= 10))::VARCHAR AS top10,
    (max(r.cum) FILTER (WHERE r.k <= (t.n + 99) // 100))::VARCHAR AS top1pct`
}

/**
 * Whether a distribution with totals `t` (n, total BIGNUM) takes the HUGEINT fast path: W·(n + 1) < 2^125, judged in
 * DOUBLE with a wide margin (2^127 is HUGEINT's limit; a DOUBLE product is off by far less than a factor of 4).
 * Real token supplies in wei (~2^90 for 10^9 tokens) over a million holders (2^20) are far inside it.
 */
export const FAST_PATH = (t: string) => `(${t}.total::DOUBLE * (${t}.n + 1) < 4.2e37)`

/**
 * The final columns of every concentration query, from the totals `t` (n, total) and the aggregates `a`: the one
 * place where the normalizations and shares are written, shared with the grouped queries (grouped.ts). Exact
 * integers reach DOUBLE through their decimal text: one correctly rounded conversion, whichever path made them.
 */
export const CONCENTRATION_COLUMNS = `  t.n AS count,
  t.total::VARCHAR AS total,
  a.gini_numerator::DOUBLE / (t.n::DOUBLE * t.total::DOUBLE) AS gini,
  a.nakamoto_50,
  a.nakamoto_quorum,
  a.hhi,
  CASE WHEN t.n = 1 THEN 1.0 WHEN t.n > 1 THEN greatest(0.0, least(1.0, (a.hhi - 1.0 / t.n) / (1.0 - 1.0 / t.n))) END
    AS hhi_normalized,
  CASE WHEN t.n > 0 THEN greatest(0.0, a.entropy) END AS entropy,
  CASE WHEN t.n = 1 THEN 0.0 WHEN t.n > 1 THEN greatest(0.0, least(1.0, a.entropy / ln(t.n))) END AS entropy_normalized,
  CASE WHEN t.n > 0 THEN greatest(0.0, a.theil) END AS theil,
  a.top1::DOUBLE / t.total::DOUBLE AS top1_share,
  a.top10::DOUBLE / t.total::DOUBLE AS top10_share,
  a.top1pct::DOUBLE / t.total::DOUBLE AS top1pct_share`

/**
 * The totals `tot` (n, total BIGNUM, th HUGEINT or NULL, fast) of the entities `d`: W summed in HUGEINT when that
 * cannot overflow and in BIGNUM only otherwise (EXACT_SUM): the BIGNUM sum over a million balances cost ~70 ms of every
 * refresh. Every w here is > 0. The total is the same BIGNUM either way, so everything computed from it is too.
 * concentration.test.ts covers both sides of the bound, and a W beyond HUGEINT (with the bound moved past it, that
 * test fails with the overflow error).
 */
const GUARDED_TOTAL = `tot AS (
  SELECT n, total, TRY_CAST(total::VARCHAR AS HUGEINT) AS th, ${FAST_PATH('x')} AS fast
  FROM (SELECT (SELECT count(*) FROM d) AS n, ${EXACT_SUM('w', 'd', 'true')} AS total) x
),`

export function concentrationSqlOver(distSelect?: string, options: {lorenz?: boolean} = {}): string {
  const source = distSelect === undefined ? '' : `dist AS (${distSelect}),`
  // Only CONCENTRATION_WITH_LORENZ_SQL has these: CONCENTRATION_SQL's text (and so its SQL digest) does not carry them.
  const lorenzFast = options.lorenz ? `,\n${LORENZ_INNER_RANKS}` : ''
  const lorenzWide = options.lorenz ? `,\n    NULL AS lorenz_k,\n    NULL AS lorenz_cum` : ''
  const lorenzColumns = options.lorenz ? `,\n  t.fast AS lorenz_fast,\n${LORENZ_INNER_POINTS},\n  t.th::VARCHAR::DOUBLE / t.total::DOUBLE AS lorenz_last_y` : ''
  return `
WITH ${source}
-- NOT MATERIALIZED: DuckDB would otherwise copy the rows once more, since d is read three times (a third of the
-- query's time at a million balances); each reader scans dist through the filter instead.
d AS NOT MATERIALIZED (SELECT entity, w FROM dist WHERE w > 0),
${GUARDED_TOTAL}
quorum_threshold AS (
  -- floor(W * q / 10^18), exact without overflow since q <= 10^18; NULL without q or when W exceeds HUGEINT
  SELECT $quorum_wad::HUGEINT AS q,
    th // 1000000000000000000 * $quorum_wad::HUGEINT + (th % 1000000000000000000) * $quorum_wad::HUGEINT // 1000000000000000000 AS amount
  FROM tot
),
-- The fast path: everything in HUGEINT (see FAST_PATH); ties need no order (no figure depends on it).
-- Each window sorts the weights alone; the totals join its output (a BIGNUM total carried through the sort of a
-- million rows cost more than the sort itself).
ranked_fast AS (
  SELECT r.k, r.cum, r.w::DOUBLE / t.total::DOUBLE AS s
  FROM (
    SELECT w, row_number() OVER top AS k, sum(w) OVER top_rows AS cum FROM d WHERE (SELECT fast FROM tot)
    WINDOW top AS (ORDER BY w DESC), top_rows AS (top ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  ) r, tot t
),
-- Otherwise D_k in BIGNUM: a HUGEINT window sum cast per row when W fits in HUGEINT, else a BIGNUM window sum.
ranked_wide AS (
  SELECT r.k, r.cum, r.w::DOUBLE / t.total::DOUBLE AS s
  FROM (
    SELECT w, row_number() OVER top AS k, ${HUGEINT_TO_BIGNUM('sum(w) OVER top_rows')} AS cum
    FROM d WHERE (SELECT NOT fast AND total <= ${HUGEINT_MAX} FROM tot)
    WINDOW top AS (ORDER BY w DESC), top_rows AS (top ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    UNION ALL
    SELECT w, row_number() OVER wide, sum(${HUGEINT_TO_BIGNUM('w')}) OVER wide_rows
    FROM d WHERE (SELECT total > ${HUGEINT_MAX} FROM tot)
    WINDOW wide AS (ORDER BY w DESC), wide_rows AS (wide ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  ) r, tot t
),
agg AS (
  SELECT
${concentrationAggregates('hugeint')}${lorenzFast}
  FROM ranked_fast r, tot t, quorum_threshold qt
  HAVING (SELECT fast FROM tot)
  UNION ALL
  SELECT
${concentrationAggregates('bignum')}${lorenzWide}
  FROM ranked_wide r, tot t, quorum_threshold qt
  HAVING NOT (SELECT fast FROM tot)
)
SELECT
${CONCENTRATION_COLUMNS}${lorenzColumns}
FROM tot t, agg a
`
}

/**
 * The Lorenz points strictly between (0, 0) and (1, ·) that LORENZ_SQL keeps, read off the fast path's descending
 * ranking instead of a second (ascending) sort of the distribution: the ascending cumulative sum at position
 * i = n − k is W − D_k, exactly (both are sums of the sorted values, whatever the order of ties), so each point is
 * the same integer, converted to DOUBLE by the same expressions as LORENZ_SQL (x = i / n, y = cum::VARCHAR::DOUBLE /
 * total::DOUBLE), and the kept positions follow the same rule with $max_points.
 *
 * The aggregates collect the kept ranks and their cumulative sums as plain columns; the points are made from those
 * ~100 pairs afterwards (LORENZ_INNER_POINTS). DuckDB computes an aggregate's argument for every row before its
 * FILTER drops the row, so building the point inside the aggregate (a VARCHAR conversion per row) cost ~160 ms of
 * every refresh at a million balances, for 99 points.
 */
const LORENZ_KEPT = `r.k < t.n AND ($max_points::BIGINT IS NULL OR t.n + 1 <= $max_points::BIGINT
        OR ((t.n - r.k) * ($max_points::BIGINT - 1)) // t.n <> ((t.n - r.k - 1) * ($max_points::BIGINT - 1)) // t.n)`
const LORENZ_INNER_RANKS = `    list(r.k ORDER BY r.k DESC) FILTER (WHERE ${LORENZ_KEPT}) AS lorenz_k,
    list(r.cum ORDER BY r.k DESC) FILTER (WHERE ${LORENZ_KEPT}) AS lorenz_cum`
/** The kept points from the ranks and cumulative sums of LORENZ_INNER_RANKS (NULL on the BIGNUM path). */
export const LORENZ_INNER_POINTS = `  list_transform(list_zip(a.lorenz_k, a.lorenz_cum),
    p -> struct_pack(x := (t.n - p[1])::DOUBLE / t.n, y := (t.th - p[2])::VARCHAR::DOUBLE / t.total::DOUBLE)) AS lorenz_inner`

/** All concentration metrics of the caller's `dist(entity, w)` in one row. Parameter: $quorum_wad (VARCHAR|NULL). */
export const CONCENTRATION_SQL = concentrationSqlOver()

/**
 * For the suite's token distributions: CONCENTRATION_SQL's columns plus the Lorenz curve of LORENZ_SQL, from one sort
 * of the distribution instead of two (a million balances: each sort ~0.7–1.7 s on 2 cores). On the fast path (any real
 * token) `lorenz_inner` holds the points between the first and the last and `lorenz_last_y` the last point's y; on
 * the BIGNUM path `lorenz_inner` is NULL and the caller runs LORENZ_SQL. readConcentrationWithLorenz assembles the
 * curve; the tests check it equals LORENZ_SQL's, point for point, and the metrics equal CONCENTRATION_SQL's. The
 * stored values still cite CONCENTRATION_SQL (their definition, the one the reproduce command exports).
 * Parameters: $quorum_wad (VARCHAR|NULL), $max_points (integer >= 2, or NULL for all points).
 */
export const CONCENTRATION_WITH_LORENZ_SQL = concentrationSqlOver(undefined, {lorenz: true})

/**
 * The Lorenz curve in a CONCENTRATION_WITH_LORENZ_SQL row, or undefined when the row took the BIGNUM path (then
 * LORENZ_SQL computes it).
 */
export function readLorenzOfConcentration(row: Row): LorenzPoint[] | undefined {
  if (readInt(row, 'count') === 0) return []
  if (!readBoolean(row, 'lorenz_fast')) return undefined
  const inner = row.lorenz_inner ?? []
  if (!Array.isArray(inner)) throw new Error(`lorenz_inner: expected a list, got ${JSON.stringify(inner)}`)
  const points: LorenzPoint[] = [{x: 0, y: 0}]
  for (const p of inner) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error(`Lorenz point: expected a struct, got ${JSON.stringify(p)}`)
    points.push(readLorenzPoint(p))
  }
  const lastY = readNumberOrNull(row, 'lorenz_last_y')
  if (lastY === null) throw new Error('Lorenz curve without its last point')
  points.push({x: 1, y: lastY})
  return points
}

function readLorenzPoint(row: Row): LorenzPoint {
  const x = readNumberOrNull(row, 'x')
  const y = readNumberOrNull(row, 'y')
  if (x === null || y === null) throw new Error('Lorenz point with NULL coordinate')
  return {x, y}
}

/**
 * Lorenz curve of `dist`: (0, 0), then one point per entity from the smallest (w ASC; ties need no rule):
 * x = i / n, y = D_i / W with D_i the exact cumulative sum; the last point is (1, 1). With $max_points (an
 * integer >= 2, or NULL for all points) and n + 1 > max_points, exactly max_points points are kept: the
 * first point at or after each of the evenly spaced positions j·n/(max_points − 1), j = 0 … max_points − 1
 * (so (0, 0) and (1, 1) are always kept). No rows for an empty set.
 */
export const LORENZ_SQL = `
WITH d AS (SELECT entity, w FROM dist WHERE w > 0),
tot AS (SELECT count(*) AS n, ${EXACT_SUM('w', 'd', 'true')} AS total FROM d),
params AS (SELECT $max_points::BIGINT AS m),
-- D_i in HUGEINT when W fits (no partial sum can overflow), else in BIGNUM; only the kept points leave, as text.
-- Ties need no order: the cumulative sum at each position depends on the sorted values only.
points AS (
  SELECT row_number() OVER up AS i, sum(d.w) OVER up_rows AS cum
  FROM d, tot t WHERE t.total <= ${HUGEINT_MAX}
  WINDOW up AS (ORDER BY d.w ASC), up_rows AS (up ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
points_wide AS (
  SELECT row_number() OVER wide AS i, sum(${HUGEINT_TO_BIGNUM('d.w')}) OVER wide_rows AS cum
  FROM d, tot t WHERE t.total > ${HUGEINT_MAX}
  WINDOW wide AS (ORDER BY d.w ASC), wide_rows AS (wide ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
kept AS (
  SELECT 0::BIGINT AS i, '0' AS cum
  UNION ALL
  SELECT p.i, p.cum::VARCHAR FROM (SELECT * FROM points UNION ALL SELECT i, NULL FROM points_wide WHERE false) p, tot t, params
  WHERE params.m IS NULL OR t.n + 1 <= params.m OR (p.i * (params.m - 1)) // t.n <> ((p.i - 1) * (params.m - 1)) // t.n
  UNION ALL
  SELECT p.i, p.cum::VARCHAR FROM points_wide p, tot t, params
  WHERE params.m IS NULL OR t.n + 1 <= params.m OR (p.i * (params.m - 1)) // t.n <> ((p.i - 1) * (params.m - 1)) // t.n
)
SELECT k.i::DOUBLE / t.n AS x, k.cum::DOUBLE / t.total::DOUBLE AS y
FROM kept k, tot t
WHERE t.n > 0
ORDER BY k.i
`

export function readConcentration(row: Row): ConcentrationResult {
  return {
    count: readInt(row, 'count'),
    total: readIntegerString(row, 'total'),
    gini: readNumberOrNull(row, 'gini'),
    nakamoto50: readIntOrNull(row, 'nakamoto_50'),
    nakamotoQuorum: readIntOrNull(row, 'nakamoto_quorum'),
    hhi: readNumberOrNull(row, 'hhi'),
    hhiNormalized: readNumberOrNull(row, 'hhi_normalized'),
    entropy: readNumberOrNull(row, 'entropy'),
    entropyNormalized: readNumberOrNull(row, 'entropy_normalized'),
    theil: readNumberOrNull(row, 'theil'),
    top1Share: readNumberOrNull(row, 'top1_share'),
    top10Share: readNumberOrNull(row, 'top10_share'),
    top1PctShare: readNumberOrNull(row, 'top1pct_share'),
  }
}

export function concentrationParams(options: ConcentrationOptions): { quorum_wad: string | null } {
  const { quorumShare } = options
  return { quorum_wad: quorumShare === undefined ? null : shareToWad(quorumShare, 'quorumShare').toString() }
}

/** Runs CONCENTRATION_SQL over the caller's `dist` relation. */
export async function runConcentration(conn: DuckDBConnection, options: ConcentrationOptions = {}): Promise<ConcentrationResult> {
  return readConcentration(await queryOne(conn, CONCENTRATION_SQL, concentrationParams(options)))
}

/** Runs LORENZ_SQL; `maxPoints` (integer >= 2) caps the number of points, undefined keeps them all. */
export async function runLorenz(conn: DuckDBConnection, maxPoints?: number): Promise<LorenzPoint[]> {
  if (maxPoints !== undefined && (!Number.isSafeInteger(maxPoints) || maxPoints < 2)) {
    throw new RangeError(`maxPoints must be an integer >= 2, got ${maxPoints}`)
  }
  const rows = await queryRows(conn, LORENZ_SQL, { max_points: maxPoints ?? null })
  return rows.map(readLorenzPoint)
}
