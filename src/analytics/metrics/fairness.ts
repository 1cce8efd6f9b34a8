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
 * Exactness. Amounts and the totals C, R are exact (HUGEINT or BIGNUM sums, see the paths below); each share is one
 * DOUBLE division of exact amounts, each converted to DOUBLE by DuckDB's cast from its type;
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
 * Two paths give the same integers, chosen per scope (per group in grouped-fairness.ts) from the input rows before
 * anything is summed (judgedSql):
 *   narrow  2·(rows + 1)·max(C, R) < 2^126 judged in DOUBLE (any real amounts in wei), which keeps 2·max(n, 1)·C and
 *           2·max(n, 1)·R inside HUGEINT: amounts are summed in HUGEINT, the rank windows sort HUGEINT, and every
 *           product c_i a_i ≤ 2n·C and every partial sum of the terms c_i a_i − C lies within ±2n·C, so no HUGEINT
 *           sum can overflow (DuckDB 1.5 raises an error when one does); shares are HUGEINT → DOUBLE divisions
 *   wide    otherwise: amounts are summed in BIGNUM and G_c = Σ_k (2 D_k − C) − C from BIGNUM window sums (BIGNUM
 *           multiplication returns DOUBLE in DuckDB 1.5, so c_i a_i cannot be formed there); shares are BIGNUM →
 *           DOUBLE divisions. (DuckDB's HUGEINT → DOUBLE and BIGNUM → DOUBLE casts are not correctly rounded, and
 *           differ from each other in the last digit for a few values in a hundred above 2^53; a scope's data takes
 *           one path, so its shares are the same doubles on every run.)
 * The two branches are UNION ALL parts of one query, only one of which has rows for a scope.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { HUGEINT_TO_BIGNUM } from './bignum'
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

/**
 * An entity's status from its shares p, q and whether its amounts are positive, c_pos and r_pos (alias s; amounts are
 * never negative); the one place the 2× / ½× rule is written.
 */
export const FAIRNESS_STATUS = `    CASE WHEN s.r_pos AND (NOT s.c_pos OR s.q > 2 * s.p * (1 + $margin::DOUBLE)) THEN 'over'
         WHEN s.c_pos AND (NOT s.r_pos OR s.q < 0.5 * s.p * (1 - $margin::DOUBLE)) THEN 'under'
         ELSE 'fair' END AS status`

/**
 * The rows every fairness query reads, per scope (with `grouped`, per group g of group_keys over group_contrib and
 * group_reward; else over contrib and reward; with `sumsFrom`, a table holding the CTE `u` of the same inputs, the
 * per-entity sums, which two queries over the same inputs can then share): `judged` (entity, c_h/r_h HUGEINT amounts
 * on the narrow path, c_w/r_w BIGNUM on the wide one, the other pair NULL; c_pos, r_pos; shares p, q; narrow; the
 * totals ct_h, rt_h in HUGEINT on the narrow path; status) and `tot` (n, c_total, r_total in BIGNUM).
 *
 * The path is chosen from the input rows before anything is summed: narrow when 2·(rows + 1)·max(C, R), with rows the
 * positive contribution and reward rows (at least n) and C, R summed in DOUBLE (within a relative 1e-9 of the exact
 * totals), is below 8.5e37 (2^126): then 2·max(n, 1)·C and 2·max(n, 1)·R fit in HUGEINT, and so does every sum below.
 * The narrow path sums and ranks HUGEINT amounts; the wide path, BIGNUM ones. (Before job version 6 every amount was
 * summed in BIGNUM and cast to HUGEINT through its decimal text on the narrow path: at the benchmark's size those
 * BIGNUM sums, casts and conversions were half of a refresh's per-model fairness query.)
 */
export function judgedSql(grouped: boolean, sumsFrom?: string): string {
  const [contrib, reward] = grouped ? ['group_contrib', 'group_reward'] : ['contrib', 'reward']
  const g = grouped ? 'g, ' : ''
  // Whether a row's scope takes the narrow path: a join on g per group, the one row of `bound` otherwise.
  const narrowIf = (not: boolean) =>
    grouped ? `g IN (SELECT g FROM bound WHERE ${not ? 'NOT ' : ''}narrow)` : `${not ? 'NOT ' : ''}(SELECT narrow FROM bound)`
  const sums = (suffix: string, sum: (x: string) => string, not: boolean) => `
c${suffix} AS (SELECT ${g}contributor AS entity, ${sum('value')} AS c FROM ${contrib} WHERE value > 0 AND ${narrowIf(not)} GROUP BY ${g}contributor),
r${suffix} AS (SELECT ${g}recipient AS entity, ${sum('amount')} AS r FROM ${reward} WHERE amount > 0 AND ${narrowIf(not)} GROUP BY ${g}recipient),`
  const gOf = grouped ? 'coalesce(c.g, r.g) AS g, ' : ''
  const onG = grouped ? 'c.g = r.g AND ' : ''
  const inputs = (table: string, amount: string) =>
    `SELECT ${g}count(*) AS n, sum(${amount}::DOUBLE) AS a FROM ${table} WHERE ${amount} > 0${grouped ? ' GROUP BY g' : ''}`
  const bound = grouped
    ? `SELECT k.g, 2 * (coalesce(c.n, 0) + coalesce(r.n, 0) + 1) * greatest(coalesce(c.a, 0), coalesce(r.a, 0)) < 8.5e37 AS narrow
  FROM group_keys k LEFT JOIN (${inputs(contrib, 'value')}) c ON c.g = k.g LEFT JOIN (${inputs(reward, 'amount')}) r ON r.g = k.g`
    : `SELECT 2 * (c.n + r.n + 1) * greatest(coalesce(c.a, 0), coalesce(r.a, 0)) < 8.5e37 AS narrow
  FROM (${inputs(contrib, 'value')}) c, (${inputs(reward, 'amount')}) r`
  const tot = grouped
    ? `SELECT k.g, count(u.entity) AS n, coalesce(${HUGEINT_TO_BIGNUM('sum(u.c_h)')}, sum(u.c_w), 0::BIGNUM) AS c_total,
    coalesce(${HUGEINT_TO_BIGNUM('sum(u.r_h)')}, sum(u.r_w), 0::BIGNUM) AS r_total
  FROM group_keys k LEFT JOIN u ON u.g = k.g GROUP BY k.g`
    : `SELECT count(*) AS n, coalesce(${HUGEINT_TO_BIGNUM('sum(c_h)')}, sum(c_w), 0::BIGNUM) AS c_total,
    coalesce(${HUGEINT_TO_BIGNUM('sum(r_h)')}, sum(r_w), 0::BIGNUM) AS r_total FROM u`
  return `
WITH bound AS (
  ${bound}
),${sums('', (x) => `sum(${x})`, false)}${sums('_wide', (x) => `sum(${HUGEINT_TO_BIGNUM(x)})`, true)}
u AS (${sumsFrom !== undefined ? `SELECT * FROM ${sumsFrom}` : `
  SELECT ${gOf}coalesce(c.entity, r.entity) AS entity, coalesce(c.c, 0::HUGEINT) AS c_h, coalesce(r.r, 0::HUGEINT) AS r_h,
    NULL::BIGNUM AS c_w, NULL::BIGNUM AS r_w
  FROM c FULL OUTER JOIN r ON ${onG}c.entity = r.entity
  UNION ALL
  SELECT ${gOf}coalesce(c.entity, r.entity), NULL, NULL, coalesce(c.c, 0::BIGNUM), coalesce(r.r, 0::BIGNUM)
  FROM c_wide c FULL OUTER JOIN r_wide r ON ${onG}c.entity = r.entity`}
),
tot AS (
  ${tot}
),
paths AS (
  SELECT t.*, b.narrow,
    CASE WHEN b.narrow THEN TRY_CAST(t.c_total::VARCHAR AS HUGEINT) END AS ct_h,
    CASE WHEN b.narrow THEN TRY_CAST(t.r_total::VARCHAR AS HUGEINT) END AS rt_h
  FROM tot t ${grouped ? 'JOIN bound b ON b.g = t.g' : ', bound b'}
),
shares AS (
  SELECT ${grouped ? 'u.g, ' : ''}u.entity, u.c_h, u.r_h, u.c_w, u.r_w, t.narrow, t.ct_h, t.rt_h,
    coalesce(u.c_h > 0, u.c_w > 0) AS c_pos, coalesce(u.r_h > 0, u.r_w > 0) AS r_pos,
    CASE WHEN t.c_total > 0 THEN CASE WHEN t.narrow THEN u.c_h::DOUBLE / t.ct_h::DOUBLE ELSE u.c_w::DOUBLE / t.c_total::DOUBLE END END AS p,
    CASE WHEN t.r_total > 0 THEN CASE WHEN t.narrow THEN u.r_h::DOUBLE / t.rt_h::DOUBLE ELSE u.r_w::DOUBLE / t.r_total::DOUBLE END END AS q
  FROM u JOIN paths t ${grouped ? 'ON t.g = u.g' : 'ON true'}
),
judged AS (
  SELECT s.*,
${FAIRNESS_STATUS}
  FROM shares s
)`
}

const JUDGED = judgedSql(false)

/**
 * The aggregates of the fairness summary over the ranked rows `x` (p, q, status, doubled ranks ac and ar, Gini
 * terms gc/gr: HUGEINT columns _h on the narrow path, BIGNUM columns _w on the wide one) and the totals `t`: written
 * once, shared with the grouped query (grouped-fairness.ts).
 */
export const FAIRNESS_AGGREGATES = `    0.5 * ${ORDER_FREE_SUM('abs(x.p - x.q)')} AS tvd,
    coalesce(${HUGEINT_TO_BIGNUM('sum(x.gc_h)')}, sum(x.gc_w)) - any_value(t.c_total) AS gini_c_numerator,
    coalesce(${HUGEINT_TO_BIGNUM('sum(x.gr_h)')}, sum(x.gr_w)) - any_value(t.r_total) AS gini_r_numerator,
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
      SELECT j.entity, j.p, j.q, j.status, j.c_h AS c, j.r_h AS r, j.ct_h AS c_h, j.rt_h AS r_h
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
      sum(j.c_w) OVER dc AS dc, sum(j.r_w) OVER dr AS dr
    FROM judged j, tot t WHERE NOT j.narrow
    WINDOW wc AS (ORDER BY j.c_w), wr AS (ORDER BY j.r_w),
      dc AS (ORDER BY j.c_w DESC, j.entity ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      dr AS (ORDER BY j.r_w DESC, j.entity ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
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
 * The table's order, contribution DESC, reward DESC, entity ASC, over `judged` (alias prefix `a`): a scope's rows are
 * all on one path, so one of the amount columns of each pair is NULL throughout and orders nothing.
 */
const TABLE_ORDER = (a: string) => `${a}c_h DESC, ${a}c_w DESC, ${a}r_h DESC, ${a}r_w DESC, ${a}entity ASC`

/**
 * One row per entity, ordered by contribution DESC, reward DESC, entity ASC; parameters $margin
 * (FAIRNESS_MARGIN), $limit (>= 0) and $offset (>= 0).
 */
export const FAIRNESS_TABLE_SQL = `${JUDGED}
SELECT
  entity,
  coalesce(c_h::VARCHAR, c_w::VARCHAR) AS contribution,
  coalesce(r_h::VARCHAR, r_w::VARCHAR) AS reward,
  p AS contribution_share,
  q AS reward_share,
  CASE WHEN p > 0 THEN q / p END AS reward_ratio,
  status
FROM judged
ORDER BY ${TABLE_ORDER('')}
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
const FAIRNESS_COPY_LINE = `concat_ws(chr(9), ${copyEscaped('j.entity')}, ${copyEscaped('j.entity')}, coalesce(j.c_h::VARCHAR, j.c_w::VARCHAR),
    coalesce(j.p, 0)::VARCHAR, coalesce(j.r_h::VARCHAR, j.r_w::VARCHAR), coalesce(j.q, 0)::VARCHAR,
    coalesce((CASE WHEN j.p > 0 AND isfinite(j.q / j.p) THEN j.q / j.p END)::VARCHAR, '\\N'),
    CASE j.status WHEN 'over' THEN 'over_rewarded' WHEN 'under' THEN 'under_rewarded' ELSE 'proportionate' END)`

/**
 * FAIRNESS_TABLE_SQL's first $limit rows (offset 0) as COPY text for fairness_entry, in the table's order: `rows`
 * and `lines` (FAIRNESS_COPY_LINE, newline-separated; NULL when there are no rows). With `grouped`, over
 * JUDGED_BY_GROUP (grouped-fairness.ts), one row per group `g` that has rows. $margin, $limit.
 */
export const fairnessCopySql = (judged: string, grouped: boolean) => `${judged}
SELECT ${grouped ? 'g, ' : ''}count(*) AS rows, string_agg(line, chr(10) ORDER BY k) AS lines
FROM (
  SELECT ${grouped ? 'j.g, ' : ''}row_number() OVER (${grouped ? 'PARTITION BY j.g ' : ''}ORDER BY ${TABLE_ORDER('j.')}) AS k,
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
