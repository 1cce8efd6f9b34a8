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
 * Totals are exact (BIGNUM); each share is one DOUBLE division of exact amounts; the Gini numerators are exact
 * as in concentration.ts. FAIRNESS_TABLE_SQL lists each entity with its amounts, shares, q/p and status.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
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

const JUDGED = `
WITH c AS (SELECT contributor AS entity, sum(value::BIGNUM) AS c FROM contrib WHERE value > 0 GROUP BY contributor),
r AS (SELECT recipient AS entity, sum(amount::BIGNUM) AS r FROM reward WHERE amount > 0 GROUP BY recipient),
u AS (
  SELECT coalesce(c.entity, r.entity) AS entity, coalesce(c.c, 0::BIGNUM) AS c, coalesce(r.r, 0::BIGNUM) AS r
  FROM c FULL OUTER JOIN r ON c.entity = r.entity
),
tot AS (SELECT count(*) AS n, coalesce(sum(c), 0::BIGNUM) AS c_total, coalesce(sum(r), 0::BIGNUM) AS r_total FROM u),
shares AS (
  SELECT u.entity, u.c, u.r,
    CASE WHEN t.c_total > 0 THEN u.c::DOUBLE / t.c_total::DOUBLE END AS p,
    CASE WHEN t.r_total > 0 THEN u.r::DOUBLE / t.r_total::DOUBLE END AS q
  FROM u, tot t
),
judged AS (
  SELECT s.*,
${FAIRNESS_STATUS}
  FROM shares s
)`

/**
 * The final columns of the fairness summary, from the totals `t` and the aggregates `a`: the one place its nulls and
 * clamps are written, shared with the grouped query (grouped-fairness.ts).
 */
export const FAIRNESS_COLUMNS = `  t.n AS entities,
  t.c_total::VARCHAR AS contribution_total,
  t.r_total::VARCHAR AS reward_total,
  CASE WHEN t.c_total > 0 AND t.r_total > 0 AND a.tvd IS NOT NULL THEN least(1.0, a.tvd) END AS tvd,
  CASE WHEN t.r_total > 0 THEN a.gini_r_numerator::DOUBLE / (t.n::DOUBLE * t.r_total::DOUBLE) END AS gini_rewards,
  CASE WHEN t.c_total > 0 THEN a.gini_c_numerator::DOUBLE / (t.n::DOUBLE * t.c_total::DOUBLE) END AS gini_contributions,
  CASE WHEN a.spearman IS NOT NULL THEN greatest(-1.0, least(1.0, a.spearman)) END AS spearman,
  a.over_rewarded,
  a.under_rewarded`

/** Fairness summary over `contrib` and `reward`. Parameter: $margin (FAIRNESS_MARGIN). One row. */
export const FAIRNESS_SQL = `${JUDGED},
ranked AS (
  SELECT j.*,
    sum(j.c) OVER (ORDER BY j.c DESC, j.entity ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS dc,
    sum(j.r) OVER (ORDER BY j.r DESC, j.entity ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS dr,
    rank() OVER (ORDER BY j.c) + (count(*) OVER (PARTITION BY j.c) - 1) / 2.0 AS rank_c,
    rank() OVER (ORDER BY j.r) + (count(*) OVER (PARTITION BY j.r) - 1) / 2.0 AS rank_r
  FROM judged j
),
agg AS (
  SELECT
    0.5 * fsum(abs(x.p - x.q)) AS tvd,
    sum(x.dc + x.dc - t.c_total) - any_value(t.c_total) AS gini_c_numerator,
    sum(x.dr + x.dr - t.r_total) - any_value(t.r_total) AS gini_r_numerator,
    CASE WHEN count(*) >= 2 AND var_pop(x.rank_c) > 0 AND var_pop(x.rank_r) > 0 THEN corr(x.rank_c, x.rank_r) END
      AS spearman,
    count(*) FILTER (WHERE x.status = 'over') AS over_rewarded,
    count(*) FILTER (WHERE x.status = 'under') AS under_rewarded
  FROM ranked x, tot t
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
