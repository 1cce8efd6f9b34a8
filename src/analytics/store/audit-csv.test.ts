import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, expect, it} from 'vitest'
import {type AnalyticsDb, IN_MEMORY, openAnalyticsDb} from '../duckdb'
import {queryRows} from '../metrics/sql-values'
import {CSV_MAX_LINE_BYTES, loadAuditCsv} from './audit-csv'
import {ensureSchema} from './schema'

let dir: string
let db: AnalyticsDb
beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'deai-audit-csv-'))
  db = await openAnalyticsDb(IN_MEMORY)
})
afterEach(() => {
  db.close()
  rmSync(dir, {recursive: true, force: true})
})

/** A line as Postgres' COPY ... WITH (FORMAT csv) writes an audit row: a field with quotes or commas is quoted, "" inside. */
function csvLine(id: string, args: string): string {
  const quoted = `"${args.replaceAll('"', '""')}"`
  return [id, '7', '0xhash', '2026-01-01 00:00:00+00', '0xtx', '0', '0', '0xc', 'token', 'Transfer', quoted].join(',')
}

async function load(lines: string[]) {
  const file = path.join(dir, 'rows.csv')
  writeFileSync(file, lines.join('\n') + '\n')
  const conn = await db.connect()
  await ensureSchema(conn)
  const loaded = await loadAuditCsv(conn, file)
  const rows = await queryRows(conn, 'SELECT id, length(CAST(args AS VARCHAR)) AS n, CAST(args AS VARCHAR) AS args FROM audit_event ORDER BY id')
  return {loaded, rows}
}

it('reads a line just under the longest allowed, with the rows around it, byte for byte', async () => {
  // The JSON text takes the whole line but for the other fields (< 200 bytes) and the doubled quotes of its key.
  const long = `{"data": "${'ab'.repeat((CSV_MAX_LINE_BYTES - 400) / 2)}"}`
  const {loaded, rows} = await load([csvLine('a', '{"v": ""}'), csvLine('b', long), csvLine('c', '{"v": "x,\\"y\\""}')])
  expect(loaded).toBe(3)
  expect(rows.map((r) => [r.id, Number(r.n)])).toEqual([
    ['a', 9],
    ['b', long.length],
    ['c', 16],
  ])
  expect(rows[0]!.args).toBe('{"v": ""}')
  expect(rows[2]!.args).toBe('{"v": "x,\\"y\\""}')
})

it('fails on a line longer than the longest allowed, and appends nothing', async () => {
  const tooLong = `{"data": "${'a'.repeat(CSV_MAX_LINE_BYTES + 10)}"}`
  const conn = await db.connect()
  await ensureSchema(conn)
  await expect(load([csvLine('a', '{}'), csvLine('b', tooLong)])).rejects.toThrow(/CSV Error on Line/)
  expect(await queryRows(conn, 'SELECT count(*)::INTEGER AS n FROM audit_event')).toEqual([{n: 0}])
})
