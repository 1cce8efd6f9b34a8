import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {concentrationSqlOver} from '../metrics/concentration'
import {queryOne} from '../metrics/sql-values'
import {deleteAbove} from './derived-state'
import {headBalanceBuilds, headBalancesRow, headBalanceTermScans} from './head-balances'
import {BALANCES_FROM_STATE} from './routes'
import {dropSchema, ensureSchema} from './schema'
import {
  applyTestSyncStep, TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, testMulberry, type TestEvent, openTestMirror,
} from './test-events'
import {keptAndQueryRows} from './test-kept-rows'

const U = '0x' + '3'.repeat(40)
/** The suite's query over balance_state in place (suite.ts without head-balances.ts). */
const QUERY = concentrationSqlOver(BALANCES_FROM_STATE, {lorenz: true})

/** Mints to 120 accounts of two tokens: equal amounts (ties) and wei-sized ones. */
function mints(block: number): TestEvent[] {
  return [...Array(120).keys()].map((i) => ({
    block, contract: i % 3 === 0 ? U : T, kind: 'token', name: 'Transfer',
    args: {from: Z, to: acct(i), value: String(i % 4 === 0 ? 10n ** 21n : BigInt(1 + i) * 123456789012345678901n)},
  }))
}

/** A few transfers per block: some empty an account (its whole balance), some mint or burn, some hit ties. */
function transfers(fromBlock: number, toBlock: number, seed: number, balances: () => Promise<Map<string, bigint>>): Promise<TestEvent[]> {
  const rnd = testMulberry(seed)
  return (async () => {
    const held = await balances()
    const out: TestEvent[] = []
    for (let block = fromBlock; block <= toBlock; block++) {
      for (let k = 0; k < 3; k++) {
        const [a, b] = [acct(rnd(130)), acct(rnd(130))]
        const r = rnd(10)
        const whole = held.get(a)
        const value = r < 2 && whole !== undefined && whole > 0n ? whole : BigInt(1 + rnd(1000)) * 10n ** 18n
        const [from, to] = r === 9 ? [Z, a] : r === 8 ? [a, Z] : [a, b]
        out.push({block, contract: rnd(3) === 0 ? U : T, kind: 'token', name: 'Transfer', args: {from, to, value: String(value)}})
      }
    }
    return out
  })()
}

describe('the token concentration at the head from the balances kept in the process', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  const held = async () =>
    new Map(
      (await conn.runAndReadAll(`SELECT account, balance::VARCHAR AS b FROM balance_state WHERE token = $t`, {t: T}))
        .getRowObjectsJson()
        .map((r) => [String(r.account), BigInt(String(r.b))]),
    )

  /** For both tokens and two parameter sets: the row equals the query's, value for value. */
  async function expectQueryRow(): Promise<void> {
    for (const {kept, query} of await keptAndQueryRows(conn, headBalancesRow, QUERY, [T, U])) {
      expect(Number(query.count)).toBeGreaterThan(1)
      expect(kept).toEqual(query)
    }
  }

  it('equals the query through sync steps with rollbacks, taking the logged changes without rebuilding', async () => {
    await applyTestSyncStep(conn, -1, mints(1))
    await expectQueryRow()
    const builds = headBalanceBuilds()
    let head = 1
    for (let step = 0; step < 8; step++) {
      // Every other step rolls back the last two blocks and replaces them (a reorg), then adds new blocks.
      const cut = step % 2 === 1 ? head - 2 : head
      await applyTestSyncStep(conn, cut, await transfers(cut + 1, cut + 3, 10 + step, held))
      head = cut + 3
      await expectQueryRow()
    }
    // Every change reached the kept balances through the log: no rebuild after the first build of each token.
    expect(headBalanceBuilds()).toBe(builds)
  })

  const logged = async () => Number((await queryOne(conn, `SELECT count(*) AS n FROM balance_changes`)).n)

  it('rebuilds when balance_state changed without its changes logged, and a failed sync logs nothing', async () => {
    await applyTestSyncStep(conn, -1, mints(1))
    // Nothing kept yet: the sync logged nothing (a first load of a million balances does not fill the log).
    expect(await logged()).toBe(0)
    await expectQueryRow()
    const builds = headBalanceBuilds()
    // A sync step that fails is rolled back with its logged changes.
    await applyTestSyncStep(conn, 1, await transfers(2, 4, 7, held))
    await conn.run('BEGIN TRANSACTION')
    await deleteAbove(conn, 1)
    await conn.run('ROLLBACK')
    await expectQueryRow()
    expect(headBalanceBuilds()).toBe(builds)
    // A change that bypassed the log (not something the sync does): the check against balance_state sees it.
    const [someone] = [...(await held()).keys()]
    const updated = await conn.run(`UPDATE balance_state SET balance = balance + 1 WHERE token = $t AND account = $a`, {t: T, a: someone ?? ''})
    expect(Number(updated.rowsChanged)).toBe(1)
    await expectQueryRow()
    expect(headBalanceBuilds()).toBe(builds + 1)
    // A token the sync stopped logging (its log grew too long untaken): its kept state is not trusted again.
    await conn.run(`DELETE FROM balance_log_tokens WHERE token = $t`, {t: T})
    await applyTestSyncStep(conn, 4, await transfers(5, 6, 8, held))
    await expectQueryRow()
    expect(headBalanceBuilds()).toBe(builds + 2)
    expect(await logged()).toBe(0)
  })

  it('leaves a token with no balance, or a balance beyond the limit, to the query', async () => {
    await applyTestSyncStep(conn, -1, [{block: 1, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(1), value: String(2n ** 104n)}}])
    expect(await headBalancesRow(conn, T, null, 101)).toBeUndefined()
    expect(await headBalancesRow(conn, U, null, 101)).toBeUndefined()
  })

  it('keeps the HHI, entropy and Theil sums through transfers that keep the total and the holders, rollbacks included', async () => {
    await applyTestSyncStep(conn, -1, mints(1))
    await expectQueryRow()
    const scans = headBalanceTermScans()
    // Transfers of 1 token between holders of T (each holds at least 123 tokens): no mint, no burn, no balance
    // emptied, no new holder.
    const holders = [...Array(120).keys()].filter((i) => i % 3 !== 0).map(acct)
    const rnd = testMulberry(5)
    const plain = (from: number, to: number): TestEvent[] =>
      [...Array(to - from + 1).keys()].flatMap((b) => [0, 1, 2].map(() => ({
        block: from + b, contract: T, kind: 'token', name: 'Transfer',
        args: {from: holders[rnd(holders.length)], to: holders[rnd(holders.length)], value: String(BigInt(1 + rnd(1000)) * 10n ** 15n)},
      })))
    let head = 1
    for (let step = 0; step < 6; step++) {
      const cut = step % 2 === 1 ? head - 2 : head
      await applyTestSyncStep(conn, cut, plain(cut + 1, cut + 3))
      head = cut + 3
      await expectQueryRow()
    }
    expect(headBalanceTermScans()).toBe(scans)
  })

  it('trusts nothing kept after a failure between taking the changes and summing them', async () => {
    await applyTestSyncStep(conn, -1, mints(1))
    await expectQueryRow()
    await applyTestSyncStep(conn, 1, await transfers(2, 3, 9, held))
    // The query that sums the logged changes fails once (a DuckDB error, an interrupted connection).
    const original = conn.runAndReadAll.bind(conn)
    let failed = false
    conn.runAndReadAll = (async (...args: Parameters<DuckDBConnection['runAndReadAll']>) => {
      if (!failed && args[0].includes('FROM balance_changes') && args[0].includes('AS m2')) {
        failed = true
        throw new Error('injected')
      }
      return original(...args)
    }) as DuckDBConnection['runAndReadAll']
    await expect(headBalancesRow(conn, T, null, 101)).rejects.toThrow('injected')
    conn.runAndReadAll = original
    const builds = headBalanceBuilds()
    await expectQueryRow()
    expect(headBalanceBuilds()).toBe(builds + 1)
  })

  it('after a rebuild of the mirror on the same connection, builds the kept state again', async () => {
    await applyTestSyncStep(conn, -1, mints(1))
    await applyTestSyncStep(conn, 1, await transfers(2, 4, 11, held))
    await expectQueryRow()
    const builds = headBalanceBuilds()
    // What rebuildFromScratch does in its transaction: every table dropped, then everything loaded again (here a
    // different history, of the same size).
    await dropSchema(conn)
    // The log goes with it: the load below logs nothing, and the kept state is rebuilt, not patched, at its next use.
    expect(Number((await queryOne(conn, `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name IN ('balance_changes', 'balance_log_tokens')`)).n)).toBe(0)
    await ensureSchema(conn)
    await applyTestSyncStep(conn, -1, mints(2))
    await applyTestSyncStep(conn, 2, await transfers(3, 5, 12, held))
    await expectQueryRow()
    expect(headBalanceBuilds()).toBe(builds + 2)
  })
})
