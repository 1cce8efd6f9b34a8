/**
 * Concentration of a weight distribution: who holds how much of something (voting power, validations, models).
 *
 * Input: a relation `dist(entity VARCHAR, w HUGEINT)` defined by the caller (table, temp table or view), one row
 * per entity. An ENTITY is a distinct `entity` value with w > 0; rows with w <= 0 are excluded (a zero balance
 * is not a holder). Let n = number of entities, W = Σ w (exact), s_i = w_i / W, entities ranked by
 * (w DESC, entity ASC) — ties broken by name so every result is deterministic.
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
 * Exactness. Sums are exact: Σ and the Gini numerator are BIGNUM (arbitrary precision); the cumulative sums D_k
 * are HUGEINT window sums when W fits in HUGEINT (then no partial sum can overflow) and BIGNUM window sums
 * otherwise (two UNION ALL branches, only one of which has rows; the BIGNUM window is ~6× slower). Plain `sum()`
 * over HUGEINT is not relied on: in DuckDB 1.5 it can wrap around silently on overflow. A ratio is formed in
 * DOUBLE only after its numerator and denominator are exact, so Gini and the top shares carry one rounding
 * each (relative error ~1e-16). The Nakamoto comparisons are exact integer comparisons: D_k > W − D_k, and
 * D_k > floor(W · q / 10^18) with q the quorum share as an 18-decimal fixed-point integer; that floor is computed
 * in HUGEINT, so when W exceeds the HUGEINT range (> 1.7e38, far beyond any real token supply in wei) the
 * quorum comparison falls back to DOUBLE. HHI, entropy and Theil are sums of DOUBLE terms (Kahan-summed with
 * fsum); their rounding residue is clamped to the mathematical range (HHI_norm and entropy_norm in [0, 1],
 * entropy and Theil ≥ 0; note that DuckDB's greatest/least skip NULLs, hence the CASE guards).
 *
 * (BIGNUM caveats found in DuckDB 1.5.6, avoided here: a BIGNUM → HUGEINT cast fails for any non-zero value,
 * so it goes through VARCHAR; comparing `column::BIGNUM` with a BIGNUM constant fails for the same reason;
 * BIGNUM multiplication and division return DOUBLE.)
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import {
  queryOne, queryRows, readInt, readIntOrNull, readIntegerString, readNumberOrNull, shareToWad, type Row,
} from './sql-values'

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
 * The aggregates of every concentration query over the ranked rows `r` (k, cum, s), totals `t` and quorum
 * threshold `qt`: the Gini numerator, Nakamoto counts, HHI, entropy, Theil and top-k sums, written once and shared
 * with the grouped queries (grouped.ts).
 */
export const CONCENTRATION_AGGREGATES = `    sum(r.cum + r.cum - t.total) - any_value(t.total) AS gini_numerator,
    min(r.k) FILTER (WHERE r.cum > t.total - r.cum) AS nakamoto_50,
    min(r.k) FILTER (WHERE CASE WHEN qt.amount IS NOT NULL THEN r.cum > qt.amount
                           ELSE r.cum::DOUBLE / t.total::DOUBLE > qt.q::DOUBLE / 1e18 END) AS nakamoto_quorum,
    fsum(r.s * r.s) AS hhi,
    -fsum(r.s * ln(r.s)) AS entropy,
    fsum(r.s * ln(r.s * t.n)) AS theil,
    max(r.cum) FILTER (WHERE r.k = 1) AS top1,
    max(r.cum) FILTER (WHERE r.k <= 10) AS top10,
    max(r.cum) FILTER (WHERE r.k <= (t.n + 99) // 100) AS top1pct`

/**
 * The final columns of every concentration query, from the totals `t` (n, total) and the aggregates `a`: the one
 * place where the normalizations and shares are written, shared with the grouped queries (grouped.ts).
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

export function concentrationSqlOver(distSelect?: string): string {
  const source = distSelect === undefined ? '' : `dist AS (${distSelect}),`
  return `
WITH ${source}
d AS (SELECT entity, w FROM dist WHERE w > 0),
tot AS (SELECT count(*) AS n, coalesce(sum(w::BIGNUM), 0::BIGNUM) AS total FROM d),
quorum AS (
  SELECT $quorum_wad::HUGEINT AS q, TRY_CAST(tot.total::VARCHAR AS HUGEINT) AS h FROM tot
),
quorum_threshold AS (
  -- floor(W * q / 10^18), exact without overflow since q <= 10^18; NULL without q or when W exceeds HUGEINT
  SELECT q, h // 1000000000000000000 * q + (h % 1000000000000000000) * q // 1000000000000000000 AS amount
  FROM quorum
),
ranked AS (
  -- D_k: the window sum runs in HUGEINT (fast) when W fits, else in BIGNUM (about 6× slower); either way exact
  SELECT d.w, row_number() OVER top AS k, (sum(d.w) OVER top_rows)::BIGNUM AS cum, d.w::DOUBLE / t.total::DOUBLE AS s
  FROM d, tot t WHERE t.total <= ${HUGEINT_MAX}
  WINDOW top AS (ORDER BY d.w DESC, d.entity ASC), top_rows AS (top ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  UNION ALL
  SELECT d.w, row_number() OVER wide, sum(d.w::BIGNUM) OVER wide_rows, d.w::DOUBLE / t.total::DOUBLE
  FROM d, tot t WHERE t.total > ${HUGEINT_MAX}
  WINDOW wide AS (ORDER BY d.w DESC, d.entity ASC), wide_rows AS (wide ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
agg AS (
  SELECT
${CONCENTRATION_AGGREGATES}
  FROM ranked r, tot t, quorum_threshold qt
)
SELECT
${CONCENTRATION_COLUMNS}
FROM tot t, agg a
`
}

/** All concentration metrics of the caller's `dist(entity, w)` in one row. Parameter: $quorum_wad (VARCHAR|NULL). */
export const CONCENTRATION_SQL = concentrationSqlOver()

/**
 * Lorenz curve of `dist`: (0, 0), then one point per entity from the smallest (w ASC, entity ASC):
 * x = i / n, y = D_i / W with D_i the exact cumulative sum; the last point is (1, 1). With $max_points (an
 * integer >= 2, or NULL for all points) and n + 1 > max_points, exactly max_points points are kept: the
 * first point at or after each of the evenly spaced positions j·n/(max_points − 1), j = 0 … max_points − 1
 * (so (0, 0) and (1, 1) are always kept). No rows for an empty set.
 */
export const LORENZ_SQL = `
WITH d AS (SELECT entity, w FROM dist WHERE w > 0),
tot AS (SELECT count(*) AS n, sum(w::BIGNUM) AS total FROM d),
points AS (
  SELECT 0::BIGINT AS i, 0::BIGNUM AS cum
  UNION ALL
  SELECT row_number() OVER up, (sum(d.w) OVER up_rows)::BIGNUM
  FROM d, tot t WHERE t.total <= ${HUGEINT_MAX}
  WINDOW up AS (ORDER BY d.w ASC, d.entity ASC), up_rows AS (up ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  UNION ALL
  SELECT row_number() OVER wide, sum(d.w::BIGNUM) OVER wide_rows
  FROM d, tot t WHERE t.total > ${HUGEINT_MAX}
  WINDOW wide AS (ORDER BY d.w ASC, d.entity ASC), wide_rows AS (wide ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
params AS (SELECT $max_points::BIGINT AS m)
SELECT p.i::DOUBLE / t.n AS x, p.cum::DOUBLE / t.total::DOUBLE AS y
FROM points p, tot t, params
WHERE t.n > 0
  AND (params.m IS NULL OR t.n + 1 <= params.m OR p.i = 0
       OR (p.i * (params.m - 1)) // t.n <> ((p.i - 1) * (params.m - 1)) // t.n)
ORDER BY p.i
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
  return rows.map((row) => {
    const x = readNumberOrNull(row, 'x')
    const y = readNumberOrNull(row, 'y')
    if (x === null || y === null) throw new Error('Lorenz point with NULL coordinate')
    return { x, y }
  })
}
