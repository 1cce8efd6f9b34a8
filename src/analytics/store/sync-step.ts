import type {DuckDBConnection} from '@duckdb/node-api'
import {deleteRowsAbove, stageRollbackAbove} from './derived-state'
import {extractTyped} from './extract'

/**
 * A sync's step in its transaction: the rollback above `cut` when `rollBack` (rollBackAbove), then the new rows
 * (takeRowsAbove). Returns the audit rows deleted and the typed rows inserted per table.
 */
export async function replaceRowsAbove(
  conn: DuckDBConnection,
  cut: number,
  rollBack: boolean,
  insertRows: () => Promise<void>,
): Promise<{dropped: number; typed: Record<string, number>}> {
  const dropped = rollBack ? await rollBackAbove(conn, cut) : 0
  return {dropped, typed: await takeRowsAbove(conn, cut, insertRows)}
}

/**
 * The first half of a sync's step: the derived state forgets the rows above `cut` (derived-state.ts), then every mirror
 * table loses them. The balances and the delegates' power, which follow rows by re-reading what they touch, only stage
 * them: takeRowsAbove, which must follow in the same transaction, takes the rows that went and the rows that came in
 * one pass. It needs nothing but the cut, so the sync runs it while Postgres copies the new rows. Returns the audit rows
 * deleted.
 */
export async function rollBackAbove(conn: DuckDBConnection, cut: number): Promise<number> {
  await stageRollbackAbove(conn, cut)
  return deleteRowsAbove(conn, cut)
}

/**
 * The second half: `insertRows` (the new audit rows above `cut`), then their extraction, with which the derived state
 * takes them and what a rollback staged (extract.ts). Returns the typed rows inserted per table.
 */
export async function takeRowsAbove(conn: DuckDBConnection, cut: number, insertRows: () => Promise<void>): Promise<Record<string, number>> {
  await insertRows()
  return extractTyped(conn, cut)
}
