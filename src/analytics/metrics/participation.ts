/**
 * Participation in one proposal, and repeat participation across proposals.
 *
 * Input of PARTICIPATION_SQL: a relation `votes(voter VARCHAR, support INT, weight HUGEINT)` defined by the
 * caller with the votes of ONE proposal (support 0 = against, 1 = for, 2 = abstain, as in OpenZeppelin's
 * GovernorCountingSimple; weight >= 0), plus two scalars: the voting-power supply at the proposal's snapshot and
 * the quorum at the snapshot, both integer amounts (wei). Rows with another support value are ignored; rows of
 * the same (voter, support) are summed. A VOTER is a distinct `voter` value with a counted row, including a vote
 * of weight 0 (it was cast).
 *
 *   participation.turnout        (for + against + abstain) / supply; NULL when supply = 0
 *   participation.unique_voters  number of distinct voters
 *   participation.pivotality     how fragile the outcome is: the smallest number of voters of the deciding side,
 *                                removed largest first (weight DESC, voter ASC), whose removal alone changes it.
 *                                Outcome rule (OpenZeppelin): succeeded iff for > against AND for + abstain >= quorum.
 *                                - Succeeded: the deciding side is FOR; pivotality = smallest k such that without
 *                                  the k largest for-voters it is defeated (for' <= against, or for' + abstain <
 *                                  quorum). Always defined (removing every for-voter defeats it). 1 means a single
 *                                  voter carried the proposal.
 *                                - Defeated with quorum reached (for <= against): the deciding side is AGAINST;
 *                                  pivotality = smallest k such that without the k largest against-voters it
 *                                  succeeds (for > against'). NULL when for = 0 (no removal can make it pass).
 *                                - Defeated for lack of quorum: NULL. Removing voters never adds quorum, so no
 *                                  voter was pivotal; `quorumReached` = false says why.
 *                                Abstainers never form the deciding side (they count only toward quorum).
 *
 * Input of REPEAT_VOTERS_SQL: `votes_all(proposal VARCHAR, voter VARCHAR)`, one row per vote over a set of
 * proposals (duplicates harmless).
 *
 *   participation.repeat_voters       number of voters who voted in >= 2 proposals of the set ($min_proposals)
 *   participation.repeat_voter_share  repeat voters / all distinct voters; NULL without voters
 *
 * Exactness: tallies, per-voter sums and the cumulative sums of the deciding side are exact; outcome and pivotality
 * are exact integer comparisons; turnout is the DOUBLE division of the exact sum by the exact supply, each converted
 * by BIGNUM's cast to DOUBLE (note: that cast, like HUGEINT's, is not always correctly rounded; it can be one ulp off
 * the decimal text's conversion). The sums run in HUGEINT when 2·Σ|weight| + |quorum| < 2^125 (PARTICIPATION_FAST_PATH:
 * any real token; BIGNUM arithmetic is several times slower), where no sum can reach HUGEINT's limit, and in BIGNUM
 * (arbitrary precision) otherwise: UNION ALL branches of which exactly one has a row, with the same columns to the
 * bit (the fast path's turnout numerator goes through BIGNUM). Plain `sum()` over HUGEINT is relied on only within
 * that bound (cf. concentration.ts: in DuckDB 1.5 it can wrap around silently on overflow; its BIGNUM caveats apply
 * here too, so the quorum reaches HUGEINT from its decimal text).
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { HUGEINT_TO_BIGNUM } from './bignum'
import {
  queryOne, readBoolean, readInt, readIntOrNull, readIntegerString, readNumberOrNull,
} from './sql-values'

export interface ParticipationInput {
  /** total voting power at the snapshot (wei) */
  supply: bigint
  /** quorum at the snapshot (wei) */
  quorum: bigint
}

export interface ParticipationResult {
  forVotes: string
  againstVotes: string
  abstainVotes: string
  uniqueVoters: number
  turnout: number | null
  quorumReached: boolean
  /** for > against */
  voteSucceeded: boolean
  succeeded: boolean
  pivotality: number | null
}

export interface RepeatVotersResult {
  proposals: number
  voters: number
  repeatVoters: number
  repeatVoterShare: number | null
}

/**
 * Whether a proposal takes the HUGEINT fast path (participation's FAST_PATH, cf. concentration.ts): 2·S + |quorum|
 * < 2^125, S = Σ |weight| over its counted rows, judged in DOUBLE with a wide margin (2^127 is HUGEINT's limit; the
 * DOUBLE sum is off by far less than a factor of 4). Every sum of the fast path is bounded by S in absolute value
 * (a per-voter sum, a tally, the removed prefix, for − removed + abstain) and quorum fits, so none can overflow.
 * Real proposals (10^9 tokens in wei ~ 2^90) are far inside it. Never NULL: without a quorum the wide path runs.
 */
export const PARTICIPATION_FAST_PATH = (weightSum: string, quorum: string) =>
  `coalesce(${weightSum} * 2 + abs(${quorum}::DOUBLE) < 4.2e37, false)`

/**
 * The pivotality filter over a deciding row `d` (k, removed) and its proposal's outcome `o`; the same text for both
 * paths and for the grouped query (grouped.ts).
 */
export const PIVOTAL_IF = `CASE
      WHEN o.vote_succeeded AND o.quorum_reached
        THEN o.for_votes - d.removed <= o.against_votes OR o.for_votes - d.removed + o.abstain_votes < o.quorum
      ELSE o.quorum_reached AND o.for_votes > o.against_votes - d.removed
    END`

/**
 * The result columns from an outcome `o` (tallies and quorum of the path's type, supply BIGNUM) and pivotality `pv`,
 * shared with the grouped query. Exact integers leave as VARCHAR, so both paths have one row type; turnout's
 * numerator reaches DOUBLE through BIGNUM on both paths, so the fast path rounds exactly as the wide one does.
 */
/** The weight cast on a proposal: its three tallies. */
const VOTES_CAST = '(o.for_votes + o.against_votes + o.abstain_votes)'
export const participationColumns = (path: 'fast' | 'wide') => `  o.for_votes::VARCHAR AS for_votes,
  o.against_votes::VARCHAR AS against_votes,
  o.abstain_votes::VARCHAR AS abstain_votes,
  o.unique_voters,
  CASE WHEN o.supply > 0
    THEN ${path === 'fast' ? HUGEINT_TO_BIGNUM(VOTES_CAST) : VOTES_CAST}::DOUBLE / o.supply::DOUBLE END AS turnout,
  o.quorum_reached,
  o.vote_succeeded,
  o.vote_succeeded AND o.quorum_reached AS succeeded,
  pv.pivotality`

/** Per-path CTEs of PARTICIPATION_SQL: tally, outcome, deciding (ranked by w DESC, voter ASC), pivotal, result. */
const participationPath = (path: 'fast' | 'wide') => {
  const zero = path === 'fast' ? '0::HUGEINT' : '0::BIGNUM'
  const quorum = path === 'fast' ? 'x.quorum_h' : 'x.quorum'
  return `tally_${path} AS (
  SELECT
    coalesce(sum(w) FILTER (WHERE support = 1), ${zero}) AS for_votes,
    coalesce(sum(w) FILTER (WHERE support = 0), ${zero}) AS against_votes,
    coalesce(sum(w) FILTER (WHERE support = 2), ${zero}) AS abstain_votes,
    count(DISTINCT voter) AS unique_voters
  FROM v_${path}
),
outcome_${path} AS (
  SELECT t.*, x.supply, ${quorum} AS quorum,
    t.for_votes > t.against_votes AS vote_succeeded,
    t.for_votes + t.abstain_votes >= ${quorum} AS quorum_reached
  FROM tally_${path} t, params x
  WHERE ${path === 'fast' ? 'x.fast' : 'NOT x.fast'}
),
deciding_${path} AS (
  SELECT
    row_number() OVER (ORDER BY v.w DESC, v.voter ASC) AS k,
    sum(v.w) OVER (ORDER BY v.w DESC, v.voter ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS removed
  FROM v_${path} v, outcome_${path} o
  WHERE v.support = CASE WHEN o.vote_succeeded AND o.quorum_reached THEN 1 ELSE 0 END
),
pivotal_${path} AS (
  SELECT min(d.k) FILTER (WHERE ${PIVOTAL_IF}) AS pivotality
  FROM deciding_${path} d, outcome_${path} o
),
result_${path} AS (
  SELECT
${participationColumns(path)}
  FROM outcome_${path} o, pivotal_${path} pv
)`
}

/**
 * Parameters: $supply, $quorum (decimal strings). One row. Two paths (UNION ALL, exactly one has a row): per-voter
 * sums, tallies and the removed prefix in HUGEINT when PARTICIPATION_FAST_PATH holds, in BIGNUM otherwise.
 */
export const PARTICIPATION_SQL = `
WITH params AS (
  SELECT $supply::BIGNUM AS supply, $quorum::BIGNUM AS quorum, TRY_CAST($quorum AS HUGEINT) AS quorum_h,
    ${PARTICIPATION_FAST_PATH('(SELECT coalesce(sum(abs(weight::DOUBLE)), 0) FROM votes WHERE support IN (0, 1, 2))', '$quorum')} AS fast
),
v_fast AS (
  SELECT voter, support, sum(weight) AS w FROM votes
  WHERE support IN (0, 1, 2) AND (SELECT fast FROM params) GROUP BY voter, support
),
v_wide AS (
  SELECT voter, support, sum(${HUGEINT_TO_BIGNUM('weight')}) AS w FROM votes
  WHERE support IN (0, 1, 2) AND NOT (SELECT fast FROM params) GROUP BY voter, support
),
${participationPath('fast')},
${participationPath('wide')}
SELECT * FROM result_fast
UNION ALL
SELECT * FROM result_wide
`

/** Parameter: $min_proposals (integer >= 1). One row. */
export const REPEAT_VOTERS_SQL = `
WITH per_voter AS (SELECT voter, count(DISTINCT proposal) AS proposals FROM votes_all GROUP BY voter)
SELECT
  (SELECT count(DISTINCT proposal) FROM votes_all) AS proposals,
  count(*) AS voters,
  count(*) FILTER (WHERE proposals >= $min_proposals) AS repeat_voters,
  CASE WHEN count(*) > 0 THEN (count(*) FILTER (WHERE proposals >= $min_proposals))::DOUBLE / count(*) END
    AS repeat_voter_share
FROM per_voter
`

/**
 * Delegate activity over the caller's `dist(entity, w)` (voting power per delegate at the block) and `votes_all
 * (proposal, voter)` (votes up to the block). No parameters. One row.
 */
export const DELEGATE_ACTIVITY_SQL = delegateActivitySqlOver('SELECT voter FROM votes_all')

/**
 * DELEGATE_ACTIVITY_SQL with the voters read from `votersSelect`, a constant SQL text producing (voter): a delegate is
 * active when it is among them. For the route over the sync's voter tallies (store/voter-tallies.ts); never build
 * `votersSelect` from values.
 */
export function delegateActivitySqlOver(votersSelect: string): string {
  return `
SELECT
  count(*) AS delegates,
  count(*) FILTER (WHERE d.entity IN (${votersSelect})) AS active_delegates,
  CASE WHEN count(*) > 0 THEN (count(*) FILTER (WHERE d.entity IN (${votersSelect})))::DOUBLE / count(*) END
    AS delegate_activity
FROM dist d WHERE d.w > 0
`
}

function nonNegative(name: string, value: bigint): string {
  if (value < 0n) throw new RangeError(`${name} must be >= 0, got ${value}`)
  return value.toString()
}

/** Runs PARTICIPATION_SQL over the caller's `votes` relation (one proposal). */
export async function runParticipation(conn: DuckDBConnection, input: ParticipationInput): Promise<ParticipationResult> {
  const row = await queryOne(conn, PARTICIPATION_SQL, {
    supply: nonNegative('supply', input.supply),
    quorum: nonNegative('quorum', input.quorum),
  })
  return {
    forVotes: readIntegerString(row, 'for_votes'),
    againstVotes: readIntegerString(row, 'against_votes'),
    abstainVotes: readIntegerString(row, 'abstain_votes'),
    uniqueVoters: readInt(row, 'unique_voters'),
    turnout: readNumberOrNull(row, 'turnout'),
    quorumReached: readBoolean(row, 'quorum_reached'),
    voteSucceeded: readBoolean(row, 'vote_succeeded'),
    succeeded: readBoolean(row, 'succeeded'),
    pivotality: readIntOrNull(row, 'pivotality'),
  }
}

/** Runs REPEAT_VOTERS_SQL over the caller's `votes_all` relation. */
export async function runRepeatVoters(conn: DuckDBConnection, options: { minProposals?: number } = {}): Promise<RepeatVotersResult> {
  const minProposals = options.minProposals ?? 2
  if (!Number.isSafeInteger(minProposals) || minProposals < 1) {
    throw new RangeError(`minProposals must be an integer >= 1, got ${minProposals}`)
  }
  const row = await queryOne(conn, REPEAT_VOTERS_SQL, { min_proposals: minProposals })
  return {
    proposals: readInt(row, 'proposals'),
    voters: readInt(row, 'voters'),
    repeatVoters: readInt(row, 'repeat_voters'),
    repeatVoterShare: readNumberOrNull(row, 'repeat_voter_share'),
  }
}
