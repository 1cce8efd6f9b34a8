import type {DuckDBConnection} from '@duckdb/node-api'
import {hasDerivedTable} from './derived-tables'
import {type MirrorSnapshot, mirrorSnapshotOf} from './mirror-snapshot'

/**
 * Whether no (proposal, voter) pair of `governor` has two vote_cast rows in the mirror. A Governor takes one vote per
 * voter and proposal, so this holds for real governors; a governor that allowed a second vote would break it.
 *
 * Read off the voter tallies the sync keeps (voter-tallies.ts): their proposals per voter add up to the governor's
 * distinct (proposal, voter) pairs, which equal its vote rows exactly when no pair repeats. A mirror without the
 * tallies, or with tallies not yet filled, answers false. Holding for every mirrored row, it holds for the rows at or
 * below any block too.
 *
 * When it holds, summing votes per (proposal, voter) changes no row, so the per-proposal weights (group_dist, routes.ts)
 * and the grouped participation (PARTICIPATION_BY_GROUP_ONE_VOTE_EACH_SQL, metrics/grouped.ts) skip that grouping: a
 * hash aggregate over a million voter names, each ~0.4–0.8 s of CPU at the benchmark's size.
 */
export function oneVoteEach(conn: DuckDBConnection, governor: string): Promise<boolean> {
  // Inside a suite, asked once per governor for both connections (the route and the twin ask it; ~12 ms a statement
  // in a refresh): the answer holds while the suite's snapshot does (mirror-snapshot.ts).
  const snapshot = mirrorSnapshotOf(conn)
  if (!snapshot) return readOneVoteEach(conn, governor)
  let answers = answered.get(snapshot)
  if (!answers) answered.set(snapshot, (answers = new Map()))
  let answer = answers.get(governor)
  if (!answer) answers.set(governor, (answer = readOneVoteEach(conn, governor)))
  return answer
}

const answered = new WeakMap<MirrorSnapshot, Map<string, Promise<boolean>>>()

async function readOneVoteEach(conn: DuckDBConnection, governor: string): Promise<boolean> {
  if (!(await hasDerivedTable(conn, 'voter_tally'))) return false
  const r = await conn.runAndReadAll(ONE_VOTE_EACH_SQL, {governor})
  return r.getRowObjectsJson()[0]?.holds === true
}

const ONE_VOTE_EACH_SQL = `SELECT
  (SELECT coalesce(sum(proposals), 0) FROM voter_tally WHERE governor = $governor) = (SELECT count(*) FROM vote_cast WHERE governor = $governor)
  AS holds`
