import type {DuckDBConnection} from '@duckdb/node-api'
import {holds} from '../duckdb'
import {applyTransfersAbove} from './balances'
import {BALANCE_TOTAL_INIT_CHECKS, initBalanceTotals} from './balance-totals'
import {DELEGATE_POWER_INIT_CHECKS, initDelegatePower, refreshDelegatePowerAbove} from './delegate-power'
import {logFairnessTouchedAbove} from './fairness-log'
import {addVotesAbove, HEAD_DIGEST_INIT_CHECKS, initHeadDigests} from './head-digests'
import {dropProposalSnapshotsAbove} from './proposal-snapshots'
import {MIRROR_TABLES} from './schema'
import {addValidatedPairsAbove, dropValidatedPairsAbove, initValidatedPairs, VALIDATED_PAIR_INIT_CHECKS} from './validated-contributions'
import {addVoteRowDigestsAbove, dropVoteRowDigestsAbove, initVoteRowDigests, VOTE_ROW_DIGEST_INIT_CHECKS} from './vote-digests'
import {addVoterTalliesAbove, initVoterTallies, VOTER_TALLY_INIT_CHECKS} from './voter-tallies'

/**
 * The steps of a sync that keep the derived state (schema.ts, DERIVED_TABLES) in step with the mirror's rows, in one
 * place: sync.ts runs them in its transaction, and the unit tests' sync step (test-events.ts) runs the same ones.
 * Each derived table follows the rows above a cut only: it forgets them before a rollback deletes them, and takes
 * the new ones after they are extracted.
 */

/**
 * Every condition under which a step of initDerivedState fills something, each from the module whose step checks it.
 * A step added there without its condition here would never run on a mirror that has everything else:
 * derived-state.test.ts takes a mirror through every state these steps repair.
 */
const INIT_CHECKS: readonly string[] = [
  ...HEAD_DIGEST_INIT_CHECKS, ...BALANCE_TOTAL_INIT_CHECKS, ...VOTER_TALLY_INIT_CHECKS, ...DELEGATE_POWER_INIT_CHECKS, ...VALIDATED_PAIR_INIT_CHECKS, ...VOTE_ROW_DIGEST_INIT_CHECKS,
]

/**
 * Fills each derived table from scratch when it is empty while the mirror holds its rows (a rebuild, or a mirror made
 * before the table existed). Before the rollback step.
 *
 * Every sync calls it, and almost always nothing is missing: one query asks every step's condition first (asked one
 * by one, ten queries took ~15 ms of every sync at the benchmark's size). When one holds, the steps run in order, each
 * asking its own again, since a step can fill what a later one checks.
 */
export async function initDerivedState(conn: DuckDBConnection): Promise<void> {
  if (!(await holds(conn, INIT_CHECKS.map((c) => `(${c})`).join(' OR ')))) return
  await initHeadDigests(conn)
  await initBalanceTotals(conn)
  await initVoterTallies(conn)
  await initDelegatePower(conn)
  await initValidatedPairs(conn)
  await initVoteRowDigests(conn)
}

/** The rollback above `cut`: the derived state forgets the rows about to go, then every mirror table loses them. Returns the audit rows deleted. */
export async function deleteAbove(conn: DuckDBConnection, cut: number): Promise<number> {
  await logFairnessTouchedAbove(conn, cut)
  await applyTransfersAbove(conn, cut, -1)
  await addVotesAbove(conn, cut, -1)
  await addVoterTalliesAbove(conn, cut, -1)
  await refreshDelegatePowerAbove(conn, cut, false)
  await dropValidatedPairsAbove(conn, cut)
  await dropVoteRowDigestsAbove(conn, cut)
  await dropProposalSnapshotsAbove(conn, cut)
  let dropped = 0
  for (const table of MIRROR_TABLES) {
    const res = await conn.run(`DELETE FROM ${table} WHERE block_number > $cut`, {cut})
    if (table === 'audit_event') dropped = Number(res.rowsChanged)
  }
  return dropped
}

/** After the typed rows above `cut` were extracted (extract.ts): the derived state takes them. */
export async function addDerivedStateAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await applyTransfersAbove(conn, cut, 1)
  await addVotesAbove(conn, cut, 1)
  await addVoterTalliesAbove(conn, cut, 1)
  await refreshDelegatePowerAbove(conn, cut, true)
  await addValidatedPairsAbove(conn, cut)
  await addVoteRowDigestsAbove(conn, cut)
  await logFairnessTouchedAbove(conn, cut)
}
