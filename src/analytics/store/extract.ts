import type {DuckDBConnection} from '@duckdb/node-api'
import {addDerivedStateAbove} from './derived-state'
import {TYPED_TABLES, type TypedColumn, type TypedTable} from './schema'

/**
 * Fills the typed tables (and oversized_amount, and the derived balance_state) from the audit rows above block `$cut`, i.e. the rows the current
 * sync has just appended. The SQL is generated from the TYPED_TABLES specs, so a table's DDL and its extraction
 * cannot drift apart; only constant names from those specs are spliced in, every value is a bound parameter.
 *
 * Audit rows whose arguments did not decode (`args.decodeError`) are evidence only, as in the processor: they make
 * no typed row.
 */
const arg = (field: string) => `json_extract_string(e.args, '$.${field}')`

function sourceFilter(t: TypedTable): string {
  const events = t.events.map((n) => `'${n}'`).join(', ')
  return `e.block_number > $cut AND e.contract_kind = '${t.contractKind}' AND e.event_name IN (${events})
    AND ${arg('decodeError')} IS NULL`
}

export function insertTypedSql(t: TypedTable): string {
  const names = ['id', 'block_number', ...t.columns.map((c) => c.name)].join(', ')
  const exprs = ['e.id', 'e.block_number', ...t.columns.map((c) => c.expr)].join(', ')
  return `INSERT INTO ${t.name} (${names}) SELECT ${exprs} FROM audit_event e WHERE ${sourceFilter(t)}`
}

/**
 * A uint argument that is present but did not convert, recorded with its exact decimal text. Found from the typed
 * table's NULLs rather than by re-parsing every audit row's JSON (~220 ms per million rows and column); the JSON is
 * read again only for those few rows.
 */
export function insertOversizedSql(t: TypedTable, c: TypedColumn & {uintField: string}): string {
  return `INSERT INTO oversized_amount (id, block_number, table_name, column_name, raw)
    SELECT t.id, t.block_number, '${t.name}', '${c.name}', ${arg(c.uintField)}
    FROM ${t.name} t JOIN audit_event e ON e.id = t.id
    WHERE t.block_number > $cut AND e.block_number > $cut AND t.${c.name} IS NULL AND ${arg(c.uintField)} IS NOT NULL`
}

const hasUint = (c: TypedColumn): c is TypedColumn & {uintField: string} => c.uintField !== undefined

const eventKey = (contractKind: string, eventName: string) => `${contractKind}/${eventName}`

/** The (contract kind, event name) pairs among the audit rows above the cut, as eventKey. */
async function eventsAbove(conn: DuckDBConnection, cut: number): Promise<Set<string>> {
  const reader = await conn.runAndReadAll('SELECT DISTINCT contract_kind, event_name FROM audit_event WHERE block_number > $cut', {cut})
  return new Set(reader.getRowObjectsJson().map((r) => eventKey(String(r.contract_kind), String(r.event_name))))
}

/** Runs inside the caller's transaction. Returns rows inserted per typed table (0 for a table with no new event). */
export async function extractTyped(conn: DuckDBConnection, cut: number): Promise<Record<string, number>> {
  // A table's insert costs ~2–4 ms even when none of its events arrived (its filter and JSON paths over the new rows):
  // a sync at the benchmark's size has none for 5 of the 13 tables, and a live chain's sync usually has a few kinds
  // of events only. One DISTINCT over the new rows (~1–2 ms) says which inserts can find rows.
  const present = await eventsAbove(conn, cut)
  const counts: Record<string, number> = {}
  const extracted: TypedTable[] = []
  for (const t of TYPED_TABLES) {
    counts[t.name] = 0
    if (!t.events.some((e) => present.has(eventKey(t.contractKind, e)))) continue
    const res = await conn.run(insertTypedSql(t), {cut})
    counts[t.name] = Number(res.rowsChanged)
    extracted.push(t)
  }
  // The join of insertOversizedSql still scans the new audit rows (~70 ms per million), so it runs only for a column
  // with a NULL among the new rows. One UNION ALL counts them for every uint column of a table that got rows: ~4 ms a
  // sync at the benchmark's size, against ~9 ms for a query per column and ~25 ms for one row of scalar subqueries.
  const uintColumns = extracted.flatMap((t) => t.columns.filter(hasUint).map((c) => ({t, c})))
  if (uintColumns.length > 0) {
    const nullCounts = await conn.runAndReadAll(
      uintColumns.map(({t, c}, i) => `SELECT ${i} AS i, count(*) AS n FROM ${t.name} WHERE block_number > $cut AND ${c.name} IS NULL`).join(' UNION ALL '),
      {cut},
    )
    const withNulls = new Set(nullCounts.getRowObjectsJson().filter((r) => Number(r.n) > 0).map((r) => Number(r.i)))
    for (const [i, {t, c}] of uintColumns.entries()) if (withNulls.has(i)) await conn.run(insertOversizedSql(t, c), {cut})
  }
  // Derived state follows the typed rows it is derived from, in the same transaction (derived-state.ts).
  await addDerivedStateAbove(conn, cut, counts)
  return counts
}
