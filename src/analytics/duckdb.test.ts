import {existsSync, mkdtempSync, rmSync, statSync} from 'node:fs'
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

  it('keeps a commit of ~40 MB of updates in the WAL (no checkpoint at DuckDB\'s 16 MiB), and a 16MB threshold checkpoints it', async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-duckdb-'))
    const walAfterCommit = async (file: string, checkpointThreshold?: string): Promise<number> => {
      const db = await openAnalyticsDb(file, checkpointThreshold === undefined ? {} : {checkpointThreshold})
      try {
        const conn = await db.connect()
        // A large insert goes to the file directly; updates are what a sync logs (balance_state).
        await conn.run(`CREATE TABLE t AS SELECT i, md5(i::VARCHAR) AS s FROM range(500000) r(i)`)
        await conn.run(`UPDATE t SET s = md5(s) || md5(s || 'x')`)
        // DuckDB checkpoints at the first commit that finds the WAL beyond the threshold.
        await conn.run(`UPDATE t SET s = 'y' WHERE i = 1`)
        return existsSync(`${file}.wal`) ? statSync(`${file}.wal`).size : 0
      } finally {
        db.close()
      }
    }
    expect(await walAfterCommit(path.join(tmp, 'default.duckdb'))).toBeGreaterThan(16 * 1024 * 1024)
    expect(await walAfterCommit(path.join(tmp, 'small.duckdb'), '16MB')).toBeLessThan(1024 * 1024)
    // Nothing committed is lost either way.
    const again = await openAnalyticsDb(path.join(tmp, 'default.duckdb'))
    const rows = (await (await again.connect()).runAndReadAll(`SELECT count(*) AS n, count(*) FILTER (WHERE length(s) = 64) AS updated FROM t`)).getRowObjectsJson()
    expect(rows).toEqual([{n: '500000', updated: '499999'}])
    again.close()
  })
})
