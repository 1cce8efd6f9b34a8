import type {DuckDBConnection} from '@duckdb/node-api'
import {holds} from '../duckdb'
import {applyStagedTransfers, stageTransfersAbove} from './balances'
import {BALANCE_TOTAL_INIT_CHECKS, initBalanceTotals} from './balance-totals'
import {DELEGATE_POWER_INIT_CHECKS, initDelegatePower, refreshStagedPower, stagePowerTouchedAbove} from './delegate-power'
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

/**
 * The rollback above `cut` on its own: the derived state forgets the rows about to go, then every mirror table loses
 * them. Returns the audit rows deleted. (A sync rolls back and extracts in one step: sync-step.ts.)
 */
export async function deleteAbove(conn: DuckDBConnection, cut: number): Promise<number> {
  await stageRollbackAbove(conn, cut)
  const dropped = await deleteRowsAbove(conn, cut)
  await applyStagedState(conn, cut)
  return dropped
}

/**
 * Before the rows above `cut` are deleted: the derived state that follows rows by sums subtracts them, the one that
 * re-reads what rows touch stages them (applyStagedState), and the kept rows derived from them go.
 */
export async function stageRollbackAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await logFairnessTouchedAbove(conn, cut)
  await stageTransfersAbove(conn, cut, -1)
  await addVotesAbove(conn, cut, -1)
  await addVoterTalliesAbove(conn, cut, -1)
  await stagePowerTouchedAbove(conn, cut, true)
  await dropValidatedPairsAbove(conn, cut)
  await dropVoteRowDigestsAbove(conn, cut)
  await dropProposalSnapshotsAbove(conn, cut)
}

/** Every mirror table loses its rows above `cut`. Returns the audit rows deleted. */
export async function deleteRowsAbove(conn: DuckDBConnection, cut: number): Promise<number> {
  let dropped = 0
  for (const table of MIRROR_TABLES) {
    const res = await conn.run(`DELETE FROM ${table} WHERE block_number > $cut`, {cut})
    if (table === 'audit_event') dropped = Number(res.rowsChanged)
  }
  return dropped
}

/** The staged balances and delegates (stageRollbackAbove, addDerivedStateAbove) applied, once the rows are final. */
async function applyStagedState(conn: DuckDBConnection, cut: number): Promise<void> {
  await applyStagedTransfers(conn)
  await refreshStagedPower(conn, cut)
}

/** After the typed rows above `cut` were extracted (extract.ts): the derived state takes them. */
export async function addDerivedStateAbove(conn: DuckDBConnection, cut: number, extracted: Readonly<Record<string, number>>): Promise<void> {
  const arrived = (...tables: string[]) => tables.some((t) => (extracted[t] ?? 0) > 0)
  await stageTransfersAbove(conn, cut, 1)
  await stagePowerTouchedAbove(conn, cut, false)
  await applyStagedState(conn, cut)
  // The steps below read only the typed rows above the cut of the tables named, so with none of those rows they add
  // nothing: skipped, as a live chain's sync often has no vote or contribution (~1–5 ms a statement).
  if (arrived('vote_cast')) {
    await addVotesAbove(conn, cut, 1)
    await addVoterTalliesAbove(conn, cut, 1)
    await addVoteRowDigestsAbove(conn, cut)
  }
  if (arrived('validation', 'contribution')) await addValidatedPairsAbove(conn, cut)
  // Reads the pairs above the cut (from validations and contributions), rewards and epochs.
  if (arrived('validation', 'contribution', 'reward_paid', 'epoch')) await logFairnessTouchedAbove(conn, cut)
}
