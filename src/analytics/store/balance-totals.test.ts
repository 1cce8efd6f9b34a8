import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {queryRows} from '../metrics/sql-values'
import {BALANCE_TOTAL_SUM_SQL} from './balance-totals'
import {initDerivedState} from './derived-state'
import {mirrorDigest} from './digest'
import {applyTestSyncStep, rebuiltMirrorDigest, TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, testMulberry, type TestEvent, openTestMirror} from './test-events'

const U = '0x' + '3'.repeat(40)

/**
 * Random transfers of two tokens: mints, burns, transfers of 0, that take an account below zero (the mirror does not
 * police ERC-20), and amounts near 2^120, whose sums need both halves of every balance.
 */
function transfers(fromBlock: number, toBlock: number, seed: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const out: TestEvent[] = []
  for (let block = fromBlock; block <= toBlock; block++) {
    for (let k = 0; k < 4; k++) {
      const [a, b] = [acct(rnd(12)), acct(rnd(12))]
      const r = rnd(10)
      const size = rnd(8)
      const value = size === 0 ? 2n ** 120n - BigInt(rnd(1000)) : size === 1 ? BigInt(rnd(3)) : BigInt(1 + rnd(1000)) * 10n ** 18n
      const [from, to] = r >= 8 ? [Z, a] : r === 7 ? [a, Z] : [a, b]
      out.push({block, contract: rnd(2) === 0 ? U : T, kind: 'token', name: 'Transfer', args: {from, to, value: String(value)}})
    }
  }
  return out
}

describe('balance_total, the totals of balance_state kept by the sync', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  /**
   * The kept totals and the same figures scanned from balance_state, per token, as text; the kept sum from its halves
   * in BigInt, exact at any size. BALANCE_TOTAL_SUM_SQL gives the same sum, or NULL beyond its range.
   */
  const keptAndScanned = async () => {
    const kept = (
      await queryRows(conn, `SELECT token, n, hi::VARCHAR AS hi, lo::VARCHAR AS lo, ${BALANCE_TOTAL_SUM_SQL('k')}::VARCHAR AS w_sql FROM balance_total k ORDER BY token`)
    ).map(({hi, lo, w_sql, ...r}) => {
      const w = BigInt(String(hi)) * 2n ** 64n + BigInt(String(lo))
      if (w_sql === null) beyondRange++
      else expect(w_sql).toBe(w.toString())
      // NULL only for a sum beyond HUGEINT's range.
      if (w_sql === null) expect(w >= 2n ** 127n - 2n ** 64n || w < -(2n ** 127n)).toBe(true)
      return {...r, w: w.toString()}
    })
    // (Through VARCHAR: DuckDB 1.5.6's HUGEINT → BIGNUM cast is wrong just above 2^120, see balance-totals.ts.)
    const scanned = await queryRows(conn, `SELECT token, count(*) AS n, sum(balance::VARCHAR::BIGNUM)::VARCHAR AS w FROM balance_state GROUP BY token ORDER BY token`)
    return {kept, scanned}
  }
  let beyondRange = 0

  it('equals a scan of balance_state after every step of random histories with rollbacks, and a rebuild', async () => {
    const rnd = testMulberry(5)
    let head = 0
    let steps = 0
    let withHighHalves = 0
    for (let step = 0; step < 24; step++) {
      // A rollback of up to 3 blocks below the head, or none, then 1-3 new blocks.
      const cut = Math.max(-1, head - rnd(4))
      const to = cut + 1 + rnd(3)
      await applyTestSyncStep(conn, cut, transfers(cut + 1, to, 100 + step))
      head = to
      const {kept, scanned} = await keptAndScanned()
      expect(kept).toEqual(scanned)
      if (kept.length > 0) steps++
      withHighHalves += Number((await queryRows(conn, `SELECT count(*) AS n FROM balance_total WHERE abs(hi) > 1000`))[0]!.n)
    }
    expect(steps).toBeGreaterThan(20)
    // Negative balances and sums beyond the low halves did occur.
    expect((await queryRows(conn, `SELECT count(*) AS n FROM balance_state WHERE balance < 0`))[0]!.n).not.toBe('0')
    expect(withHighHalves).toBeGreaterThan(0)
    const [kept, rebuilt] = [await mirrorDigest(conn), await rebuiltMirrorDigest(conn)]
    expect(kept.balance_total).toEqual(rebuilt.balance_total)
    expect(kept.balance_total?.rows).toBeGreaterThan(0)
  })

  it('keeps sums beyond HUGEINT exactly; BALANCE_TOTAL_SUM_SQL gives NULL there', async () => {
    const mint = (to: number, value: bigint): TestEvent => ({block: 1, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(to), value: String(value)}})
    await applyTestSyncStep(conn, -1, [mint(1, 2n ** 126n), mint(2, 2n ** 126n), mint(3, 2n ** 126n + 7n)])
    const before = beyondRange
    const {kept, scanned} = await keptAndScanned()
    expect(kept).toEqual(scanned)
    expect(kept.map((r) => r.w)).toEqual([String(3n * 2n ** 126n + 7n)])
    expect(beyondRange - before).toBe(1)
  })

  it('a mirror synced before the totals existed gets them at its next sync; every holder gone, no row', async () => {
    await applyTestSyncStep(conn, -1, transfers(1, 4, 7))
    await conn.run(`DELETE FROM balance_total`)
    await conn.run('BEGIN TRANSACTION')
    await initDerivedState(conn)
    await conn.run('COMMIT')
    const {kept, scanned} = await keptAndScanned()
    expect(kept.length).toBeGreaterThan(0)
    expect(kept).toEqual(scanned)
    // Rolling everything back leaves no balance, and no total.
    await applyTestSyncStep(conn, -1, [])
    expect(await queryRows(conn, `SELECT * FROM balance_total`)).toEqual([])
  })
})
