import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {queryOne} from '../metrics/sql-values'
import {nothingMirroredAbove, ROWS_ABOVE, rowsAboveAt} from './rows-above'
import {withMirrorSnapshot} from './mirror-snapshot'
import {writeSyncState} from './sync'
import {TEST_GOVERNOR as G, TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, applyTestSyncStep, openTestMirror, type TestEvent} from './test-events'

/** A transfer and a vote in every block of the range, so each table's newest row is at the range's end. */
function events(fromBlock: number, toBlock: number): TestEvent[] {
  const out: TestEvent[] = []
  for (let block = fromBlock; block <= toBlock; block++) {
    out.push({block, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(block % 5), value: '7'}})
    out.push({block, contract: G, kind: 'governor', name: 'VoteCast', args: {voter: acct(block % 3), proposalId: '1', support: 1, weight: '7', reason: ''}})
  }
  return out
}

/** The column rowsAboveAt gives, evaluated on the mirror. */
async function aboveBy(conn: DuckDBConnection, table: string, where: string, whereParams: Record<string, string>, block: number): Promise<boolean> {
  const above = await rowsAboveAt(conn, table, where, whereParams, block)
  return (await queryOne(conn, `SELECT ${above.sql} AS above`, above.params)).above === true
}

/** The scan itself, never shortened. */
async function aboveByScan(conn: DuckDBConnection, table: string, where: string, whereParams: Record<string, string>, block: number): Promise<boolean> {
  return (await queryOne(conn, `SELECT ${ROWS_ABOVE(table, where)} AS above`, {...whereParams, block: String(block)})).above === true
}

describe('rows above a block, from the last sync record when it answers', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  it('without a sync record, outside a suite, or at a block that is not an integer, nothing is assumed', async () => {
    await applyTestSyncStep(conn, -1, events(1, 10))
    await withMirrorSnapshot(conn, [], async () => {
      for (const block of [10, 11, 1000]) expect(nothingMirroredAbove(conn, block)).toBe(false)
    })
    await writeSyncState(conn, {height: 10, finalizedHeight: 10})
    expect(nothingMirroredAbove(conn, 10)).toBe(false)
    await withMirrorSnapshot(conn, [], async () => {
      expect(nothingMirroredAbove(conn, 10)).toBe(true)
      for (const block of ['10.5', '1e3', 1.5, Number.MAX_VALUE]) expect(nothingMirroredAbove(conn, block)).toBe(false)
      expect(nothingMirroredAbove(conn, 10n)).toBe(true)
    })
    expect(nothingMirroredAbove(conn, 10)).toBe(false)
  })

  it('answers as the scan does at every block, through new blocks and a rollback, and skips the scan at or above the newest row', async () => {
    const cases: [table: string, where: string, params: Record<string, string>][] = [
      ['token_transfer', 'true', {}],
      ['vote_cast', 'governor = $governor', {governor: G}],
      ['vote_cast', 'governor = $governor', {governor: '0x' + '9'.repeat(40)}],
    ]
    // Rows up to block 12; then a rollback to 8 with new rows up to 10; then Postgres' height beyond the rows (20).
    const steps: [cut: number, events: TestEvent[], height: number][] = [
      [-1, events(1, 12), 12],
      [8, events(9, 10), 10],
      [10, [], 20],
    ]
    for (const [cut, stepEvents, height] of steps) {
      await applyTestSyncStep(conn, cut, stepEvents)
      await writeSyncState(conn, {height, finalizedHeight: cut})
      const newest = Math.max(...stepEvents.map((e) => e.block), cut)
      await withMirrorSnapshot(conn, [], async () => {
        for (let block = 0; block <= 22; block++) {
          expect(nothingMirroredAbove(conn, block)).toBe(block >= newest)
          for (const [table, where, params] of cases) {
            expect(await aboveBy(conn, table, where, params, block)).toBe(await aboveByScan(conn, table, where, params, block))
          }
        }
        const atNewest = await rowsAboveAt(conn, 'vote_cast', 'governor = $governor', {governor: G}, newest)
        expect(atNewest).toEqual({sql: 'false', params: {}})
        const below = await rowsAboveAt(conn, 'vote_cast', 'governor = $governor', {governor: G}, newest - 1)
        expect(below).toEqual({sql: ROWS_ABOVE('vote_cast', 'governor = $governor'), params: {governor: G, block: String(newest - 1)}})
      })
    }
  })
})
