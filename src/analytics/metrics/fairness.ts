/**
 * Contribution fairness: are rewards proportional to validated contributions?
 *
 * Input: relations defined by the caller
 *   contrib(contributor VARCHAR, value HUGEINT)  validated contribution value (units × score, accepted only)
 *   reward(recipient VARCHAR, amount HUGEINT)    reward paid
 * Rows with value/amount <= 0 are ignored; rows of one entity are summed. The ENTITIES are the union of
 * contributors and recipients that remain (an entity that contributed and got nothing, or got paid without
 * contributing, is in it with a 0 on the other side). Let c_i, r_i be an entity's totals, C = Σ c, R = Σ r,
 * p_i = c_i / C (contribution share), q_i = r_i / R (reward share).
 *
 *   fairness.tvd                 total variation distance ½ Σ |p_i − q_i| (0 = perfectly proportional,
 *                                1 = rewards went only to non-contributors); NULL when C = 0 or R = 0
 *   fairness.gini_rewards        Gini of r over all entities, zeros included (a contributor paid nothing counts);
 *                                NULL when R = 0
 *   fairness.gini_contributions  Gini of c over all entities, zeros included; NULL when C = 0
 *   fairness.spearman            Spearman rank correlation of c and r over all entities: Pearson correlation of
 *                                their ranks, ties given the average rank; NULL with < 2 entities or when c or r
 *                                is constant (no ranking)
 *   fairness.over_rewarded       entities with r > 0 and (c = 0 or q > 2 p)
 *   fairness.under_rewarded      entities with c > 0 and (r = 0 or q < p / 2)
 *
 * The 2× and ½× comparisons are made on DOUBLE shares with a relative margin of 1e-9 (q > 2p(1 + 1e-9),
 * q < ½p(1 − 1e-9)): shares computed in floating point can land one rounding step on either side of an exact
 * 2× ratio, and the margin makes an exact 2× (common in scripted reward schedules) reliably NOT over-rewarded.
 * FAIRNESS_TABLE_SQL lists each entity with its amounts, shares, q/p and status.
 *
 * How it is computed. Ranks are DOUBLED average ranks, integers: a_i = rank_min + rank_max, the first and last
 * position (ascending, from 1) of the entity's tie group; b_i likewise for r. With them:
 *   gini_contributions = G_c / (n C) with G_c = Σ_i c_i a_i − (n + 1) C; this is the same integer as the
 *       Σ_k (2 D_k − C) − C of concentration.ts (D_k the sum of the k largest c), since Σ_i c_i a_i = 2 Σ_k D_k:
 *       the entity at position j from the largest is in D_j … D_n, n + 1 − j sums, its position from the smallest;
 *       tied entities have equal c, so giving each the average of their positions, a_i / 2, leaves the sum as it
 *       is; gini_rewards likewise with r and R
 *   spearman = (n Σab − Σa Σb) / √((n Σa² − (Σa)²)(n Σb² − (Σb)²)), Pearson's formula on the doubled ranks (the
 *       doubling cancels)
 *
 * Exactness. Amounts and the totals C, R are exact (BIGNUM sums); each share is one DOUBLE division of exact amounts;
 * G_c and G_r are exact integers divided once in DOUBLE. The Spearman sums are exact integers (BIGINT products
 * summed in HUGEINT; n Σab ≤ 4n⁴ fits HUGEINT up to n ≈ 10^9), each rounded once to DOUBLE, correctly (through its
 * decimal text), so the value does not depend on the order in which rows are aggregated: DuckDB's corr() gave
 * different last digits from run to run under parallel execution, this gives the same double every time, and a
 * reader can recompute it bit for bit (reference-fairness.ts: spearmanFromRankSums). TVD is a sum of DOUBLE terms
 * |p − q| added exactly in fixed point (ORDER_FREE_SUM, concentration.ts: each term rounded to a multiple of 2^-100,
 * the multiples added in HUGEINT), so it too is the same double on every run and in any row order. (Before job
 * version 6 it was an fsum in entity order: as reproducible, but the ordered aggregate sorted every scope's entities
 * by address, ~0.1 s of a refresh's per-model query; an unordered fsum changed its last digit between runs.)
 *
 * Two paths give the same integers and doubles, chosen per scope (per group in grouped-fairness.ts):
 *   narrow  2·max(n, 1)·C and 2·max(n, 1)·R fit in HUGEINT (any real amounts in wei): amounts are cast to HUGEINT
 *           (through VARCHAR: DuckDB 1.5's BIGNUM → HUGEINT cast fails), the rank windows sort HUGEINT, and every
 *           product c_i a_i ≤ 2n·C and every partial sum of the terms c_i a_i − C lies within ±2n·C, so the HUGEINT
 *           sums cannot overflow (plain sum() over HUGEINT is not relied on otherwise: in DuckDB 1.5 it can wrap
 *           around silently); the doubles are formed from the same BIGNUM values as on the wide path
 *   wide    otherwise: amounts stay BIGNUM and G_c = Σ_k (2 D_k − C) − C from BIGNUM window sums (BIGNUM
 *           multiplication returns DOUBLE in DuckDB 1.5, so c_i a_i cannot be formed there), as before the
 *           narrow path existed
 * The two branches are UNION ALL parts of one query, only one of which has rows for a scope.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { ORDER_FREE_SUM } from './concentration'
import {
  queryOne, queryRows, readInt, readIntegerString, readNumberOrNull, readString, type Row,
} from './sql-values'

export type FairnessStatus = 'over' | 'under' | 'fair'

export interface FairnessResult {
  entities: number
  contributionTotal: string
  rewardTotal: string
  tvd: number | null
  giniRewards: number | null
  giniContributions: number | null
  spearman: number | null
  overRewarded: number
  underRewarded: number
}

export interface FairnessRow {
  entity: string
  contribution: string
  reward: string
  contributionShare: number | null
  rewardShare: number | null
  /** q / p; NULL when p = 0 or there are no rewards */
  rewardToContributionRatio: number | null
  status: FairnessStatus
}

/** Over/under margin (see the module comment). */
export const FAIRNESS_MARGIN = 1e-9

/** An entity's status from its shares p, q and amounts c, r (alias s); the one place the 2× / ½× rule is written. */
export const FAIRNESS_STATUS = `    CASE WHEN s.r > 0 AND (s.c = 0 OR s.q > 2 * s.p * (1 + $margin::DOUBLE)) THEN 'over'
         WHEN s.c > 0 AND (s.r = 0 OR s.q < 0.5 * s.p * (1 - $margin::DOUBLE)) THEN 'under'
         ELSE 'fair' END AS status`

/** HUGEINT's largest value, as a HUGEINT (concentration.ts's HUGEINT_MAX is the same number as a BIGNUM). */
const HUGEINT_LIMIT = "'170141183460469231731687303715884105727'::HUGEINT"

/**
 * The totals `tot` with their HUGEINT copies c_h, r_h (NULL beyond HUGEINT) and the path flag `narrow`: true when
 * 2·max(n, 1)·C and 2·max(n, 1)·R both fit in HUGEINT (see the module comment). Shared with grouped-fairness.ts.
 */
export const FAIRNESS_PATHS = `
  SELECT t.*,
    coalesce(t.c_h <= ${HUGEINT_LIMIT} // (2 * greatest(t.n, 1)) AND t.r_h <= ${HUGEINT_LIMIT} // (2 * greatest(t.n, 1)), false)
      AS narrow
  FROM (SELECT *, TRY_CAST(c_total::VARCHAR AS HUGEINT) AS c_h, TRY_CAST(r_total::VARCHAR AS HUGEINT) AS r_h FROM tot) t`

const JUDGED = `
WITH c AS (SELECT contributor AS entity, sum(value::BIGNUM) AS c FROM contrib WHERE value > 0 GROUP BY contributor),
r AS (SELECT recipient AS entity, sum(amount::BIGNUM) AS r FROM reward WHERE amount > 0 GROUP BY recipient),
u AS (
  SELECT coalesce(c.entity, r.entity) AS entity, coalesce(c.c, 0::BIGNUM) AS c, coalesce(r.r, 0::BIGNUM) AS r
  FROM c FULL OUTER JOIN r ON c.entity = r.entity
),
tot AS (SELECT count(*) AS n, coalesce(sum(c), 0::BIGNUM) AS c_total, coalesce(sum(r), 0::BIGNUM) AS r_total FROM u),
paths AS (${FAIRNESS_PATHS}
),
shares AS (
  SELECT u.entity, u.c, u.r, t.narrow, t.c_h, t.r_h,
    CASE WHEN t.c_total > 0 THEN u.c::DOUBLE / t.c_total::DOUBLE END AS p,
    CASE WHEN t.r_total > 0 THEN u.r::DOUBLE / t.r_total::DOUBLE END AS q
  FROM u, paths t
),
judged AS (
  SELECT s.*,
${FAIRNESS_STATUS}
  FROM shares s
)`

/**
 * The aggregates of the fairness summary over the ranked rows `x` (p, q, status, doubled ranks ac and ar, Gini
 * terms gc/gr: HUGEINT columns _h on the narrow path, BIGNUM columns _w on the wide one) and the totals `t`: written
 * once, shared with the grouped query (grouped-fairness.ts).
 */
export const FAIRNESS_AGGREGATES = `    0.5 * ${ORDER_FREE_SUM('abs(x.p - x.q)')} AS tvd,
    coalesce(sum(x.gc_h)::BIGNUM, sum(x.gc_w)) - any_value(t.c_total) AS gini_c_numerator,
    coalesce(sum(x.gr_h)::BIGNUM, sum(x.gr_w)) - any_value(t.r_total) AS gini_r_numerator,
    count(x.entity) * sum(x.ac * x.ar) - sum(x.ac) * sum(x.ar) AS rank_cov,
    count(x.entity) * sum(x.ac * x.ac) - sum(x.ac) * sum(x.ac) AS rank_var_c,
    count(x.entity) * sum(x.ar * x.ar) - sum(x.ar) * sum(x.ar) AS rank_var_r,
    count(*) FILTER (WHERE x.status = 'over') AS over_rewarded,
    count(*) FILTER (WHERE x.status = 'under') AS under_rewarded`

/**
 * The final columns of the fairness summary, from the totals `t` and the aggregates `a`: the one place its nulls and
 * clamps are written, shared with the grouped query (grouped-fairness.ts). The Spearman integers become DOUBLE
 * through their decimal text: that cast rounds correctly, DuckDB's HUGEINT → DOUBLE cast can be one ulp off.
 */
export const FAIRNESS_COLUMNS = `  t.n AS entities,
  t.c_total::VARCHAR AS contribution_total,
  t.r_total::VARCHAR AS reward_total,
  CASE WHEN t.c_total > 0 AND t.r_total > 0 AND a.tvd IS NOT NULL THEN least(1.0, a.tvd) END AS tvd,
  CASE WHEN t.r_total > 0 THEN a.gini_r_numerator::DOUBLE / (t.n::DOUBLE * t.r_total::DOUBLE) END AS gini_rewards,
  CASE WHEN t.c_total > 0 THEN a.gini_c_numerator::DOUBLE / (t.n::DOUBLE * t.c_total::DOUBLE) END AS gini_contributions,
  CASE WHEN a.rank_var_c > 0 AND a.rank_var_r > 0 THEN greatest(-1.0, least(1.0,
    a.rank_cov::VARCHAR::DOUBLE / sqrt(a.rank_var_c::VARCHAR::DOUBLE * a.rank_var_r::VARCHAR::DOUBLE))) END AS spearman,
  a.over_rewarded,
  a.under_rewarded`

/** Fairness summary over `contrib` and `reward`. Parameter: $margin (FAIRNESS_MARGIN). One row. */
export const FAIRNESS_SQL = `${JUDGED},
ranked AS (
  -- narrow path: amounts in HUGEINT, doubled average ranks a = rank() + count(*) (ties: first + last position),
  -- Gini terms c·a − C
  SELECT x.entity, x.p, x.q, x.status, x.ac, x.ar,
    x.c * x.ac - x.c_h AS gc_h, x.r * x.ar - x.r_h AS gr_h, NULL::BIGNUM AS gc_w, NULL::BIGNUM AS gr_w
  FROM (
    SELECT h.*, rank() OVER wc + count(*) OVER wc AS ac, rank() OVER wr + count(*) OVER wr AS ar
    FROM (
      SELECT j.entity, j.p, j.q, j.status, j.c::VARCHAR::HUGEINT AS c, j.r::VARCHAR::HUGEINT AS r, j.c_h, j.r_h
      FROM judged j WHERE j.narrow
    ) h
    WINDOW wc AS (ORDER BY h.c), wr AS (ORDER BY h.r)
  ) x
  UNION ALL
  -- wide path: amounts in BIGNUM, Gini terms 2 D_k − C with D_k the cumulative sum from the largest
  SELECT x.entity, x.p, x.q, x.status, x.ac, x.ar, NULL, NULL, x.dc + x.dc - x.c_total, x.dr + x.dr - x.r_total
  FROM (
    SELECT j.entity, j.p, j.q, j.status, t.c_total, t.r_total,
      rank() OVER wc + count(*) OVER wc AS ac, rank() OVER wr + count(*) OVER wr AS ar,
      sum(j.c) OVER dc AS dc, sum(j.r) OVER dr AS dr
    FROM judged j, tot t WHERE NOT j.narrow
    WINDOW wc AS (ORDER BY j.c), wr AS (ORDER BY j.r),
      dc AS (ORDER BY j.c DESC, j.entity ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      dr AS (ORDER BY j.r DESC, j.entity ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  ) x
),
agg AS (
  SELECT
${FAIRNESS_AGGREGATES}
  FROM ranked x, paths t
)
SELECT
${FAIRNESS_COLUMNS}
FROM tot t, agg a
`

/**
 * One row per entity, ordered by contribution DESC, reward DESC, entity ASC; parameters $margin
 * (FAIRNESS_MARGIN), $limit (>= 0) and $offset (>= 0).
 */
export const FAIRNESS_TABLE_SQL = `${JUDGED}
SELECT
  entity,
  c::VARCHAR AS contribution,
  r::VARCHAR AS reward,
  p AS contribution_share,
  q AS reward_share,
  CASE WHEN p > 0 THEN q / p END AS reward_ratio,
  status
FROM judged
ORDER BY c DESC, r DESC, entity ASC
LIMIT $limit OFFSET $offset
`

/**
 * The columns of fairness_entry (Postgres) that FAIRNESS_COPY_LINE fills, in its order, after the contributor that
 * ends the row's id (results.ts writes `<scope>/<block>/` before it and the scope's columns after the line).
 */
export const FAIRNESS_LINE_COLUMNS = [
  'contributor', 'contribution_value', 'contribution_share', 'reward_amount', 'reward_share', 'ratio', 'verdict',
] as const

/** COPY text format escaping of a VARCHAR (backslash, tab, newline, carriage return). */
const copyEscaped = (x: string) => `replace(replace(replace(replace(${x}, '\\', '\\\\'), chr(9), '\\t'), chr(10), '\\n'), chr(13), '\\r')`

/**
 * One row of the fairness table (alias j of `judged`) as a line of COPY text: the contributor (the id's last part),
 * then FAIRNESS_LINE_COLUMNS. The values are those of FAIRNESS_TABLE_SQL's row: a NULL share (no contributions, or
 * no rewards, in the scope) is stored as 0, a NULL ratio as \N (so is a ratio beyond DOUBLE, which Postgres' numeric
 * column could not take), the status as the stored verdict. DOUBLE leaves as DuckDB's shortest round-trip text, which
 * Postgres reads back as the same number (batch.test.ts checks each one).
 * Built here because 200,000 rows converted to JavaScript values one by one cost ~0.9 s a suite.
 */
const FAIRNESS_COPY_LINE = `concat_ws(chr(9), ${copyEscaped('j.entity')}, ${copyEscaped('j.entity')}, j.c::VARCHAR, coalesce(j.p, 0)::VARCHAR,
    j.r::VARCHAR, coalesce(j.q, 0)::VARCHAR, coalesce((CASE WHEN j.p > 0 AND isfinite(j.q / j.p) THEN j.q / j.p END)::VARCHAR, '\\N'),
    CASE j.status WHEN 'over' THEN 'over_rewarded' WHEN 'under' THEN 'under_rewarded' ELSE 'proportionate' END)`

/**
 * FAIRNESS_TABLE_SQL's first $limit rows (offset 0) as COPY text for fairness_entry, in the table's order: `rows`
 * and `lines` (FAIRNESS_COPY_LINE, newline-separated; NULL when there are no rows). With `grouped`, over
 * JUDGED_BY_GROUP (grouped-fairness.ts), one row per group `g` that has rows. $margin, $limit.
 */
export const fairnessCopySql = (judged: string, grouped: boolean) => `${judged}
SELECT ${grouped ? 'g, ' : ''}count(*) AS rows, string_agg(line, chr(10) ORDER BY k) AS lines
FROM (
  SELECT ${grouped ? 'j.g, ' : ''}row_number() OVER (${grouped ? 'PARTITION BY j.g ' : ''}ORDER BY j.c DESC, j.r DESC, j.entity ASC) AS k,
    ${FAIRNESS_COPY_LINE} AS line
  FROM judged j
  QUALIFY k <= $limit
)${grouped ? '\nGROUP BY g' : ''}
`

/** fairnessCopySql of this module's `contrib` and `reward`: one row. */
export const FAIRNESS_COPY_SQL = fairnessCopySql(JUDGED, false)

/** Runs FAIRNESS_SQL over the caller's `contrib` and `reward` relations. */
export async function runFairness(conn: DuckDBConnection): Promise<FairnessResult> {
  const row = await queryOne(conn, FAIRNESS_SQL, { margin: FAIRNESS_MARGIN })
  return {
    entities: readInt(row, 'entities'),
    contributionTotal: readIntegerString(row, 'contribution_total'),
    rewardTotal: readIntegerString(row, 'reward_total'),
    tvd: readNumberOrNull(row, 'tvd'),
    giniRewards: readNumberOrNull(row, 'gini_rewards'),
    giniContributions: readNumberOrNull(row, 'gini_contributions'),
    spearman: readNumberOrNull(row, 'spearman'),
    overRewarded: readInt(row, 'over_rewarded'),
    underRewarded: readInt(row, 'under_rewarded'),
  }
}

function isStatus(value: string): value is FairnessStatus {
  return value === 'over' || value === 'under' || value === 'fair'
}

/** Runs FAIRNESS_TABLE_SQL; `limit` defaults to 100 and is capped at 10,000. */
export async function runFairnessTable(
  conn: DuckDBConnection,
  page: { limit?: number; offset?: number } = {},
): Promise<FairnessRow[]> {
  const limit = page.limit ?? 100
  const offset = page.offset ?? 0
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > 10_000) throw new RangeError(`limit must be an integer in [0, 10000], got ${limit}`)
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be an integer >= 0, got ${offset}`)
  const rows = await queryRows(conn, FAIRNESS_TABLE_SQL, { margin: FAIRNESS_MARGIN, limit, offset })
  return rows.map(readFairnessRow)
}

/** One row of FAIRNESS_TABLE_SQL (or of its grouped twin) as a FairnessRow. */
export function readFairnessRow(row: Row): FairnessRow {
  const status = readString(row, 'status')
  if (!isStatus(status)) throw new Error(`unexpected fairness status ${status}`)
  return {
    entity: readString(row, 'entity'),
    contribution: readIntegerString(row, 'contribution'),
    reward: readIntegerString(row, 'reward'),
    contributionShare: readNumberOrNull(row, 'contribution_share'),
    rewardShare: readNumberOrNull(row, 'reward_share'),
    rewardToContributionRatio: readNumberOrNull(row, 'reward_ratio'),
    status,
  }
}
