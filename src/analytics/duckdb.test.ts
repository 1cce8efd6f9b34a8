import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {openAnalyticsDb} from './duckdb'

describe('openAnalyticsDb', () => {
  let tmp: string | undefined
  afterEach(() => {
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  it('creates the file\'s directory, refuses a second instance on the same file, and reopens it after close', async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-duckdb-'))
    const file = path.join(tmp, 'nested', 'analytics.duckdb')
    const db = await openAnalyticsDb(file)
    const conn = await db.connect()
    await conn.run('CREATE TABLE t AS SELECT 42 AS x')
    await expect(openAnalyticsDb(file)).rejects.toThrow(/already open/)
    db.close()
    db.close()
    await expect(db.connect()).rejects.toThrow(/closed/)
    expect(existsSync(file)).toBe(true)

    const again = await openAnalyticsDb(file)
    const rows = (await (await again.connect()).runAndReadAll('SELECT x FROM t')).getRowObjectsJson()
    expect(rows).toEqual([{x: 42}])
    again.close()
  })

  it('gives every :memory: open its own database', async () => {
    const a = await openAnalyticsDb(':memory:')
    const b = await openAnalyticsDb(':memory:')
    await (await a.connect()).run('CREATE TABLE only_in_a (x INT)')
    const seen = await (await b.connect()).runAndReadAll(`SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'only_in_a'`)
    expect(seen.getRowObjectsJson()).toEqual([{n: '0'}])
    a.close()
    b.close()
  })
})
