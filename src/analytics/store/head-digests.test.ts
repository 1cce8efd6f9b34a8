import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {queryOne, queryRows} from '../metrics/sql-values'
import {initDerivedState} from './derived-state'
import {DIGEST_OF_SUMS, INPUT_DIGEST_SQL} from './input-digest'
import {BALANCES_AT, VOTES_ALL, VOTING_POWER_AT} from './inputs'
import {keptInputDigest, materializeInputWithKeptDigest} from './routes'
import {applyTestSyncStep, TEST_GOVERNOR as G, TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, testMulberry, type TestEvent, openTestMirror} from './test-events'

const T2 = '0x' + '4'.repeat(40)
const G2 = '0x' + '5'.repeat(40)

/** Mints, transfers (some emptying an account), burns and votes on two tokens and two governors, blocks from..to. */
function history(seed: number, from: number, to: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const events: TestEvent[] = []
  for (let block = from; block <= to; block++) {
    // A delegate's new voting power, sometimes 0 (it leaves the input).
    const delegate = {delegate: acct(rnd(12)), previousVotes: '0', newVotes: rnd(4) === 0 ? '0' : String(BigInt(rnd(1000) + 1) * 10n ** BigInt(rnd(20)))}
    events.push({block, contract: rnd(2) === 0 ? T2 : T, kind: 'token', name: 'DelegateVotesChanged', args: delegate})
    for (let k = 0; k < 6; k++) {
      const token = rnd(3) === 0 ? T2 : T
      const [a, b] = [acct(rnd(12)), acct(rnd(12))]
      const r = rnd(10)
      const value = String(BigInt(rnd(1000) + 1) * 10n ** BigInt(rnd(20)))
      if (r < 3) events.push({block, contract: token, kind: 'token', name: 'Transfer', args: {from: Z, to: a, value}})
      else if (r < 7) events.push({block, contract: token, kind: 'token', name: 'Transfer', args: {from: a, to: b, value: String(rnd(5))}})
      else if (r < 8) events.push({block, contract: token, kind: 'token', name: 'Transfer', args: {from: a, to: Z, value: String(rnd(3))}})
      else {
        const gov = rnd(2) === 0 ? G : G2
        events.push({block, contract: gov, kind: 'governor', name: 'VoteCast', args: {voter: a, proposalId: String(rnd(4) + 1), support: rnd(3), weight: value, reason: ''}})
      }
    }
  }
  return events
}

describe('head digests kept by the sync', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection

  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  const step = (cut: number, events: TestEvent[]) => applyTestSyncStep(conn, cut, events)

  /** Kept count and digest against INPUT_DIGEST_SQL over the materialized input, for every token and governor. */
  async function expectKeptEqualsHashed(head: number): Promise<void> {
    for (const token of [T, T2]) {
      const {kept} = await materializeInputWithKeptDigest(conn, 'dist', BALANCES_AT, {token, block: head})
      expect(kept, `balances of ${token}`).toEqual(await hashed('dist'))
      expect(await keptInputDigest(conn, BALANCES_AT, {token, block: head})).toEqual(kept)
      const power = await materializeInputWithKeptDigest(conn, 'dist', VOTING_POWER_AT, {token, block: head})
      expect(power.kept, `voting power of ${token}`).toEqual(await hashed('dist'))
    }
    for (const governor of [G, G2]) {
      const {kept} = await materializeInputWithKeptDigest(conn, 'votes_all', VOTES_ALL, {governor, block: head})
      expect(kept, `votes of ${governor}`).toEqual(await hashed('votes_all'))
      expect(await keptInputDigest(conn, VOTES_ALL, {governor, block: head})).toEqual(kept)
    }
  }
  const hashed = async (relation: string) => {
    const row = await queryOne(conn, INPUT_DIGEST_SQL(relation))
    return {n: Number(row.n), digest: String(row.digest)}
  }

  it('equal the hashed inputs after every step, rollbacks included, and a recomputation from scratch', async () => {
    await step(-1, history(1, 1, 20))
    await expectKeptEqualsHashed(20)
    // Not a vacuous comparison: both inputs hold rows in every scope.
    // (The per-proposal sums have their own tests: vote-digests.test.ts.)
    const kept = async () => queryRows(conn, `SELECT input, scope, n FROM head_digest WHERE input NOT LIKE 'proposal_%' ORDER BY input, scope`)
    expect((await kept()).map((r) => [r.input, Number(r.n) > 2])).toEqual([
      ['balances', true], ['balances', true], ['votes_all', true], ['votes_all', true], ['voting_power', true], ['voting_power', true],
    ])
    // A rollback of blocks 16..20 replaced by another history, then plain growth, then a deeper rollback.
    await step(15, history(2, 16, 24))
    await expectKeptEqualsHashed(24)
    await step(24, history(3, 25, 30))
    await expectKeptEqualsHashed(30)
    await step(5, history(4, 6, 12))
    await expectKeptEqualsHashed(12)

    const before = await queryRows(conn, `SELECT * FROM head_digest ORDER BY input, scope`)
    await conn.run(`DELETE FROM head_digest`)
    await initDerivedState(conn)
    expect(await queryRows(conn, `SELECT * FROM head_digest ORDER BY input, scope`)).toEqual(before)
  })

  it('a rollback of every row leaves no sums, as a mirror that never had them', async () => {
    await step(-1, history(6, 1, 10))
    expect((await queryRows(conn, `SELECT DISTINCT input FROM head_digest ORDER BY input`)).map((r) => r.input)).toEqual(['balances', 'proposal_votes', 'proposal_weights', 'votes_all', 'voting_power'])
    await step(0, [])
    expect(await queryRows(conn, `SELECT * FROM head_digest`)).toEqual([])
  })

  it('are not used below the head: an earlier block is hashed', async () => {
    await step(-1, history(5, 1, 20))
    expect(await keptInputDigest(conn, BALANCES_AT, {token: T, block: 10})).toBeUndefined()
    expect(await keptInputDigest(conn, VOTES_ALL, {governor: G, block: 1})).toBeUndefined()
    expect(await keptInputDigest(conn, VOTES_ALL, {governor: G, block: null})).toBeDefined()
  })

  it('DIGEST_OF_SUMS is (U·2^64 + L) mod 2^128 in hex, whatever the sizes of the sums', async () => {
    const cases: [bigint, bigint][] = [
      [0n, 0n],
      [1n, 2n],
      [2n ** 64n - 1n, 2n ** 64n - 1n],
      [(2n ** 64n - 1n) * 1_000_003n, (2n ** 64n - 1n) * 999_999_937n],
      [123456789n * 2n ** 70n + 5n, 2n ** 100n + 17n],
    ]
    for (const [u, l] of cases) {
      const row = await queryOne(conn, `SELECT ${DIGEST_OF_SUMS(`CAST($u AS HUGEINT)`, `CAST($l AS HUGEINT)`)} AS digest`, {u: u.toString(), l: l.toString()})
      expect(String(row.digest)).toBe(((u * 2n ** 64n + l) % 2n ** 128n).toString(16).padStart(32, '0'))
    }
  })
})
