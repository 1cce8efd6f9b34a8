import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {queryOne, queryRows} from '../metrics/sql-values'
import {KEPT_SUMS_IN_RANGE} from './balance-totals'
import {HEAD_DIGEST_SQL, headDigestsByGroupSql} from './head-digests'
import {holdGroupKeys} from './group-keys'
import {DIGEST_OF_SUMS, digestOfSums} from './input-digest'
import {headDigestIn, headDigestsByGroupIn, mirrorSnapshotOf, oversizedIn, readMirrorSnapshot, withMirrorSnapshot} from './mirror-snapshot'
import {readSyncState, writeSyncState} from './sync'
import {TEST_GOVERNOR as G, TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, applyTestSyncStep, openTestMirror, testMulberry, type TestEvent} from './test-events'

/** Transfers, delegate vote changes and votes on a few proposals: every input head_digest keeps gets rows. */
function history(seed: number, from: number, to: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const out: TestEvent[] = []
  for (let block = from; block <= to; block++) {
    out.push({block, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(rnd(8)), value: String(1 + rnd(1000))}})
    out.push({block, contract: T, kind: 'token', name: 'DelegateVotesChanged', args: {delegate: acct(rnd(8)), previousVotes: '0', newVotes: String(rnd(3) * 1000)}})
    out.push({block, contract: G, kind: 'governor', name: 'VoteCast', args: {voter: acct(rnd(8)), proposalId: String(1 + rnd(3)), support: rnd(3), weight: String(rnd(100)), reason: ''}})
  }
  return out
}

describe('the mirror snapshot a suite holds', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  it('digestOfSums is DIGEST_OF_SUMS, negative and oversized sums included', async () => {
    const rnd = testMulberry(7)
    const big = () => (BigInt(rnd(2 ** 30)) << BigInt(rnd(96))) * (rnd(3) === 0 ? -1n : 1n)
    const sums: [bigint, bigint][] = [[0n, 0n], [-1n, -1n], [1n << 64n, (1n << 64n) - 1n], [-(1n << 100n), 1n << 90n]]
    for (let i = 0; i < 200; i++) sums.push([big(), big()])
    for (const [u, l] of sums) {
      const row = await queryOne(conn, `SELECT ${DIGEST_OF_SUMS('$u::HUGEINT', '$l::HUGEINT')} AS d`, {u: u.toString(), l: l.toString()})
      expect(digestOfSums(u, l), `${u}, ${l}`).toBe(String(row.d))
    }
  })

  it('answers every head digest as HEAD_DIGEST_SQL does, and the sync record as readSyncState reads it, through a rollback', async () => {
    for (const [cut, events] of [[-1, history(1, 1, 15)], [10, history(2, 11, 18)]] as const) {
      await applyTestSyncStep(conn, cut, events)
      await writeSyncState(conn, {height: 18, finalizedHeight: cut})
      const snapshot = await readMirrorSnapshot(conn)
      const scopes = await queryRows(conn, `SELECT input, scope FROM head_digest UNION ALL SELECT 'balances', 'no such scope'`)
      expect(new Set(scopes.map((s) => s.input)).size).toBeGreaterThanOrEqual(4)
      for (const {input, scope} of scopes) {
        const expected = await queryOne(conn, HEAD_DIGEST_SQL(DIGEST_OF_SUMS), {input: String(input), scope: String(scope)})
        expect(headDigestIn(snapshot.headDigests!, String(input), String(scope))).toEqual({n: Number(expected.n), digest: String(expected.digest)})
      }
      const read = await readSyncState(conn)
      await withMirrorSnapshot(conn, [], async () => expect(await readSyncState(conn)).toEqual(read))
    }
  })

  it('answers the per-group head digests as headDigestsByGroupSql does, for the group keys held', async () => {
    await applyTestSyncStep(conn, -1, history(3, 1, 15))
    await writeSyncState(conn, {height: 15, finalizedHeight: 15})
    // Proposals 1..3 have votes, 7 has none; keys out of order, as a batch never writes them but a reader must not assume.
    const keys = [{g: 2n, id: '3'}, {g: 0n, id: '1'}, {g: 1n, id: '2'}, {g: 3n, id: '7'}]
    await conn.run(`CREATE OR REPLACE TEMP TABLE group_keys (g BIGINT NOT NULL, id VARCHAR NOT NULL)`)
    for (const k of keys) await conn.run(`INSERT INTO group_keys VALUES ($g, $id)`, {g: k.g.toString(), id: k.id})
    const scope = `'${G}' || '/' || k.id`
    const expected = async (input: string) =>
      (await queryRows(conn, headDigestsByGroupSql(input, scope))).map((r) => ({g: String(r.g), n: Number(r.n), digest: String(r.digest)}))
    expect(headDigestsByGroupIn(conn, 'proposal_votes', (id) => `${G}/${id}`)).toBeUndefined()
    holdGroupKeys(conn, keys)
    expect(headDigestsByGroupIn(conn, 'proposal_votes', (id) => `${G}/${id}`)).toBeUndefined()
    await withMirrorSnapshot(conn, [], async () => {
      for (const input of ['proposal_votes', 'proposal_weights']) {
        const held = headDigestsByGroupIn(conn, input, (id) => `${G}/${id}`)
        expect(held).toEqual(await expected(input))
        expect(held!.filter((r) => Number(r.n) > 0)).toHaveLength(3)
      }
    })
  })

  it('counts the amounts that did not fit per table as oversized_amount holds them', async () => {
    const huge = (1n << 200n).toString()
    await applyTestSyncStep(conn, -1, [...history(4, 1, 5), {block: 6, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(1), value: huge}}])
    expect(oversizedIn(conn, 'token_transfer')).toBeUndefined()
    await withMirrorSnapshot(conn, [], async () => {
      for (const table of ['token_transfer', 'votes_change']) {
        const counted = await queryOne(conn, `SELECT count(*) AS n FROM oversized_amount WHERE table_name = $table`, {table})
        expect(oversizedIn(conn, table)).toBe(Number(counted.n))
      }
      expect(oversizedIn(conn, 'token_transfer')).toBe(1)
    })
  })

  it('holds the registries with a validated pair that did not fit, and the kept balance sums out of range, as queries find them', async () => {
    await applyTestSyncStep(conn, -1, history(5, 1, 5))
    const pair = (registry: string, value: string | null) =>
      conn.run(`INSERT INTO validated_contribution VALUES ($registry, '1', $who, $who, true, CAST($value AS HUGEINT), 1, 1, 0)`, {registry, who: acct(1), value})
    await pair('0xfit', '7')
    await pair('0xunfit', null)
    await pair('0xunfit', '8')
    const held = async () => withMirrorSnapshot(conn, [], async () => mirrorSnapshotOf(conn)!)
    let snapshot = await held()
    const unfit = await queryRows(conn, `SELECT DISTINCT registry FROM validated_contribution WHERE value IS NULL`)
    expect([...snapshot.unfitPairRegistries!]).toEqual(unfit.map((r) => r.registry))
    expect(snapshot.unfitPairRegistries).toEqual(new Set(['0xunfit']))
    expect(snapshot.balanceSumsOutOfRange).toBe(0)
    // A kept sum whose upper part is 2^63: beyond what its readers take (KEPT_SUMS_IN_RANGE fails).
    await conn.run(`UPDATE balance_total SET hi = 9223372036854775808 WHERE token = $token`, {token: T})
    snapshot = await held()
    expect(snapshot.balanceSumsOutOfRange).toBe(1)
    expect((await queryOne(conn, `SELECT ${KEPT_SUMS_IN_RANGE} AS ok`)).ok).toBe(false)
  })

  it('is held on the given connections while the function runs, and released after it, also when it throws', async () => {
    const other = await db.connect()
    await expect(
      withMirrorSnapshot(conn, [other], async () => {
        expect(mirrorSnapshotOf(conn)).toBeDefined()
        expect(mirrorSnapshotOf(other)).toBe(mirrorSnapshotOf(conn))
        throw new Error('inside')
      }),
    ).rejects.toThrow('inside')
    expect(mirrorSnapshotOf(conn)).toBeUndefined()
    expect(mirrorSnapshotOf(other)).toBeUndefined()
  })
})
