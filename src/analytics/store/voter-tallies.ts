import type {DuckDBConnection} from '@duckdb/node-api'
import {holds} from '../duckdb'
import {delegateActivitySqlOver} from '../metrics/participation'

/**
 * Who voted on how many proposals, per governor, kept current by the sync, so that a refresh at the head answers the
 * governor-wide participation metrics (repeat voters, delegate activity: metrics/participation.ts) from ~50,000
 * voters instead of materializing and grouping every vote again (a million at the benchmark's size: 1–2 s a
 * refresh).
 *
 * Over the rows VOTES_ALL has with no block bound (every mirrored vote_cast row of the governor):
 *  - voter_tally(governor, voter, proposals): per voter, the number of distinct proposals it voted on;
 *  - governor_tally(governor, proposals): the number of distinct proposals with at least one vote.
 * A voter or governor without votes has no row, as in a mirror rebuilt from scratch (the sync tests compare the two:
 * both are derived tables of mirrorDigest).
 *
 * How they follow the rows: the sync adds and removes vote_cast rows above a cut only (new blocks, or a rollback of
 * unfinalized ones). A (proposal, voter) pair counts once however many rows it has (a governor that allowed a second
 * vote, or a re-emitted event), so what changes the tallies is a pair FRESH above the cut: present above it and absent
 * at or below it; likewise a proposal whose votes all lie above the cut. The sync adds the fresh pairs after it
 * extracts new rows (sign 1) and subtracts them before a rollback deletes rows (sign -1), in its transaction, at the
 * same points as the head digests (head-digests.ts).
 */
export const VOTER_TALLY_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS voter_tally (governor VARCHAR NOT NULL, voter VARCHAR NOT NULL, proposals BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS governor_tally (governor VARCHAR NOT NULL, proposals BIGINT NOT NULL)`,
]

export const VOTER_TALLY_TABLES: readonly string[] = ['voter_tally', 'governor_tally']

/**
 * (governor, proposal_id, voter) pairs with a vote_cast row above $cut and none at or below it. The earlier votes are
 * looked up among those on the same proposals only: new votes go to the few open proposals, and the lookup then skips
 * most of the million earlier votes (a NOT EXISTS over all of them took ~2× as long at the benchmark's size).
 */
const FRESH_PAIRS = `
WITH n AS (SELECT DISTINCT governor, proposal_id, voter FROM vote_cast WHERE block_number > $cut)
SELECT n.governor, n.proposal_id, n.voter FROM n ANTI JOIN (
  SELECT governor, proposal_id, voter FROM vote_cast WHERE block_number <= $cut AND proposal_id IN (SELECT proposal_id FROM n)
) o ON o.governor = n.governor AND o.proposal_id = n.proposal_id AND o.voter = n.voter`

/** (governor, proposal_id) with votes above $cut and none at or below it (looked up as in FRESH_PAIRS). */
const FRESH_PROPOSALS = `
WITH n AS (SELECT DISTINCT governor, proposal_id FROM vote_cast WHERE block_number > $cut)
SELECT n.governor, n.proposal_id FROM n ANTI JOIN (
  SELECT governor, proposal_id FROM vote_cast WHERE block_number <= $cut AND proposal_id IN (SELECT proposal_id FROM n)
) o ON o.governor = n.governor AND o.proposal_id = n.proposal_id`

/** ± the fresh pairs and proposals above `cut`: 1 after new rows are extracted, -1 before a rollback deletes them. */
export async function addVoterTalliesAbove(conn: DuckDBConnection, cut: number, sign: 1 | -1): Promise<void> {
  await addDelta(conn, 'voter_tally', ['governor', 'voter'], `SELECT governor, voter, count(*) * $sign AS d FROM (${FRESH_PAIRS}) GROUP BY governor, voter`, {cut, sign})
  await addDelta(conn, 'governor_tally', ['governor'], `SELECT governor, count(*) * $sign AS d FROM (${FRESH_PROPOSALS}) GROUP BY governor`, {cut, sign})
}

/** Adds the delta rows (keys..., d) to `table`'s proposals column; rows that reach 0 go. One MERGE (head-digests.ts). */
async function addDelta(conn: DuckDBConnection, table: string, keys: readonly string[], delta: string, params: Record<string, number>): Promise<void> {
  await conn.run(
    `MERGE INTO ${table} t USING (${delta}) x ON ${keys.map((k) => `t.${k} = x.${k}`).join(' AND ')}
     WHEN MATCHED AND t.proposals + x.d = 0 THEN DELETE
     WHEN MATCHED THEN UPDATE SET proposals = t.proposals + x.d
     WHEN NOT MATCHED AND x.d <> 0 THEN INSERT VALUES (${keys.map((k) => `x.${k}`).join(', ')}, x.d)`,
    params,
  )
}

/**
 * Computes the tallies from scratch when they hold nothing while the mirror holds votes (a rebuild, or a mirror made
 * before the tables existed). Inside the sync's transaction, before its rollback step, as initHeadDigests.
 */
export async function initVoterTallies(conn: DuckDBConnection): Promise<void> {
  if (await holds(conn, NO_VOTER_TALLIES)) await addVoterTalliesAbove(conn, -1, 1)
}

const NO_VOTER_TALLIES = `NOT EXISTS (SELECT 1 FROM governor_tally) AND EXISTS (SELECT 1 FROM vote_cast)`

/** The conditions under which initVoterTallies fills something (derived-state.ts asks them all at once). */
export const VOTER_TALLY_INIT_CHECKS: readonly string[] = [NO_VOTER_TALLIES]

/**
 * REPEAT_VOTERS_SQL (metrics/participation.ts) over VOTES_ALL of $governor at the head, from the tallies: the same
 * columns and types. Parameters: $governor, $min_proposals.
 */
export const REPEAT_VOTERS_FROM_TALLIES_SQL = `
SELECT
  (SELECT coalesce(max(proposals), 0) FROM governor_tally WHERE governor = $governor) AS proposals,
  count(*) AS voters,
  count(*) FILTER (WHERE proposals >= $min_proposals) AS repeat_voters,
  CASE WHEN count(*) > 0 THEN (count(*) FILTER (WHERE proposals >= $min_proposals))::DOUBLE / count(*) END
    AS repeat_voter_share
FROM voter_tally WHERE governor = $governor
`

/**
 * DELEGATE_ACTIVITY_SQL over the caller's `dist` and VOTES_ALL of $governor at the head, from the tallies: a delegate
 * is active when it has a voter_tally row (it cast at least one vote). Parameter: $governor.
 */
export const DELEGATE_ACTIVITY_FROM_TALLIES_SQL = delegateActivitySqlOver('SELECT voter FROM voter_tally WHERE governor = $governor')

/**
 * DELEGATE_ACTIVITY_FROM_TALLIES_SQL over `powerSelect`, a constant SQL text producing (entity, w) (the voting power read
 * where the sync keeps it, routes.ts VOTING_POWER_FROM_STATE), instead of the caller's `dist`: the same three values,
 * with each delegate looked up once among the voters (the definition's text asks the IN subquery in two places).
 * Measured on the benchmark's mirror (50,000 delegates): ~22 ms, against ~12 ms to copy `dist` and ~37 ms for the
 * query over it. Parameters: $governor and those of `powerSelect`.
 */
export const delegateActivityFromTalliesOver = (powerSelect: string): string => `
SELECT
  count(*) AS delegates,
  count(*) FILTER (WHERE active) AS active_delegates,
  CASE WHEN count(*) > 0 THEN (count(*) FILTER (WHERE active))::DOUBLE / count(*) END AS delegate_activity
FROM (
  SELECT d.entity IN (SELECT voter FROM voter_tally WHERE governor = $governor) AS active
  FROM (${powerSelect}) d WHERE d.w > 0
)
`
