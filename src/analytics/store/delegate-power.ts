import type {DuckDBConnection} from '@duckdb/node-api'
import {hasRows, holds} from '../duckdb'
import {SCANNED_HUGEINT} from './column-storage'
import {addDelegatePowerRows} from './head-digests'

/**
 * Each delegate's current voting power, kept by the sync, so that a refresh at the head reads ~50,000 delegates from
 * a table instead of ranking every DelegateVotesChanged row (500,000 at the benchmark's size) for VOTING_POWER_AT and
 * again for TOP_HOLDERS_AT (~60 ms each, three times a refresh).
 *
 * delegate_power(token, delegate, id, new_votes) holds, per (token, delegate) with a mirrored votes_change row, its
 * newest row (greatest id): the row VOTING_POWER_AT keeps with no block bound. new_votes is that row's value as
 * mirrored, NULL included (an amount beyond HUGEINT, see schema.ts) and 0 included: the reader (routes.ts) applies
 * VOTING_POWER_AT's own filter (w > 0), and runs the query instead, which raises its error naming the event, while
 * any vote change of the mirror did not fit.
 *
 * How it follows the rows: the sync changes votes_change only above a cut. A delegate with rows above the cut, before
 * a rollback deletes them or after new rows are extracted, is TOUCHED; once the new rows are in, its newest row is
 * the newest of all its rows (ids grow with the block), and of its rows above the cut when only new rows touched it.
 * Untouched delegates keep their row. A mirror synced in steps therefore holds exactly what a rebuild holds (the
 * sync tests compare the two: it is a derived table of mirrorDigest).
 */
/**
 * How many mirrored vote changes did not fit (new_votes NULL, the exact decimal in oversized_amount), as a scalar
 * subquery. While it is above 0, delegate_power cannot stand for VOTING_POWER_AT: the readers (routes.ts,
 * proposal-snapshots.ts) then run the query over votes_change, which raises the error naming the event. The twin of
 * TRANSFERS_LEFT_OUT_OF_BALANCES (balances.ts).
 */
export const VOTE_CHANGES_LEFT_OUT_OF_POWER = `(SELECT count(*) FROM oversized_amount WHERE table_name = 'votes_change')`

export const DELEGATE_POWER_DDL = `CREATE TABLE IF NOT EXISTS delegate_power (token VARCHAR NOT NULL, delegate VARCHAR NOT NULL, id VARCHAR NOT NULL,
  new_votes ${SCANNED_HUGEINT})`

/** The staged delegates: a TEMP table, so a failed sync takes it back with the rest. */
const POWER_TOUCHED_DDL = `CREATE TEMP TABLE IF NOT EXISTS power_touched (token VARCHAR NOT NULL, delegate VARCHAR NOT NULL, rolled_back BOOLEAN NOT NULL)`

/**
 * Stages the delegates with vote changes above `cut` as touched: `rollback` before a rollback deletes those rows, or
 * after new rows were extracted. A sync that rolls back stages both and re-reads each touched delegate's newest row
 * once, after the new rows are in (refreshStagedPower): ~15 ms less than re-reading it twice, at the benchmark's size.
 */
export async function stagePowerTouchedAbove(conn: DuckDBConnection, cut: number, rollback: boolean): Promise<void> {
  await conn.run(POWER_TOUCHED_DDL)
  await conn.run(`INSERT INTO power_touched SELECT DISTINCT token, delegate, $rollback FROM votes_change WHERE block_number > $cut`, {cut, rollback})
}

/**
 * Replaces the staged delegates' rows (stagePowerTouchedAbove, which every caller runs first: it makes the staging
 * table) with their newest vote change and forgets them, once the rows above `cut` are final (after a rollback's
 * deletes, or after new rows were extracted). A delegate staged by a rollback may have its newest row anywhere, so all
 * its rows are read; while only new rows are staged, only the rows above `cut`, where their newest row is.
 */
export async function refreshStagedPower(conn: DuckDBConnection, cut: number): Promise<void> {
  if (await hasRows(conn, 'power_touched')) {
    const rows = (await holds(conn, 'EXISTS (SELECT 1 FROM power_touched WHERE rolled_back)')) ? 'true' : 'v.block_number > $cut'
    await addDelegatePowerRows(conn, -1)
    await conn.run(`DELETE FROM delegate_power p USING power_touched t WHERE p.token = t.token AND p.delegate = t.delegate`)
    await conn.run(
      `INSERT INTO delegate_power
       SELECT v.token, v.delegate, v.id, v.new_votes FROM votes_change v SEMI JOIN power_touched t ON t.token = v.token AND t.delegate = v.delegate
       WHERE ${rows}
       QUALIFY row_number() OVER (PARTITION BY v.token, v.delegate ORDER BY v.id DESC) = 1`,
      rows === 'true' ? {} : {cut},
    )
    await addDelegatePowerRows(conn, 1)
  }
  await conn.run(`DROP TABLE power_touched`)
}

/**
 * Fills delegate_power from scratch when it holds nothing while the mirror holds votes_change rows (a rebuild, or a
 * mirror made before the table existed). Inside the sync's transaction, before its rollback step.
 */
export async function initDelegatePower(conn: DuckDBConnection): Promise<void> {
  if (await holds(conn, NO_DELEGATE_POWER)) {
    await stagePowerTouchedAbove(conn, -1, false)
    await refreshStagedPower(conn, -1)
  }
}

const NO_DELEGATE_POWER = `NOT EXISTS (SELECT 1 FROM delegate_power) AND EXISTS (SELECT 1 FROM votes_change)`

/** The conditions under which initDelegatePower fills something (derived-state.ts asks them all at once). */
export const DELEGATE_POWER_INIT_CHECKS: readonly string[] = [NO_DELEGATE_POWER]
