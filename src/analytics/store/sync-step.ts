import type {DuckDBConnection} from '@duckdb/node-api'
import {addDerivedStateAbove, deleteRowsAbove, stageRollbackAbove} from './derived-state'
import {extractTypedRows} from './extract'

/**
 * A sync's step in its transaction: the rollback above `cut` when `rollBack` (the derived state forgets the rows about
 * to go, then every mirror table loses them: derived-state.ts), `insertRows` (the new audit rows), their extraction above `cut`, and the
 * derived state taking them. The balances and the delegates' power, which follow rows by re-reading what they touch,
 * take the rows that went and the rows that came in one pass. Returns the audit rows deleted and the typed rows
 * inserted per table.
 */
export async function replaceRowsAbove(
  conn: DuckDBConnection,
  cut: number,
  rollBack: boolean,
  insertRows: () => Promise<void>,
): Promise<{dropped: number; typed: Record<string, number>}> {
  let dropped = 0
  if (rollBack) {
    await stageRollbackAbove(conn, cut)
    dropped = await deleteRowsAbove(conn, cut)
  }
  await insertRows()
  const typed = await extractTypedRows(conn, cut)
  await addDerivedStateAbove(conn, cut)
  return {dropped, typed}
}
