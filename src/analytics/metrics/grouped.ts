/**
 * Many small distributions at once: the concentration and participation metrics of every group (a proposal) in one
 * query, instead of one query per group. A suite at 10M events has hundreds of proposals; one query each cost
 * ~20 ms of fixed overhead (materialize, digest, metric query) and dominated the run.
 *
 * These are the SAME formulas as CONCENTRATION_SQL (concentration.ts) and PARTICIPATION_SQL (participation.ts),
 * with every window partitioned by the group key `g` and every aggregate grouped by it; the property tests in
 * grouped.test.ts check, group by group, that they return exactly what the single-distribution queries return
 * (every column equal: the DOUBLE sums are order-free, see ORDER_FREE_SUM in concentration.ts). Those single queries
 * stay the definitions: the reproduce command exports them, and a value computed here must be recomputable there.
 * Both take the same HUGEINT fast path per group (FAST_PATH, PARTICIPATION_FAST_PATH) and the exact BIGNUM path
 * otherwise, so one query can mix groups of both paths; every group's row comes from exactly one of them.
 *
 * Inputs, defined by the caller (g of any type, the same in all of them; the suite's batches use a BIGINT, see
 * store/inputs.ts):
 *   group_keys(g[, supply VARCHAR, quorum VARCHAR])  one row per group to measure, including groups without any
 *                                                    row (they get the empty-set result)
 *   group_dist(g, entity VARCHAR, w HUGEINT)         for CONCENTRATION_BY_GROUP_SQL
 *   group_votes(g, voter VARCHAR, support INTEGER, weight HUGEINT)  for PARTICIPATION_BY_GROUP_SQL
 * Output: one row per group_keys row, with `g` and the single query's columns.
 */
import { CONCENTRATION_COLUMNS, concentrationAggregates, FAST_PATH, HUGEINT_MAX } from './concentration'
import { PARTICIPATION_FAST_PATH, participationColumns, PIVOTAL_IF } from './participation'
import { HUGEINT_TO_BIGNUM } from './bignum'
import { EXACT_SUMS_BY } from './exact-sum'

/**
 * Per group of `groups` (g, n, w: its row count and exact weight), the rows and weight of the groups before it in g
 * order (n_before, w_before): what a running count and sum over rows sorted by (g, ...) holds before the group's first
 * row, so that subtracting them gives the group's own ranks and running sums (ranked_fast, deciding_fast).
 */
const GROUPS_BEFORE = (groups: string) => `
  SELECT g, (sum(n) OVER prior - n)::BIGINT AS n_before, sum(w) OVER prior - w AS w_before
  FROM (${groups})
  WINDOW prior AS (ORDER BY g ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
`

/**
 * concentrationSqlOver (concentration.ts) per group, over `distSelect` (constant SQL producing (g, entity, w)) or
 * the caller's group_dist. Parameter: $quorum_wad (VARCHAR|NULL), the same for every group.
 */
export function concentrationByGroupSqlOver(distSelect?: string): string {
  const source = distSelect === undefined ? '' : `group_dist AS (${distSelect}),`
  return `
WITH ${source}
-- NOT MATERIALIZED, as in concentrationSqlOver.
d AS NOT MATERIALIZED (SELECT g, entity, w FROM group_dist WHERE w > 0),
-- A group takes the fast path when FAST_PATH holds for it and the totals of all such groups add up to less than
-- 2^125: ranked_fast's running sums run across the groups, so they must fit too.
tot AS (
  SELECT g, n, total, th, fast_alone AND sum(CASE WHEN fast_alone THEN total::DOUBLE ELSE 0 END) OVER () < 4.2e37 AS fast
  FROM (
    SELECT g, n, total, TRY_CAST(total::VARCHAR AS HUGEINT) AS th, ${FAST_PATH('x')} AS fast_alone
    FROM (
      SELECT k.g, coalesce(s.n, 0) AS n, coalesce(s.total, 0::BIGNUM) AS total FROM group_keys k
      LEFT JOIN (${EXACT_SUMS_BY('g', 'w', 'd', 'true')}) s ON s.g = k.g
    ) x
  )
),
quorum_threshold AS (
  SELECT g, $quorum_wad::HUGEINT AS q,
    th // 1000000000000000000 * $quorum_wad::HUGEINT + (th % 1000000000000000000) * $quorum_wad::HUGEINT // 1000000000000000000 AS amount
  FROM tot
),
-- As in concentrationSqlOver: each window sorts (g, w) alone, and the totals join its output.
-- The fast groups' ranks and running sums come from ONE window over all of them in (g, w DESC) order, each group's
-- taken relative to the groups before it (fast_before: their row count and exact total). A window partitioned by g
-- computes its HUGEINT running sums through a segment tree: ~740 ms against ~320 ms for this one at a million votes
-- in 200 proposals (DuckDB 1.5.6). Exact: every running sum is at most the fast groups' total (< 2^125, tot), and
-- the rank and running sum of a group's k-th row minus those of the groups before it are its k and D_k.
fast_before AS (${GROUPS_BEFORE('SELECT g, n, th AS w FROM tot WHERE fast')}),
ranked_fast AS (
  SELECT r.g, r.k - b.n_before AS k, r.cum - b.w_before AS cum, r.w::DOUBLE / t.total::DOUBLE AS s
  FROM (
    SELECT g, w, row_number() OVER top AS k, sum(w) OVER top_rows AS cum
    FROM d WHERE g IN (SELECT g FROM tot WHERE fast)
    WINDOW top AS (ORDER BY g, w DESC), top_rows AS (top ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  ) r JOIN tot t ON t.g = r.g JOIN fast_before b ON b.g = r.g
),
ranked_wide AS (
  SELECT r.g, r.k, r.cum, r.w::DOUBLE / t.total::DOUBLE AS s
  FROM (
    SELECT g, w, row_number() OVER top AS k, ${HUGEINT_TO_BIGNUM('sum(w) OVER top_rows')} AS cum
    FROM d WHERE g IN (SELECT g FROM tot WHERE NOT fast AND total <= ${HUGEINT_MAX})
    WINDOW top AS (PARTITION BY g ORDER BY w DESC), top_rows AS (top ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    UNION ALL
    SELECT g, w, row_number() OVER wide, sum(${HUGEINT_TO_BIGNUM('w')}) OVER wide_rows
    FROM d WHERE g IN (SELECT g FROM tot WHERE total > ${HUGEINT_MAX})
    WINDOW wide AS (PARTITION BY g ORDER BY w DESC), wide_rows AS (wide ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  ) r JOIN tot t ON t.g = r.g
),
agg AS (
  SELECT
    t.g,
${concentrationAggregates('hugeint')}
  FROM tot t JOIN quorum_threshold qt ON qt.g = t.g LEFT JOIN ranked_fast r ON r.g = t.g
  WHERE t.fast
  GROUP BY t.g
  UNION ALL
  SELECT
    t.g,
${concentrationAggregates('bignum')}
  FROM tot t JOIN quorum_threshold qt ON qt.g = t.g LEFT JOIN ranked_wide r ON r.g = t.g
  WHERE NOT t.fast
  GROUP BY t.g
)
SELECT
  t.g,
${CONCENTRATION_COLUMNS}
FROM tot t JOIN agg a ON a.g = t.g
ORDER BY t.g
`
}

/** CONCENTRATION_SQL per group over the caller's group_dist. */
export const CONCENTRATION_BY_GROUP_SQL = concentrationByGroupSqlOver()

/** The deciding side's voters of each group: the winning side when the vote passed with quorum, else those against. */
const decidingRows = (path: 'fast' | 'wide') => `FROM v_${path} v JOIN outcome_${path} o ON o.g = v.g
  WHERE v.support = CASE WHEN o.vote_succeeded AND o.quorum_reached THEN 1 ELSE 0 END`

/** deciding_wide: per group, its deciding voters ranked by weight, and the weight of the first k (BIGNUM). */
const DECIDING_WIDE = `deciding_wide AS (
  SELECT
    v.g,
    row_number() OVER (PARTITION BY v.g ORDER BY v.w DESC, v.voter ASC) AS k,
    sum(v.w) OVER (PARTITION BY v.g ORDER BY v.w DESC, v.voter ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS removed
  ${decidingRows('wide')}
)`

/**
 * deciding_fast: the same ranks and removed weights (HUGEINT) from ONE window over the fast groups' deciding voters in
 * (g, w DESC) order, each group's taken relative to the groups before it, as ranked_fast does in the concentration
 * query (a window partitioned by g sums HUGEINT through a segment tree, several times slower). Exact: every running
 * sum is at most the fast groups' total weight (< 2^125, params). Equal weights need no order among them: the removed
 * weight of the first k is the same whichever of them comes first, and pivotality reads nothing else.
 */
const DECIDING_FAST = `decided_fast AS (SELECT v.g, v.w ${decidingRows('fast')}),
decided_before_fast AS (${GROUPS_BEFORE('SELECT g, count(*) AS n, sum(w) AS w FROM decided_fast GROUP BY g')}),
deciding_fast AS (
  SELECT r.g, r.k - b.n_before AS k, r.removed - b.w_before AS removed
  FROM (
    SELECT g, row_number() OVER top AS k, sum(w) OVER (top ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS removed
    FROM decided_fast WINDOW top AS (ORDER BY g, w DESC)
  ) r JOIN decided_before_fast b ON b.g = r.g
)`

/** Per-path CTEs of PARTICIPATION_BY_GROUP_SQL: PARTICIPATION_SQL's, partitioned and grouped by g. */
const participationPathByGroup = (path: 'fast' | 'wide', oneVoteEach: boolean) => {
  const zero = path === 'fast' ? '0::HUGEINT' : '0::BIGNUM'
  const quorum = path === 'fast' ? 'x.quorum_h' : 'x.quorum'
  return `tally_${path} AS (
  SELECT
    x.g,
    coalesce(sum(v.w) FILTER (WHERE v.support = 1), ${zero}) AS for_votes,
    coalesce(sum(v.w) FILTER (WHERE v.support = 0), ${zero}) AS against_votes,
    coalesce(sum(v.w) FILTER (WHERE v.support = 2), ${zero}) AS abstain_votes,
    count(${oneVoteEach ? '' : 'DISTINCT '}v.voter) AS unique_voters
  FROM params x LEFT JOIN v_${path} v ON v.g = x.g
  WHERE ${path === 'fast' ? 'x.fast' : 'NOT x.fast'}
  GROUP BY x.g
),
outcome_${path} AS (
  SELECT t.*, x.supply, ${quorum} AS quorum,
    t.for_votes > t.against_votes AS vote_succeeded,
    t.for_votes + t.abstain_votes >= ${quorum} AS quorum_reached
  FROM tally_${path} t JOIN params x ON x.g = t.g
),
${path === 'fast' ? DECIDING_FAST : DECIDING_WIDE},
pivotal_${path} AS (
  SELECT o.g, min(d.k) FILTER (WHERE ${PIVOTAL_IF}) AS pivotality
  FROM outcome_${path} o LEFT JOIN deciding_${path} d ON d.g = o.g
  GROUP BY o.g
),
result_${path} AS (
  SELECT
    o.g,
${participationColumns(path)}
  FROM outcome_${path} o JOIN pivotal_${path} pv ON pv.g = o.g
)`
}

/**
 * v_fast / v_wide: per group, each voter's weight per support (0, 1, 2), summed as PARTICIPATION_SQL sums it; with
 * `oneVoteEach` (no voter has two votes on one proposal) the votes themselves, which are those sums.
 */
const votesByVoter = (path: 'fast' | 'wide', oneVoteEach: boolean) => {
  const w = path === 'fast' ? 'weight' : HUGEINT_TO_BIGNUM('weight')
  return `v_${path} AS (
  SELECT g, voter, support, ${oneVoteEach ? w : `sum(${w})`} AS w FROM group_votes
  WHERE support IN (0, 1, 2) AND g IN (SELECT g FROM params WHERE ${path === 'fast' ? '' : 'NOT '}fast)${oneVoteEach ? '' : ' GROUP BY g, voter, support'}
)`
}

/**
 * PARTICIPATION_SQL per group; each group's $supply and $quorum come from group_keys(g, supply, quorum). Each group
 * takes its own path (PARTICIPATION_FAST_PATH over its own rows and quorum): groups of both kinds can be mixed in
 * one query, and a group's row comes from exactly one of the two UNION ALL branches.
 */
const participationByGroupSql = (oneVoteEach: boolean) => `
-- A group takes the fast path when PARTICIPATION_FAST_PATH holds for it and the weights of all such groups add up to
-- less than 2^125: deciding_fast's running sums run across the groups, so they must fit too.
WITH params AS (
  SELECT g, supply, quorum, quorum_h, fast_alone AND sum(CASE WHEN fast_alone THEN weights ELSE 0 END) OVER () < 4.2e37 AS fast
  FROM (
    SELECT k.g, k.supply::BIGNUM AS supply, k.quorum::BIGNUM AS quorum, TRY_CAST(k.quorum AS HUGEINT) AS quorum_h,
      coalesce(s.weights, 0) AS weights, ${PARTICIPATION_FAST_PATH('coalesce(s.weights, 0)', 'k.quorum')} AS fast_alone
    FROM group_keys k
    LEFT JOIN (SELECT g, sum(abs(weight::DOUBLE)) AS weights FROM group_votes WHERE support IN (0, 1, 2) GROUP BY g) s ON s.g = k.g
  )
),
${votesByVoter('fast', oneVoteEach)},
${votesByVoter('wide', oneVoteEach)},
${participationPathByGroup('fast', oneVoteEach)},
${participationPathByGroup('wide', oneVoteEach)}
SELECT * FROM result_fast
UNION ALL
SELECT * FROM result_wide
ORDER BY g
`

export const PARTICIPATION_BY_GROUP_SQL = participationByGroupSql(false)

/**
 * PARTICIPATION_BY_GROUP_SQL where no voter has two votes on one proposal (store/one-vote-each.ts): the same rows,
 * without the per-voter sums or count(DISTINCT) (two hash aggregates over a million voter names at the benchmark's
 * size). Over votes with a repeated (group, voter) pair it would count that voter twice: only for group_votes known to
 * have none (grouped.test.ts compares it with PARTICIPATION_BY_GROUP_SQL over such votes).
 */
export const PARTICIPATION_BY_GROUP_ONE_VOTE_EACH_SQL = participationByGroupSql(true)
