import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {expect, it} from 'vitest'
import {openAnalyticsDb} from '../duckdb'
import {queryRows} from '../metrics/sql-values'
import {ensureSchema} from './schema'

/** The HUGEINT columns a refresh scans whole, and a typed column left to DuckDB's default (bit-packed) for contrast. */
const SCANNED = [
  ['balance_state', 'balance'], ['validated_contribution', 'value'], ['delegate_power', 'new_votes'],
  ['contribution', 'units'], ['reward_paid', 'amount'], ['votes_change', 'new_votes'],
] as const

it('stores the HUGEINT columns a refresh scans whole uncompressed, once written to disk', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deai-storage-'))
  const db = await openAnalyticsDb(path.join(dir, 'mirror.duckdb'))
  try {
    const conn = await db.connect()
    await ensureSchema(conn)
    // Small values, the case bit-packing takes (and made slow); every other column its type's default.
    for (const [table, column] of [...SCANNED, ['token_transfer', 'value'] as const]) {
      const cols = (await queryRows(conn, `SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t AND database_name = current_database() ORDER BY column_index`, {t: table}))
      const values = cols.map((c) => (c.column_name === column ? '(i % 1000)::HUGEINT' : c.data_type === 'VARCHAR' ? `'x'` : c.data_type === 'BOOLEAN' ? 'true' : '1'))
      await conn.run(`INSERT INTO ${table} SELECT ${values.join(', ')} FROM range(10000) t(i)`)
    }
    await conn.run('CHECKPOINT')
    const compression = async (table: string, column: string) =>
      (await queryRows(conn, `SELECT DISTINCT compression FROM pragma_storage_info('${table}') WHERE column_name = $c AND segment_type = 'HUGEINT'`, {c: column})).map((r) => String(r.compression))
    for (const [table, column] of SCANNED) expect({table, column, compression: await compression(table, column)}).toEqual({table, column, compression: ['Uncompressed']})
    expect(await compression('token_transfer', 'value')).toContain('BitPacking')
  } finally {
    db.close()
    rmSync(dir, {recursive: true, force: true})
  }
})
