import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {type AnalyticsDb, openAnalyticsDb} from '../duckdb'
import {INPUT_DIGEST_SQL} from '../jobs/measurement'
import {applyTransfersAbove} from './balances'
import {mirrorDigest} from './digest'
import {extractTyped} from './extract'
import {refreshDelegatePowerAbove} from './delegate-power'
import {BALANCES_AT, materialize, TOP_HOLDERS_AT, VOTING_POWER_AT} from './inputs'
import {materializeInput} from './routes'
import {ensureSchema, MIRROR_TABLES} from './schema'
import {TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, testMulberry, insertTestEvents, type TestEvent, openTestMirror} from './test-events'

const U = '0x' + '2'.repeat(40)

/** Mints, burns, transfers (some leaving a balance of exactly 0, some negative: the mirror does not police ERC-20), two tokens. */
function transfers(fromBlock: number, toBlock: number, seed: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const out: TestEvent[] = []
  // A small balance, a balance back to exactly 0, a negative one.
  const t = (from: string, to: string, value: string): TestEvent => ({block: fromBlock, contract: T, kind: 'token', name: 'Transfer', args: {from, to, value}})
  out.push(t(Z, acct(50 + seed), '7'), t(Z, acct(60 + seed), '9'), t(acct(60 + seed), Z, '9'), t(acct(70 + seed), acct(50 + seed), '3'))
  for (let block = fromBlock; block <= toBlock; block++) {
    for (let k = 0; k < 5; k++) {
      const token = rnd(4) === 0 ? U : T
      const r = rnd(10)
      const [a, b] = [acct(rnd(10)), acct(rnd(10))]
      const v = String(rnd(3) === 0 ? 7 : BigInt(rnd(1000)) * 10n ** 20n)
      const [from, to] = r < 3 ? [Z, a] : r < 4 ? [a, Z] : [a, b]
      out.push({block, contract: token, kind: 'token', name: 'Transfer', args: {from, to, value: v}})
    }
  }
  return out
}

async function rows(conn: DuckDBConnection, relation: string) {
  return (await conn.runAndReadAll(`SELECT entity, CAST(w AS VARCHAR) AS w, typeof(w) AS t FROM ${relation} ORDER BY entity`)).getRowObjectsJson()
}

describe('BALANCES_AT at the head from balance_state', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  /** Both routes at `block`, for both tokens: the same rows, types and input digest. */
  async function expectSameAsQuery(block: number): Promise<void> {
    for (const token of [T, U]) {
      const viaRoute = await materializeInput(conn, 'dist', BALANCES_AT, {token, block})
      const routed = await rows(conn, 'dist')
      const routedDigest = (await conn.runAndReadAll(INPUT_DIGEST_SQL('dist'))).getRowObjectsJson()
      const viaQuery = await materialize(conn, 'dist', BALANCES_AT, {token, block})
      expect(routed).toEqual(await rows(conn, 'dist'))
      expect(routedDigest).toEqual((await conn.runAndReadAll(INPUT_DIGEST_SQL('dist'))).getRowObjectsJson())
      expect(viaRoute).toBe(viaQuery)
      expect(viaQuery).toBeGreaterThan(0)
    }
  }

  it('equals the query after extraction, and after a rollback and new blocks equals a rebuild', async () => {
    await insertTestEvents(conn, transfers(1, 30, 1))
    await extractTyped(conn, -1)
    expect(Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM balance_state`)).getRowObjectsJson()[0]?.n)).toBeGreaterThan(5)
    await expectSameAsQuery(30)
    await expectSameAsQuery(1000)

    // A rollback above block 20 (as the sync does it: derived state first, then every mirror table), new blocks.
    await applyTransfersAbove(conn, 20, -1)
    for (const table of MIRROR_TABLES) await conn.run(`DELETE FROM ${table} WHERE block_number > 20`)
    await insertTestEvents(conn, transfers(21, 35, 2).map((e, i) => ({...e, logIndex: 1000 + i})))
    await extractTyped(conn, 20)
    await expectSameAsQuery(35)

    const fresh = await openAnalyticsDb(':memory:')
    try {
      const c2 = await fresh.connect()
      await ensureSchema(c2)
      const events = (await conn.runAndReadAll(`SELECT block_number, contract, contract_kind, event_name, CAST(args AS VARCHAR) AS args, log_index FROM audit_event ORDER BY id`)).getRowObjectsJson()
      await insertTestEvents(c2, events.map((e) => ({
        block: Number(e.block_number), logIndex: Number(e.log_index), contract: String(e.contract), kind: String(e.contract_kind), name: String(e.event_name),
        args: JSON.parse(String(e.args)) as Record<string, unknown>,
      })))
      await extractTyped(c2, -1)
      expect((await mirrorDigest(conn)).balance_state).toEqual((await mirrorDigest(c2)).balance_state)
    } finally {
      fresh.close()
    }
  })

  it('below the head, or with an amount that did not fit, the query itself runs (and raises its error)', async () => {
    await insertTestEvents(conn, transfers(1, 10, 3))
    await insertTestEvents(conn, [{block: 11, logIndex: 999, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(1), value: String(2n ** 200n)}}])
    await extractTyped(conn, -1)
    await expect(materializeInput(conn, 'dist', BALANCES_AT, {token: T, block: 11})).rejects.toThrow(/beyond HUGEINT/)
    await expectSameAsQueryBelow(5)
  })

  async function expectSameAsQueryBelow(block: number): Promise<void> {
    await materializeInput(conn, 'dist', BALANCES_AT, {token: U, block})
    const routed = await rows(conn, 'dist')
    await materialize(conn, 'dist', BALANCES_AT, {token: U, block})
    expect(routed).toEqual(await rows(conn, 'dist'))
  }
})

/** Vote changes of ten delegates on two tokens, several per block, some to exactly 0 (a delegate that lost its power). */
function voteChanges(fromBlock: number, toBlock: number, seed: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const out: TestEvent[] = []
  for (let block = fromBlock; block <= toBlock; block++) {
    for (let k = 0; k < 4; k++) {
      const token = rnd(3) === 0 ? U : T
      const newVotes = rnd(5) === 0 ? '0' : String(BigInt(1 + rnd(1000)) * 10n ** 18n)
      out.push({block, contract: token, kind: 'token', name: 'DelegateVotesChanged', args: {delegate: acct(rnd(10)), previousVotes: '0', newVotes}})
    }
  }
  return out
}

describe('VOTING_POWER_AT and TOP_HOLDERS_AT at the head from delegate_power', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  const holders = async () => (await conn.runAndReadAll(`SELECT entity FROM top_holders`)).getRowObjectsJson()

  /** Both routes at `block`, for both tokens: the same rows and types, the same top holders (in order). */
  async function expectSameAsQuery(block: number): Promise<void> {
    for (const token of [T, U]) {
      const viaRoute = await materializeInput(conn, 'dist', VOTING_POWER_AT, {token, block})
      const routed = await rows(conn, 'dist')
      const viaQuery = await materialize(conn, 'dist', VOTING_POWER_AT, {token, block})
      expect(routed).toEqual(await rows(conn, 'dist'))
      expect(viaRoute).toBe(viaQuery)
      expect(viaQuery).toBeGreaterThan(0)
      await materializeInput(conn, 'top_holders', TOP_HOLDERS_AT, {token, block, limit: 3})
      const top = await holders()
      await materialize(conn, 'top_holders', TOP_HOLDERS_AT, {token, block, limit: 3})
      expect(top).toEqual(await holders())
      expect(top.length).toBe(3)
    }
  }

  it('equals the query after extraction, after a rollback and new blocks, and equals a rebuild', async () => {
    await insertTestEvents(conn, voteChanges(1, 30, 1))
    await extractTyped(conn, -1)
    await expectSameAsQuery(30)
    // Some delegate's newest change is to 0: it has a delegate_power row but no row in the distribution.
    expect(Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM delegate_power WHERE new_votes = 0`)).getRowObjectsJson()[0]?.n)).toBeGreaterThan(0)

    // A rollback above block 20 (as the sync does it: derived state first, then every mirror table), new blocks.
    await refreshDelegatePowerAbove(conn, 20, false)
    for (const table of MIRROR_TABLES) await conn.run(`DELETE FROM ${table} WHERE block_number > 20`)
    await expectSameAsQuery(20)
    await insertTestEvents(conn, voteChanges(21, 35, 2).map((e, i) => ({...e, logIndex: 1000 + i})))
    await extractTyped(conn, 20)
    await expectSameAsQuery(35)

    const fresh = await openAnalyticsDb(':memory:')
    try {
      const c2 = await fresh.connect()
      await ensureSchema(c2)
      const events = (await conn.runAndReadAll(`SELECT block_number, contract, contract_kind, event_name, CAST(args AS VARCHAR) AS args, log_index FROM audit_event ORDER BY id`)).getRowObjectsJson()
      await insertTestEvents(c2, events.map((e) => ({
        block: Number(e.block_number), logIndex: Number(e.log_index), contract: String(e.contract), kind: String(e.contract_kind), name: String(e.event_name),
        args: JSON.parse(String(e.args)) as Record<string, unknown>,
      })))
      await extractTyped(c2, -1)
      expect((await mirrorDigest(conn)).delegate_power).toEqual((await mirrorDigest(c2)).delegate_power)
    } finally {
      fresh.close()
    }
    // The head route does read delegate_power: a changed row shows in it, not in the query.
    await conn.run(`UPDATE delegate_power SET new_votes = new_votes + 1 WHERE token = '${T}' AND new_votes > 0`)
    await materializeInput(conn, 'dist', VOTING_POWER_AT, {token: T, block: 35})
    const changed = await rows(conn, 'dist')
    await materialize(conn, 'dist', VOTING_POWER_AT, {token: T, block: 35})
    expect(changed).not.toEqual(await rows(conn, 'dist'))
  })

  it('below the head, or with a vote change that did not fit, the query itself runs (and raises its error)', async () => {
    await insertTestEvents(conn, voteChanges(1, 10, 3))
    await extractTyped(conn, -1)
    // Below the head: a past block's powers, which delegate_power does not hold.
    await materializeInput(conn, 'dist', VOTING_POWER_AT, {token: T, block: 5})
    const below = await rows(conn, 'dist')
    await materialize(conn, 'dist', VOTING_POWER_AT, {token: T, block: 5})
    expect(below).toEqual(await rows(conn, 'dist'))
    expect(below.length).toBeGreaterThan(0)
    await insertTestEvents(conn, [{block: 11, logIndex: 999, contract: T, kind: 'token', name: 'DelegateVotesChanged', args: {delegate: acct(1), previousVotes: '0', newVotes: String(2n ** 200n)}}])
    await extractTyped(conn, 10)
    await expect(materializeInput(conn, 'dist', VOTING_POWER_AT, {token: T, block: 11})).rejects.toThrow(/beyond HUGEINT/)
  })
})
