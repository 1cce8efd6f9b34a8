/**
 * The fairness-family queries per group (a model), for every model scope of a suite at once: FAIRNESS_SQL and
 * FAIRNESS_COPY_SQL (fairness.ts), SELF_VALIDATION_SQL and the validator concentration (validators.ts), and
 * INSIDER_OVERLAP_SQL (insiders.ts). Same formulas, partitioned by `g`; see grouped.ts for the contract, and
 * grouped-fairness.test.ts for the group-by-group comparison with the single queries.
 *
 * Inputs: group_keys(g), and
 *   group_contrib(g, contributor, value), group_reward(g, recipient, amount)   FAIRNESS_BY_GROUP_SQL, table
 *   group_validations(g, validator, contributor)                              SELF_VALIDATION_BY_GROUP_SQL,
 *                                                                             VALIDATOR_CONCENTRATION_BY_GROUP_SQL
 *   top_holders(entity) (shared by every group), group_reward                  INSIDER_OVERLAP_BY_GROUP_SQL
 */
import { concentrationByGroupSqlOver } from './grouped'
import { HUGEINT_TO_BIGNUM } from './bignum'
import { EXACT_SUMS_BY } from './exact-sum'
import { FAIRNESS_AGGREGATES, FAIRNESS_COLUMNS, fairnessCopySql, judgedSql } from './fairness'

const JUDGED_BY_GROUP = judgedSql(true)

/** FAIRNESS_SQL per group over `judged` (JUDGED_BY_GROUP, or its twin over kept sums). */
const fairnessByGroupSql = (judged: string) => `${judged},
ranked AS (
  SELECT x.g, x.entity, x.p, x.q, x.status, x.ac, x.ar,
    x.c * x.ac - x.c_h AS gc_h, x.r * x.ar - x.r_h AS gr_h, NULL::BIGNUM AS gc_w, NULL::BIGNUM AS gr_w
  FROM (
    SELECT h.*, rank() OVER wc + count(*) OVER wc AS ac, rank() OVER wr + count(*) OVER wr AS ar
    FROM (
      SELECT j.g, j.entity, j.p, j.q, j.status, j.c_h AS c, j.r_h AS r, j.ct_h AS c_h, j.rt_h AS r_h
      FROM judged j WHERE j.narrow
    ) h
    WINDOW wc AS (PARTITION BY h.g ORDER BY h.c), wr AS (PARTITION BY h.g ORDER BY h.r)
  ) x
  UNION ALL
  SELECT x.g, x.entity, x.p, x.q, x.status, x.ac, x.ar, NULL, NULL, x.dc + x.dc - x.c_total, x.dr + x.dr - x.r_total
  FROM (
    SELECT j.g, j.entity, j.p, j.q, j.status, t.c_total, t.r_total,
      rank() OVER wc + count(*) OVER wc AS ac, rank() OVER wr + count(*) OVER wr AS ar,
      sum(j.c_w) OVER dc AS dc, sum(j.r_w) OVER dr AS dr
    FROM judged j JOIN tot t ON t.g = j.g WHERE NOT j.narrow
    WINDOW wc AS (PARTITION BY j.g ORDER BY j.c_w), wr AS (PARTITION BY j.g ORDER BY j.r_w),
      dc AS (PARTITION BY j.g ORDER BY j.c_w DESC, j.entity ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      dr AS (PARTITION BY j.g ORDER BY j.r_w DESC, j.entity ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  ) x
),
agg AS (
  SELECT
    t.g,
${FAIRNESS_AGGREGATES}
  FROM paths t LEFT JOIN ranked x ON x.g = t.g
  GROUP BY t.g
)
SELECT
  t.g,
${FAIRNESS_COLUMNS}
FROM tot t JOIN agg a ON a.g = t.g
ORDER BY t.g
`

/** FAIRNESS_SQL per group, each group on its own path (narrow or wide, see fairness.ts). Parameter: $margin. */
export const FAIRNESS_BY_GROUP_SQL = fairnessByGroupSql(JUDGED_BY_GROUP)

/** FAIRNESS_COPY_SQL (fairness.ts) per group: each group's first $limit table rows as COPY text. $margin, $limit. */
export const FAIRNESS_COPY_BY_GROUP_SQL = fairnessCopySql(JUDGED_BY_GROUP, true)

/**
 * The summary and the table of the same groups share their per-entity sums: FAIRNESS_SUMS_BY_GROUP_SQL gives them
 * (judgedSql's `u`: per group and entity, the contribution and reward, HUGEINT or BIGNUM by path), the caller keeps
 * them as TEMP TABLE FAIRNESS_SUMS_RELATION, and the two twins below read them instead of summing group_contrib and
 * group_reward again (two hash aggregates and a full join over ~260,000 entities at the benchmark's size, ~0.3 s of
 * CPU). Everything after the sums is the same text; grouped-fairness.test.ts compares the twins with the queries.
 */
export const FAIRNESS_SUMS_RELATION = 'group_fairness_sums'
export const FAIRNESS_SUMS_BY_GROUP_SQL = `${JUDGED_BY_GROUP}
SELECT * FROM u`
const JUDGED_BY_GROUP_FROM_SUMS = judgedSql(true, FAIRNESS_SUMS_RELATION)
export const FAIRNESS_BY_GROUP_FROM_SUMS_SQL = fairnessByGroupSql(JUDGED_BY_GROUP_FROM_SUMS)
export const FAIRNESS_COPY_BY_GROUP_FROM_SUMS_SQL = fairnessCopySql(JUDGED_BY_GROUP_FROM_SUMS, true)

/** VALIDATOR_CONCENTRATION_SQL per group. Parameter: $quorum_wad. */
export const VALIDATOR_CONCENTRATION_BY_GROUP_SQL = concentrationByGroupSqlOver(
  'SELECT g, validator AS entity, count(*)::HUGEINT AS w FROM group_validations GROUP BY g, validator',
)

/** SELF_VALIDATION_SQL per group. No parameters. */
export const SELF_VALIDATION_BY_GROUP_SQL = `
SELECT
  k.g,
  count(v.validator) AS validations,
  count(v.validator) FILTER (WHERE v.validator = v.contributor) AS self_validations,
  CASE WHEN count(v.validator) > 0 THEN (count(v.validator) FILTER (WHERE v.validator = v.contributor))::DOUBLE / count(v.validator) END
    AS self_validation_share
FROM group_keys k LEFT JOIN group_validations v ON v.g = k.g
GROUP BY k.g
ORDER BY k.g
`

/**
 * INSIDER_OVERLAP_SQL per group: the same top_holders for every group, each group's own rewards. No parameters.
 * Only the top holders' rewards are summed per recipient, and each group's total straight from its rows: the same
 * exact sums as the single query's (which sums every recipient first), without summing ~150,000 recipients per
 * refresh. The totals are HUGEINT sums while all the rewards together stay below 2^126 (no group's partial sum can
 * overflow then; DuckDB raises an error when one does), BIGNUM ones otherwise.
 */
export const INSIDER_OVERLAP_BY_GROUP_SQL = insiderOverlapByGroupSqlOver(
  `
  SELECT g, recipient AS entity, sum(${HUGEINT_TO_BIGNUM('amount')}) AS amount FROM group_reward
  WHERE amount > 0 AND recipient IN (SELECT entity FROM h) GROUP BY g, recipient
`,
  `sums AS (${EXACT_SUMS_BY('g', 'amount', 'group_reward', 'amount > 0')}
),
tot AS (SELECT k.g, coalesce(s.total, 0::BIGNUM) AS total FROM group_keys k LEFT JOIN sums s ON s.g = k.g)`,
)

/**
 * INSIDER_OVERLAP_BY_GROUP_SQL's text with the top holders' rewards per group (`r`: g, entity, amount as BIGNUM) and
 * the CTEs that end in each group's total (`totals`, ending with tot(g, total)) given by the caller; the rest is the
 * metric. Also for the twin over the kept fairness copy (jobs/kept-fairness.ts), which must give the same values.
 */
export function insiderOverlapByGroupSqlOver(r: string, totals: string): string {
  return `
WITH h AS (SELECT DISTINCT entity FROM top_holders),
r AS (${r}),
joined AS (SELECT k.g, h.entity, r.amount FROM group_keys k CROSS JOIN h LEFT JOIN r ON r.g = k.g AND r.entity = h.entity),
${totals},
ins AS (
  SELECT k.g, count(j.entity) AS holders, count(j.amount) AS overlap, coalesce(sum(j.amount), 0::BIGNUM) AS insider_rewards
  FROM group_keys k LEFT JOIN joined j ON j.g = k.g GROUP BY k.g
)
SELECT
  i.g,
  i.holders,
  i.overlap,
  CASE WHEN i.holders > 0 THEN i.overlap::DOUBLE / i.holders END AS overlap_share,
  i.insider_rewards::VARCHAR AS insider_rewards,
  t.total::VARCHAR AS total_rewards,
  CASE WHEN t.total > 0 THEN i.insider_rewards::DOUBLE / t.total::DOUBLE END AS insider_reward_share
FROM ins i JOIN tot t ON t.g = i.g
ORDER BY i.g
`
}
