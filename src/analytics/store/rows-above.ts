import type {DuckDBConnection} from '@duckdb/node-api'
import {hasDerivedTable} from './derived-tables'

/**
 * Whether `table` has rows matching `where` above CAST($block AS BIGINT), as a SQL boolean: "is $block at or above the
 * last such row", which decides whether kept state stands for an input at $block. Asked this way, DuckDB skips every
 * row group whose block range lies at or below $block (at the head, all of them: ~2 ms) instead of reading the filter
 * column of every row for a max(block_number) (6–10 ms on 500,000 rows).
 */
export const ROWS_ABOVE = (table: string, where: string): string =>
  `EXISTS (SELECT 1 FROM ${table} WHERE block_number > CAST($block AS BIGINT) AND ${where})`

/**
 * ROWS_ABOVE(table, where) at `block` as a SELECT column with its parameters (`whereParams`, the parameters of
 * `where`, and $block), or the constant `false` with no parameters when the last sync recorded that nothing lies above
 * the block (nothingMirroredAbove): the suite asks this at the head about half a dozen times a refresh, and each scan
 * of the newest row groups cost 2–10 ms beside the other connection's work.
 */
export async function rowsAboveAt(
  conn: DuckDBConnection,
  table: string,
  where: string,
  whereParams: Record<string, string>,
  block: string | number | bigint,
): Promise<{sql: string; params: Record<string, string>}> {
  if (await nothingMirroredAbove(conn, block)) return {sql: 'false', params: {}}
  return {sql: ROWS_ABOVE(table, where), params: {...whereParams, block: String(block)}}
}

/**
 * Whether no row of any mirror table lies above `block`, by the last sync's record: sync_state.last_block is the block
 * of the newest mirrored audit row, and every typed and derived row comes from an audit row of its block. False when
 * there is no record (a mirror that was never synced) or the block is not an integer.
 *
 * For readers of a committed mirror (the suite, the reproduce command): inside a sync's transaction the record is the
 * previous sync's until the sync writes its own at the end, so the sync's own steps never ask this.
 */
export async function nothingMirroredAbove(conn: DuckDBConnection, block: string | number | bigint): Promise<boolean> {
  const asked = asBlock(block)
  if (asked === undefined || !(await hasDerivedTable(conn, 'sync_state'))) return false
  const row = (await conn.runAndReadAll('SELECT CAST(last_block AS VARCHAR) AS last FROM sync_state')).getRowObjectsJson()[0]
  return row !== undefined && asked >= BigInt(String(row.last))
}

function asBlock(block: string | number | bigint): bigint | undefined {
  if (typeof block === 'number') return Number.isSafeInteger(block) ? BigInt(block) : undefined
  if (typeof block === 'bigint') return block
  return /^-?\d+$/.test(block) ? BigInt(block) : undefined
}
