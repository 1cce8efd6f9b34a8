// Round trip of awkward values through bulkInsert/bulkUpsert on both write paths (COPY for large groups inside a
// transaction, unnest for small ones and outside transactions), read back through TypeORM.
import {SnakeNamingStrategy} from '@subsquid/typeorm-config/lib/namingStrategy'
import type {Store} from '@subsquid/typeorm-store'
import {DataSource, type EntityManager, Like} from 'typeorm'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import * as model from '../model'
import {AuditEvent, Proposal, ProposalState, Token, TokenHolder, Transfer} from '../model'
import {type TestDatabase, withTestDatabase} from '../test-support/pg'
import {COPY_MIN_ROWS, bulkInsert, bulkUpsert} from './bulk-write'

const STRINGS = [
  'tab\there',
  'line\nbreak\r\nwindows',
  'back\\slash \\N \\. \\t',
  '\\N',
  'quotes "double" \'single\'',
  'unicode ✓ 漢字 🦄',
  '',
  'NULL',
  ' leading and trailing ',
  'x'.repeat(100_000),
]
const ARRAYS = [['a,b', '"q"', '{brace}', 'back\\slash', '', 'NULL', 'tab\tnl\n', '🦄'], [], ['\\', '"', ',', '{}']]
const MAX_UINT256 = 2n ** 256n - 1n
const BIGINTS = [MAX_UINT256, 0n, 1n, 10n ** 40n + 7n]
const DATES = [new Date('2024-02-29T23:59:59.123Z'), new Date(0), new Date('2099-12-31T00:00:00.001Z')]
const pick = <T>(values: readonly T[], i: number): T => values[i % values.length]!

let db: TestDatabase
let dataSource: DataSource

beforeAll(async () => {
  db = await withTestDatabase({prefix: 'bulkwrite'})
  dataSource = new DataSource({
    type: 'postgres',
    url: db.url,
    entities: Object.values(model).filter((v) => typeof v === 'function'),
    namingStrategy: new SnakeNamingStrategy(),
  })
  await dataSource.initialize()
})
afterAll(async () => {
  await dataSource?.destroy()
  await db?.drop()
})

/** The two Store internals bulk-write uses: the transaction's entity manager and (absent here) the hot-block tracker. */
const storeOf = (em: EntityManager, changes?: object) => ({em: () => em, changes}) as unknown as Store

function auditEvents(prefix: string, n: number): AuditEvent[] {
  return Array.from({length: n}, (_, i) => new AuditEvent({
    id: `${prefix}-${String(i).padStart(5, '0')}`,
    blockNumber: i,
    blockHash: pick(STRINGS, i),
    timestamp: pick(DATES, i),
    txHash: `${prefix}-tx-${i}`,
    transactionIndex: i % 7,
    logIndex: i,
    contract: pick(STRINGS, i + 3),
    contractKind: 'token',
    eventName: pick(STRINGS, i + 5),
    args: {s: pick(STRINGS, i), nested: {list: [1, 'two', null, {deep: pick(STRINGS, i + 1)}]}, n: i, amount: `${MAX_UINT256}`},
  }))
}

function proposals(prefix: string, n: number): Proposal[] {
  return Array.from({length: n}, (_, i) => new Proposal({
    id: `${prefix}-p${i}`,
    governor: null as unknown as model.Governor,
    proposalId: pick(BIGINTS, i),
    proposer: pick(STRINGS, i),
    targets: pick(ARRAYS, i),
    values: pick(ARRAYS, i + 1),
    signatures: [pick(STRINGS, i), pick(STRINGS, i + 1)],
    calldatas: [],
    description: pick(STRINGS, i + 2),
    voteStart: 1n, voteEnd: MAX_UINT256, forVotes: pick(BIGINTS, i), againstVotes: 0n, abstainVotes: 2n,
    voteCount: i,
    quorum: i % 2 ? null : MAX_UINT256,
    state: ProposalState.PENDING,
    stateAtBlock: 1,
    createdBlock: i,
    createdTimestamp: pick(DATES, i),
    createdTxHash: pick(STRINGS, i + 4),
    queuedBlock: null, eta: null, executedBlock: null, canceledBlock: null,
    event: null as unknown as AuditEvent,
  }))
}

async function roundTrip(prefix: string, n: number, inTransaction: boolean): Promise<void> {
  const events = auditEvents(prefix, n)
  const props = proposals(prefix, n)
  const token = new Token({id: `${prefix}-token`, name: null, totalSupply: MAX_UINT256, holderCount: 0, transferCount: 0, updatedAtBlock: 0})
  const transfers = events.map((e, i) => new Transfer({
    id: e.id, token: token.id, from: pick(STRINGS, i), to: pick(STRINGS, i + 1), value: pick(BIGINTS, i), blockNumber: i,
    timestamp: pick(DATES, i), txHash: e.txHash,
  }))
  const write = async (em: EntityManager) => {
    const store = storeOf(em)
    await bulkInsert(store, events)
    await bulkInsert(store, [token])
    await bulkInsert(store, transfers)
    await bulkInsert(store, props)
  }
  if (inTransaction) await dataSource.transaction(write)
  else await write(dataSource.manager)

  const em = dataSource.manager
  const like = {id: Like(`${prefix}-%`)}
  expect(await em.find(AuditEvent, {where: like, order: {id: 'ASC'}})).toEqual(events)
  expect(await em.find(Transfer, {where: like, order: {id: 'ASC'}})).toEqual(transfers)
  expect(await em.findOneByOrFail(Token, {id: token.id})).toEqual(token)
  const readProposals = await em.find(Proposal, {where: like, order: {id: 'ASC'}, relations: {governor: true, event: true}})
  // Subsquid's bigint transformer reads SQL NULL back as undefined.
  const expected = props.map((p) => ({...p, quorum: p.quorum ?? undefined, eta: p.eta ?? undefined}))
  expect(readProposals).toEqual(expected.sort((a, b) => (a.id < b.id ? -1 : 1)))
}

describe('bulk-write', () => {
  test('COPY path: awkward values round-trip exactly', async () => {
    await roundTrip('copy', COPY_MIN_ROWS.insert + 50, true)
  })

  test('unnest path (small groups, and outside a transaction): awkward values round-trip exactly', async () => {
    await roundTrip('small', 7, true)
    await roundTrip('notx', COPY_MIN_ROWS.insert + 10, false)
  })

  for (const n of [5, 2 * COPY_MIN_ROWS.upsert + 20]) {
    test(`upsert of ${n} rows keeps relations it did not load and updates the rest`, async () => {
      const prefix = `up${n}`
      const event = auditEvents(`${prefix}-ev`, 1)[0]!
      const token = new Token({id: `${prefix}-token`, name: 'T', totalSupply: 1n, holderCount: 0, transferCount: 0, updatedAtBlock: 0})
      const account = new model.Account({id: `${prefix}-acct`, firstSeenBlock: 1, firstSeenEvent: event})
      const holders = Array.from({length: n}, (_, i) => new TokenHolder({
        id: `${prefix}-h${String(i).padStart(4, '0')}`, token, account, balance: 1n, votes: 2n, delegate: null, updatedAtBlock: 1,
        lastEvent: event,
      }))
      const tracked: string[] = []
      const changes = {
        trackInsert: async (_: Function, rows: {id: string}[]) => void tracked.push(`insert ${rows.length}`),
        trackUpsert: async (_: Function, rows: {id: string}[]) => void tracked.push(`upsert ${rows.length}`),
      }
      await dataSource.transaction(async (em) => {
        const store = storeOf(em, changes)
        await bulkInsert(store, [event])
        await bulkInsert(store, [token])
        await bulkInsert(store, [account])
        await bulkInsert(store, holders)
      })
      // Half the rows as loaded without relations (undefined), one brand-new row with them: two column groups.
      const updates = holders.filter((_, i) => i % 2 === 0).map((h, i) => new TokenHolder({
        id: h.id, balance: MAX_UINT256 - BigInt(i), votes: 3n, delegate: pick(STRINGS, i), updatedAtBlock: 9,
      }))
      const added = new TokenHolder({id: `${prefix}-new`, token, account, balance: 5n, votes: 6n, delegate: null, updatedAtBlock: 9, lastEvent: event})
      await dataSource.transaction((em) => bulkUpsert(storeOf(em, changes), [...updates, added]))
      expect(tracked).toEqual(['insert 1', 'insert 1', 'insert 1', `insert ${n}`, `upsert ${updates.length + 1}`])

      const rows: {id: string; token_id: string; account_id: string; last_event_id: string; balance: string; votes: string; delegate: string | null; updated_at_block: number}[] =
        await dataSource.query(`SELECT * FROM token_holder WHERE id LIKE $1 ORDER BY id`, [`${prefix}-%`])
      expect(rows).toHaveLength(n + 1)
      const byId = new Map(rows.map((r) => [r.id, r]))
      for (const h of holders) {
        const row = byId.get(h.id)!
        const u = updates.find((x) => x.id === h.id)
        expect(row).toEqual({
          id: h.id, token_id: token.id, account_id: account.id, last_event_id: event.id,
          balance: String(u ? u.balance : 1n), votes: u ? '3' : '2', delegate: u ? u.delegate : null, updated_at_block: u ? 9 : 1,
        })
      }
      expect(byId.get(added.id)).toMatchObject({token_id: token.id, account_id: account.id, last_event_id: event.id, balance: '5'})
    })
  }

  for (const n of [5, COPY_MIN_ROWS.upsert + 20]) {
    test(`upsert of ${n} rows writes explicit nulls, a null bigint too`, async () => {
      // Subsquid's bigint transformer maps null to undefined: the null must still count as a value to write.
      const prefix = `nulls${n}`
      const event = auditEvents(`${prefix}-ev`, 1)[0]!
      const rows = proposals(prefix, n).map((p) => Object.assign(p, {quorum: MAX_UINT256, eta: 5n, event}))
      await dataSource.transaction(async (em) => {
        await bulkInsert(storeOf(em), [event])
        await bulkInsert(storeOf(em), rows)
      })
      for (const p of rows) Object.assign(p, {quorum: null, eta: null, description: 'updated', event: undefined})
      await dataSource.transaction((em) => bulkUpsert(storeOf(em), rows))
      const read: {quorum: string | null; eta: string | null; description: string; event_id: string}[] = await dataSource.query(
        `SELECT quorum, eta, description, event_id FROM proposal WHERE id LIKE $1`,
        [`${prefix}-%`],
      )
      expect(read).toHaveLength(n)
      for (const r of read) expect(r).toEqual({quorum: null, eta: null, description: 'updated', event_id: event.id})
    })
  }

  test('a failing COPY rejects (and the transaction rolls back) rather than hanging', async () => {
    const events = auditEvents('dup', COPY_MIN_ROWS.insert)
    events.push(events[0]!)
    await expect(dataSource.transaction((em) => bulkInsert(storeOf(em), events))).rejects.toThrow(/duplicate key/)
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM audit_event WHERE id LIKE 'dup-%'`)).toEqual([{n: 0}])
  })

  test('a COPY that fails in its first chunk, with megabytes still to send, rejects and leaves the pool usable', async () => {
    const events = auditEvents('bad', 4000).map((e) => Object.assign(e, {blockHash: 'h'.repeat(2000)}))
    events[0]!.blockHash = 'NUL \u0000 is not valid in Postgres text'
    await expect(dataSource.transaction((em) => bulkInsert(storeOf(em), events))).rejects.toThrow(/0x00/)
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM audit_event WHERE id LIKE 'bad-%'`)).toEqual([{n: 0}])
  })
})
