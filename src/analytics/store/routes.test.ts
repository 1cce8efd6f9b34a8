import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {groupedDigestSql} from '../jobs/batch'
import {INPUT_DIGEST_SQL} from '../jobs/measurement'
import {CONCENTRATION_WITH_LORENZ_SQL, concentrationSqlOver} from '../metrics/concentration'
import {queryOne, queryRows} from '../metrics/sql-values'
import {mirrorDigest} from './digest'
import {extractTyped} from './extract'
import {deleteAbove} from './derived-state'
import {
  BALANCES_AT, materialize, TOP_HOLDERS_AT, VALIDATED_CONTRIBUTION, VALIDATED_CONTRIBUTION_BY_MODEL, VALIDATIONS, VALIDATIONS_BY_MODEL, VOTING_POWER_AT,
} from './inputs'
import {dropValidatedPairsAbove, initValidatedPairs} from './validated-contributions'
import {balancesInPlaceAt, materializeGroupedInputWithKeptDigests, materializeInput, materializeInputWithKeptDigest} from './routes'
import {MIRROR_TABLES} from './schema'
import {withMirrorSnapshot} from './mirror-snapshot'
import {writeSyncState} from './sync'
import {TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, testMulberry, insertTestEvents, type TestEvent, openTestMirror, rebuiltMirrorDigest, recordStatements} from './test-events'

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

    // A rollback above block 20 (deleteAbove, the sync's rollback step on its own), new blocks.
    await deleteAbove(conn, 20)
    await insertTestEvents(conn, transfers(21, 35, 2).map((e, i) => ({...e, logIndex: 1000 + i})))
    await extractTyped(conn, 20)
    await expectSameAsQuery(35)

    expect((await mirrorDigest(conn)).balance_state).toEqual((await rebuiltMirrorDigest(conn)).balance_state)
    await expectInPlaceAsQuery(35)
    // The readers of balance_state do not filter out the zero address: mints, burns and even a transfer from the zero
    // address to itself never give it a row.
    await insertTestEvents(conn, [{block: 36, logIndex: 5000, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: Z, value: '9'}}])
    await extractTyped(conn, 35)
    expect(Number((await queryOne(conn, `SELECT count(*) AS n FROM balance_state WHERE account = $z`, {z: Z})).n)).toBe(0)
    expect(Number((await queryOne(conn, `SELECT count(*) AS n FROM token_transfer WHERE from_addr = $z OR to_addr = $z`, {z: Z})).n)).toBeGreaterThan(10)
  })

  /** The suite's token concentration over balance_state in place: the row and digest it gives over BALANCES_AT's rows. */
  async function expectInPlaceAsQuery(block: number): Promise<void> {
    for (const token of [T, U]) {
      const inPlace = await balancesInPlaceAt(conn, BALANCES_AT, {token, block})
      if (!inPlace) throw new Error('balance_state should stand for BALANCES_AT at the head')
      const params = {quorum_wad: '40000000000000000', max_points: 5}
      const row = await queryOne(conn, concentrationSqlOver(inPlace.select, {lorenz: true}), {...params, ...inPlace.params})
      await materialize(conn, 'dist', BALANCES_AT, {token, block})
      expect(row).toEqual(await queryOne(conn, CONCENTRATION_WITH_LORENZ_SQL, params))
      const hashed = await queryOne(conn, INPUT_DIGEST_SQL('dist'))
      expect(inPlace.kept).toEqual({n: Number(hashed.n), digest: String(hashed.digest)})
      expect(Number(row.count)).toBeGreaterThan(0)
    }
  }

  it('below the head, or with an amount that did not fit, the query itself runs (and raises its error)', async () => {
    await insertTestEvents(conn, transfers(1, 10, 3))
    await extractTyped(conn, -1)
    // Below the head alone (every amount fits): the query.
    expect(await balancesInPlaceAt(conn, BALANCES_AT, {token: U, block: 5})).toBeUndefined()
    expect(await balancesInPlaceAt(conn, BALANCES_AT, {token: U, block: 10})).toBeDefined()
    await expectSameAsQueryBelow(5)
    await insertTestEvents(conn, [{block: 11, logIndex: 999, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(1), value: String(2n ** 200n)}}])
    await extractTyped(conn, 10)
    await expect(materializeInput(conn, 'dist', BALANCES_AT, {token: T, block: 11})).rejects.toThrow(/beyond HUGEINT/)
    expect(await balancesInPlaceAt(conn, BALANCES_AT, {token: T, block: 11})).toBeUndefined()
    expect(await balancesInPlaceAt(conn, BALANCES_AT, {token: U, block: 5})).toBeUndefined()
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

    // A rollback above block 20 (deleteAbove, the sync's rollback step on its own), new blocks.
    await deleteAbove(conn, 20)
    await expectSameAsQuery(20)
    await insertTestEvents(conn, voteChanges(21, 35, 2).map((e, i) => ({...e, logIndex: 1000 + i})))
    await extractTyped(conn, 20)
    await expectSameAsQuery(35)

    expect((await mirrorDigest(conn)).delegate_power).toEqual((await rebuiltMirrorDigest(conn)).delegate_power)
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

const CR = '0x' + '4'.repeat(40)

/**
 * Contributions to three models and validations (accepted or not, some several per contribution, one of a
 * contribution that arrives in a later block than its validation: the join does not care), from block `fromBlock`.
 */
function contributions(fromBlock: number, toBlock: number, seed: number, firstId: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const out: TestEvent[] = []
  const cr = (block: number, name: string, args: Record<string, unknown>) => out.push({block, contract: CR, kind: 'contributionRegistry', name, args})
  let id = firstId
  for (let block = fromBlock; block <= toBlock; block++) {
    for (let k = 0; k < 3; k++) {
      const cid = String(++id)
      cr(block, 'ContributionSubmitted', {contributionId: cid, modelId: String(1 + rnd(3)), contributor: acct(rnd(8)), kind: 1, units: String(1 + rnd(100)), evidenceHash: '0x00'})
      for (let v = rnd(3); v > 0; v--) cr(block, 'ContributionValidated', {contributionId: cid, validator: acct(rnd(10)), accepted: rnd(4) > 0, score: 5000 + rnd(5000), reportHash: '0x00'})
    }
  }
  // A validation one block before its contribution.
  cr(toBlock - 1, 'ContributionValidated', {contributionId: String(id + 1), validator: acct(3), accepted: true, score: 7000, reportHash: '0x00'})
  cr(toBlock, 'ContributionSubmitted', {contributionId: String(id + 1), modelId: '2', contributor: acct(5), kind: 1, units: '40', evidenceHash: '0x00'})
  return out
}

describe('contribution inputs at the head from validated_contribution', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  const all = async (relation: string) =>
    (await conn.runAndReadAll(`SELECT *, CAST(columns(*) AS VARCHAR) FROM ${relation} ORDER BY ALL`)).getRowObjectsJson()
  const types = async (relation: string) => (await conn.runAndReadAll(`DESCRIBE ${relation}`)).getRowObjectsJson().map((r) => [r.column_name, r.column_type])

  /** Each input, single (whole protocol and model 2) and per model, by both routes at `block`: the same rows and types. */
  async function expectSameAsQuery(block: number | null): Promise<void> {
    await conn.run(`CREATE OR REPLACE TEMP TABLE group_keys AS SELECT * FROM (VALUES (0::BIGINT, '1'), (1, '2'), (2, '3'), (3, '9')) k(g, id)`)
    const cases: [string, string, Record<string, string | number | null>][] = [
      ['contrib', VALIDATED_CONTRIBUTION, {registry: CR, model: null, block}],
      ['contrib', VALIDATED_CONTRIBUTION, {registry: CR, model: '2', block}],
      ['validations', VALIDATIONS, {registry: CR, model: null, block}],
      ['validations', VALIDATIONS, {registry: CR, model: '3', block}],
      ['group_contrib', VALIDATED_CONTRIBUTION_BY_MODEL, {registry: CR, block}],
      ['group_validations', VALIDATIONS_BY_MODEL, {registry: CR, block}],
    ]
    for (const [relation, sql, params] of cases) {
      const viaRoute = await materializeInput(conn, relation, sql, params)
      const [routed, routedTypes] = [await all(relation), await types(relation)]
      const viaQuery = await materialize(conn, relation, sql, params)
      expect(routed).toEqual(await all(relation))
      expect(routedTypes).toEqual(await types(relation))
      expect(viaRoute).toBe(viaQuery)
      expect(viaQuery).toBeGreaterThan(0)
      // The validations' digests from the kept m_validation equal the digests of the rows (here: the query's rows).
      if (sql === VALIDATIONS) expect(await keptValidationsDigest(relation, params)).toEqual(await hashedDigest(relation))
      if (sql === VALIDATIONS_BY_MODEL) {
        const hashed = await queryRows(conn, groupedDigestSql(relation, ['validator', 'contributor']))
        expect(await materializeGroupedInputWithKeptDigests(conn, relation, sql, params)).toEqual(hashed)
      }
    }
  }

  /** A validated contribution whose units (2^200) do not fit HUGEINT: its pair's value is NULL. */
  const unfitContributionAt = (block: number): TestEvent[] => [
    {block, logIndex: 998, contract: CR, kind: 'contributionRegistry', name: 'ContributionSubmitted',
      args: {contributionId: '999', modelId: '1', contributor: acct(1), kind: 1, units: String(2n ** 200n), evidenceHash: '0x00'}},
    {block, logIndex: 999, contract: CR, kind: 'contributionRegistry', name: 'ContributionValidated',
      args: {contributionId: '999', validator: acct(2), accepted: true, score: 9000, reportHash: '0x00'}},
  ]

  const hashedDigest = async (relation: string) => {
    const row = await queryOne(conn, INPUT_DIGEST_SQL(relation))
    return {n: Number(row.n), digest: String(row.digest)}
  }
  const keptValidationsDigest = async (relation: string, params: Record<string, string | number | null>) =>
    (await materializeInputWithKeptDigest(conn, relation, VALIDATIONS, params)).kept

  it('equals the query after extraction, after a rollback and new blocks, and equals a rebuild', async () => {
    // A validation kept by the rollback below whose contribution only comes with the new blocks after it.
    const early: TestEvent = {block: 15, logIndex: 900, contract: CR, kind: 'contributionRegistry', name: 'ContributionValidated',
      args: {contributionId: '5000', validator: acct(4), accepted: true, score: 8000, reportHash: '0x00'}}
    const late: TestEvent = {block: 25, logIndex: 900, contract: CR, kind: 'contributionRegistry', name: 'ContributionSubmitted',
      args: {contributionId: '5000', modelId: '1', contributor: acct(6), kind: 1, units: '77', evidenceHash: '0x00'}}
    await insertTestEvents(conn, [...contributions(1, 30, 1, 0), early])
    await extractTyped(conn, -1)
    await expectSameAsQuery(30)
    await expectSameAsQuery(null)

    await dropValidatedPairsAbove(conn, 20)
    for (const table of MIRROR_TABLES) await conn.run(`DELETE FROM ${table} WHERE block_number > 20`)
    await expectSameAsQuery(20)
    await insertTestEvents(conn, [...contributions(21, 35, 2, 1000).map((e, i) => ({...e, logIndex: 1000 + i})), late])
    await extractTyped(conn, 20)
    await expectSameAsQuery(35)
    const pair = await conn.runAndReadAll(`SELECT v_block, c_block, value::VARCHAR AS value FROM validated_contribution WHERE contributor = '${acct(6)}' AND validator = '${acct(4)}' AND v_block = 15`)
    expect(pair.getRowObjectsJson()).toEqual([{v_block: '15', c_block: '25', value: String(77 * 8000)}])

    expect((await mirrorDigest(conn)).validated_contribution).toEqual((await rebuiltMirrorDigest(conn)).validated_contribution)
    // The head route does read validated_contribution: a changed row shows in it, not in the query.
    await conn.run(`UPDATE validated_contribution SET value = value + 1 WHERE accepted`)
    await materializeInput(conn, 'contrib', VALIDATED_CONTRIBUTION, {registry: CR, model: null, block: 35})
    const changed = await all('contrib')
    await materialize(conn, 'contrib', VALIDATED_CONTRIBUTION, {registry: CR, model: null, block: 35})
    expect(changed).not.toEqual(await all('contrib'))
    // And the kept digest is read from head_digest: a changed sum shows in it, not in the rows' digest.
    await conn.run(`UPDATE head_digest SET lower_sum = lower_sum + 1 WHERE input = 'validations' AND scope = '${CR}'`)
    const params = {registry: CR, model: null, block: 35}
    expect(await keptValidationsDigest('validations', params)).not.toEqual(await hashedDigest('validations'))
  })

  it('a mirror made before m_validation gets the column, filled as a rebuild fills it', async () => {
    await insertTestEvents(conn, contributions(1, 12, 4, 0))
    await extractTyped(conn, -1)
    const before = (await mirrorDigest(conn)).validated_contribution
    await conn.run(`ALTER TABLE validated_contribution DROP COLUMN m_validation`)
    expect((await mirrorDigest(conn)).validated_contribution).not.toEqual(before)
    await initValidatedPairs(conn)
    expect((await mirrorDigest(conn)).validated_contribution).toEqual(before)
    expect(await keptValidationsDigest('validations', {registry: CR, model: null, block: null})).toEqual(await hashedDigest('validations'))
    // A mirror kept before the validations' head digests: the next sync's init sums them from the pairs.
    const sums = `SELECT scope, n, upper_sum::VARCHAR AS u, lower_sum::VARCHAR AS l FROM head_digest WHERE input = 'validations' ORDER BY scope`
    const kept = await queryRows(conn, sums)
    expect(kept.length).toBeGreaterThan(1)
    await conn.run(`DELETE FROM head_digest WHERE input = 'validations'`)
    await initValidatedPairs(conn)
    expect(await queryRows(conn, sums)).toEqual(kept)
  })

  it('inside a suite, whether a pair did not fit comes from its snapshot: no statement at the head, and the error still raised', async () => {
    await insertTestEvents(conn, contributions(1, 10, 3, 0))
    await extractTyped(conn, -1)
    await writeSyncState(conn, {height: 10, finalizedHeight: 10})
    const params = {registry: CR, model: null, block: 10}
    const recorded = recordStatements(conn)
    try {
      await withMirrorSnapshot(conn, [], () => materializeInput(conn, 'contrib', VALIDATED_CONTRIBUTION, params))
    } finally {
      recorded.restore()
    }
    expect(recorded.statements.filter((sql) => sql.includes('value IS NULL'))).toHaveLength(1) // the snapshot's own count
    const routed = await all('contrib')
    await materialize(conn, 'contrib', VALIDATED_CONTRIBUTION, params)
    expect(routed).toEqual(await all('contrib'))
    await insertTestEvents(conn, unfitContributionAt(11))
    await extractTyped(conn, 10)
    await writeSyncState(conn, {height: 11, finalizedHeight: 11})
    await expect(
      withMirrorSnapshot(conn, [], () => materializeInput(conn, 'contrib', VALIDATED_CONTRIBUTION, {...params, block: 11})),
    ).rejects.toThrow(/beyond HUGEINT/)
  })

  it('below the last validation, or with units that did not fit, the query itself runs (and raises its error)', async () => {
    await insertTestEvents(conn, contributions(1, 10, 3, 0))
    await extractTyped(conn, -1)
    await materializeInput(conn, 'contrib', VALIDATED_CONTRIBUTION, {registry: CR, model: null, block: 5})
    const below = await all('contrib')
    await materialize(conn, 'contrib', VALIDATED_CONTRIBUTION, {registry: CR, model: null, block: 5})
    expect(below).toEqual(await all('contrib'))
    expect(below.length).toBeGreaterThan(0)
    await insertTestEvents(conn, unfitContributionAt(11))
    await extractTyped(conn, 10)
    await expect(materializeInput(conn, 'contrib', VALIDATED_CONTRIBUTION, {registry: CR, model: null, block: 11})).rejects.toThrow(/beyond HUGEINT/)
  })
})
