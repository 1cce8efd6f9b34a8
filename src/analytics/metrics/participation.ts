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
 * Exactness: tallies and cumulative sums are BIGNUM (exact); outcome and pivotality are exact comparisons;
 * turnout is one DOUBLE division of exact amounts.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
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

/** Parameters: $supply, $quorum (decimal strings). One row. */
export const PARTICIPATION_SQL = `
WITH v AS (
  SELECT voter, support, sum(weight::BIGNUM) AS w FROM votes WHERE support IN (0, 1, 2) GROUP BY voter, support
),
tally AS (
  SELECT
    coalesce(sum(w) FILTER (WHERE support = 1), 0::BIGNUM) AS for_votes,
    coalesce(sum(w) FILTER (WHERE support = 0), 0::BIGNUM) AS against_votes,
    coalesce(sum(w) FILTER (WHERE support = 2), 0::BIGNUM) AS abstain_votes,
    count(DISTINCT voter) AS unique_voters
  FROM v
),
outcome AS (
  SELECT t.*, p.supply, p.quorum,
    t.for_votes > t.against_votes AS vote_succeeded,
    t.for_votes + t.abstain_votes >= p.quorum AS quorum_reached
  FROM tally t, (SELECT $supply::BIGNUM AS supply, $quorum::BIGNUM AS quorum) p
),
deciding AS (
  SELECT
    row_number() OVER (ORDER BY v.w DESC, v.voter ASC) AS k,
    sum(v.w) OVER (ORDER BY v.w DESC, v.voter ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS removed
  FROM v, outcome o
  WHERE v.support = CASE WHEN o.vote_succeeded AND o.quorum_reached THEN 1 ELSE 0 END
),
pivotal AS (
  SELECT min(d.k) FILTER (WHERE CASE
      WHEN o.vote_succeeded AND o.quorum_reached
        THEN o.for_votes - d.removed <= o.against_votes OR o.for_votes - d.removed + o.abstain_votes < o.quorum
      ELSE o.quorum_reached AND o.for_votes > o.against_votes - d.removed
    END) AS pivotality
  FROM deciding d, outcome o
)
SELECT
  o.for_votes::VARCHAR AS for_votes,
  o.against_votes::VARCHAR AS against_votes,
  o.abstain_votes::VARCHAR AS abstain_votes,
  o.unique_voters,
  CASE WHEN o.supply > 0
    THEN (o.for_votes + o.against_votes + o.abstain_votes)::DOUBLE / o.supply::DOUBLE END AS turnout,
  o.quorum_reached,
  o.vote_succeeded,
  o.vote_succeeded AND o.quorum_reached AS succeeded,
  p.pivotality
FROM outcome o, pivotal p
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
export const DELEGATE_ACTIVITY_SQL = `
SELECT
  count(*) AS delegates,
  count(*) FILTER (WHERE d.entity IN (SELECT voter FROM votes_all)) AS active_delegates,
  CASE WHEN count(*) > 0 THEN (count(*) FILTER (WHERE d.entity IN (SELECT voter FROM votes_all)))::DOUBLE / count(*) END
    AS delegate_activity
FROM dist d WHERE d.w > 0
`

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
