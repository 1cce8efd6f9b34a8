import {expect, it} from 'vitest'
import {IN_MEMORY, openAnalyticsDb} from '../duckdb'
import {queryRows} from '../metrics/sql-values'
import {dropSchema, ensureSchema} from './schema'
import {recordStatements} from './test-events'

const mirrorTables = async (conn: Parameters<typeof ensureSchema>[0]) =>
  (await queryRows(conn, `SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name`)).map((r) => String(r.table_name))

it('asks the catalogue once per connection once every table is there, and again after a drop or a rolled-back create', async () => {
  const db = await openAnalyticsDb(IN_MEMORY)
  try {
    const conn = await db.connect()
    const recorded = recordStatements(conn)
    // Created in a transaction that rolls back: the tables are gone, so the next call must create them again.
    await conn.run('BEGIN TRANSACTION')
    await ensureSchema(conn)
    await conn.run('ROLLBACK')
    expect(await mirrorTables(conn)).toEqual([])
    await ensureSchema(conn)
    const tables = await mirrorTables(conn)
    expect(tables).toContain('audit_event')
    expect(tables).toContain('sync_state')
    // Found complete: remembered from then on.
    recorded.statements.length = 0
    await ensureSchema(conn)
    await ensureSchema(conn)
    expect(recorded.statements.filter((s) => s.includes('duckdb_tables()'))).toHaveLength(1)
    // A drop forgets it: the next call creates every table again.
    await dropSchema(conn)
    expect(await mirrorTables(conn)).toEqual([])
    await ensureSchema(conn)
    expect(await mirrorTables(conn)).toEqual(tables)
    recorded.restore()
  } finally {
    db.close()
  }
})
