/**
 * Insider overlap: do the largest governance holders also collect the rewards?
 *
 * Input: relations defined by the caller
 *   top_holders(entity VARCHAR)                 the top voting-power holders (the catalogue's metric uses the
 *                                               top 10 at the epoch's snapshot; duplicates ignored)
 *   reward(recipient VARCHAR, amount HUGEINT)   rewards paid (rows with amount <= 0 ignored)
 *
 *   fairness.insider_overlap_top10        number of top holders who received a positive reward
 *   fairness.insider_overlap_top10_share  that number / number of top holders; NULL without top holders
 *   fairness.insider_reward_share         rewards received by top holders / all rewards (exact sums, one DOUBLE
 *                                         division); NULL when no rewards were paid
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { HUGEINT_TO_BIGNUM } from './bignum'
import { EXACT_SUM } from './exact-sum'
import { queryOne, readInt, readIntegerString, readNumberOrNull } from './sql-values'

/**
 * INSIDER_OVERLAP_SQL's text with its rewards per top holder (`r`: entity, amount as BIGNUM, amounts > 0) and their
 * total (`tot`: total) given by the caller; the rest is the metric. Also for the twin over the kept fairness copy
 * (jobs/kept-fairness.ts), which must give the same values.
 */
export const insiderOverlapSqlOver = (r: string, tot: string): string => `
WITH h AS (SELECT DISTINCT entity FROM top_holders),
r AS (${r}),
joined AS (SELECT h.entity, r.amount FROM h LEFT JOIN r ON h.entity = r.entity),
tot AS (${tot}),
ins AS (
  SELECT count(*) AS holders, count(amount) AS overlap, coalesce(sum(amount), 0::BIGNUM) AS insider_rewards
  FROM joined
)
SELECT
  i.holders,
  i.overlap,
  CASE WHEN i.holders > 0 THEN i.overlap::DOUBLE / i.holders END AS overlap_share,
  i.insider_rewards::VARCHAR AS insider_rewards,
  t.total::VARCHAR AS total_rewards,
  CASE WHEN t.total > 0 THEN i.insider_rewards::DOUBLE / t.total::DOUBLE END AS insider_reward_share
FROM ins i, tot t
`

/**
 * No parameters. One row. As its grouped twin (grouped-fairness.ts), it sums per recipient only the top holders'
 * rewards, and the total straight from the rows (EXACT_SUM): a BIGNUM per reward row, made through its decimal text
 * (bignum.ts), costs ~4× the direct cast.
 */
export const INSIDER_OVERLAP_SQL = insiderOverlapSqlOver(
  `SELECT recipient AS entity, sum(${HUGEINT_TO_BIGNUM('amount')}) AS amount FROM reward
  WHERE amount > 0 AND recipient IN (SELECT entity FROM h) GROUP BY recipient`,
  `SELECT ${EXACT_SUM('amount', 'reward', 'amount > 0')} AS total`,
)

export interface InsiderOverlapResult {
  holders: number
  overlap: number
  overlapShare: number | null
  insiderRewards: string
  totalRewards: string
  insiderRewardShare: number | null
}

/** Runs INSIDER_OVERLAP_SQL over the caller's `top_holders` and `reward` relations. */
export async function runInsiderOverlap(conn: DuckDBConnection): Promise<InsiderOverlapResult> {
  const row = await queryOne(conn, INSIDER_OVERLAP_SQL)
  return {
    holders: readInt(row, 'holders'),
    overlap: readInt(row, 'overlap'),
    overlapShare: readNumberOrNull(row, 'overlap_share'),
    insiderRewards: readIntegerString(row, 'insider_rewards'),
    totalRewards: readIntegerString(row, 'total_rewards'),
    insiderRewardShare: readNumberOrNull(row, 'insider_reward_share'),
  }
}
