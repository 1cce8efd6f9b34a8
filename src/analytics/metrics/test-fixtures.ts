/**
 * Test support: an in-memory DuckDB and loaders that (re)create the relations the metric queries read, from
 * plain arrays, through the appender. Used only by the tests beside this file.
 */
import type {DuckDBConnection} from '@duckdb/node-api'
import {DuckDBInstance} from '../duckdb'

export interface TestDb {
  conn: DuckDBConnection
  close(): void
}

export async function openTestDb(): Promise<TestDb> {
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  return {
    conn,
    close() {
      conn.closeSync()
      instance.closeSync()
    },
  }
}

/**
 * Runs `body` on a database of its own, closed after it whatever happens. A property that owns its database cannot
 * write into the tables of the next test if one of its runs ever outlives the test timeout.
 */
export async function withOwnDb(body: (db: TestDb) => Promise<void>): Promise<void> {
  const db = await openTestDb()
  try {
    await body(db)
  } finally {
    db.close()
  }
}

type Column = 'VARCHAR' | 'HUGEINT' | 'INTEGER'
type Cell = string | bigint | number

/** CREATE OR REPLACE TABLE `name` with the given columns, then append `rows` (tuples in column order). */
export async function loadTable(
  conn: DuckDBConnection,
  name: string,
  columns: readonly (readonly [string, Column])[],
  rows: readonly (readonly Cell[])[],
): Promise<void> {
  if (!/^[a-z_]+$/.test(name) || columns.some(([c]) => !/^[a-z_]+$/.test(c))) throw new Error('bad identifier')
  await conn.run(`CREATE OR REPLACE TABLE ${name} (${columns.map(([c, t]) => `${c} ${t}`).join(', ')})`)
  const appender = await conn.createAppender(name)
  for (const row of rows) {
    columns.forEach(([, type], i) => {
      const cell = row[i]
      if (type === 'VARCHAR' && typeof cell === 'string') appender.appendVarchar(cell)
      else if (type === 'HUGEINT' && typeof cell === 'bigint') appender.appendHugeInt(cell)
      else if (type === 'INTEGER' && typeof cell === 'number') appender.appendInteger(cell)
      else throw new Error(`cell ${String(cell)} does not fit ${type}`)
    })
    appender.endRow()
  }
  appender.closeSync()
}

export function loadDist(conn: DuckDBConnection, entries: readonly { entity: string; w: bigint }[]): Promise<void> {
  return loadTable(conn, 'dist', [['entity', 'VARCHAR'], ['w', 'HUGEINT']], entries.map((e) => [e.entity, e.w]))
}

/** `dist` from bare weights, entities named e0, e1, … */
export function loadWeights(conn: DuckDBConnection, weights: readonly bigint[]): Promise<void> {
  return loadDist(conn, weights.map((w, i) => ({ entity: `e${i}`, w })))
}

const BOTH_PATHS = 'SELECT * FROM result_fast\nUNION ALL\nSELECT * FROM result_wide'
const FAST_BOUND = '< 4.2e37, false)'

function replaceOnce(sql: string, from: string, to: string): string {
  if (sql.split(from).length !== 2) throw new Error(`test SQL variant: expected exactly one ${JSON.stringify(from)}`)
  return sql.replace(from, () => to)
}

/** A participation query (PARTICIPATION_SQL or its grouped twin) with a `path` column: 'fast' or 'wide'. */
export function withPathColumn(sql: string): string {
  return replaceOnce(sql, BOTH_PATHS, "SELECT 'fast' AS path, * FROM result_fast\nUNION ALL\nSELECT 'wide' AS path, * FROM result_wide")
}

/** A participation query forced onto one path (forcing 'fast' is sound only where no HUGEINT sum can overflow). */
export function onPath(sql: string, path: 'fast' | 'wide'): string {
  return replaceOnce(sql, FAST_BOUND, path === 'fast' ? '< 1e308, false)' : '< 0, false)')
}
