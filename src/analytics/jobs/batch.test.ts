import type {DuckDBConnection} from '@duckdb/node-api'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseContractsConfig} from '../../processor/contracts-config'
import {type AnalyticsDb, openAnalyticsDb} from '../duckdb'
import {extractTyped} from '../store/extract'
import {ensureSchema} from '../store/schema'
import {insertTestEvents, type TestEvent} from '../store/test-events'
import {runBatched} from './batch'
import {type MetricRecord, runMeasurement} from './measurement'
import {planSuite} from './plan'

const Z = '0x0000000000000000000000000000000000000000'
const T = '0x' + '1'.repeat(40)
const G = '0x' + '2'.repeat(40)
const acct = (i: number) => '0x' + (i + 16).toString(16).padStart(40, '0')

/** Pseudo-random governance: mints, vote changes, proposals with windows, votes (repeated, zero-weight, every support). */
function scenario(): TestEvent[] {
  let seed = 3
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  const events: TestEvent[] = []
  const tok = (block: number, name: string, args: Record<string, unknown>) => events.push({block, contract: T, kind: 'token', name, args})
  const gov = (block: number, name: string, args: Record<string, unknown>) => events.push({block, contract: G, kind: 'governor', name, args})
  gov(1, 'QuorumNumeratorUpdated', {oldQuorumNumerator: '0', newQuorumNumerator: '4'})
  const proposals: {id: string; start: number; end: number}[] = []
  for (let block = 1; block <= 60; block++) {
    for (let k = 0; k < 3; k++) {
      const a = acct(rnd(12))
      const v = String(BigInt(rnd(1000) + 1) * 10n ** 18n)
      if (rnd(2) === 0) tok(block, 'Transfer', {from: Z, to: a, value: v})
      else tok(block, 'DelegateVotesChanged', {delegate: a, previousVotes: '0', newVotes: v})
    }
    if (block % 4 === 0) {
      const p = {id: String(5000 + block), start: block + 2, end: block + 12}
      proposals.push(p)
      gov(block, 'ProposalCreated', {
        proposalId: p.id, proposer: acct(0), targets: [], values: [], signatures: [], calldatas: [],
        voteStart: String(p.start), voteEnd: String(p.end), description: 'p',
      })
    }
    for (const p of proposals.filter((x) => x.start < block && block <= x.end)) {
      for (let k = rnd(3); k > 0; k--) {
        gov(block, 'VoteCast', {voter: acct(rnd(12)), proposalId: p.id, support: rnd(3), weight: rnd(5) === 0 ? '0' : String(BigInt(rnd(500)) * 10n ** 18n), reason: ''})
      }
    }
  }
  return events
}

describe('batched proposal measurements', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  const contracts = parseContractsConfig({
    chainId: 31337,
    contracts: [
      {kind: 'token', address: T, startBlock: 0},
      {kind: 'governor', address: G, startBlock: 0, token: T, timelock: acct(99)},
      {kind: 'timelock', address: acct(99), startBlock: 0},
    ],
  })

  beforeAll(async () => {
    db = await openAnalyticsDb(':memory:')
    conn = await db.connect()
    await ensureSchema(conn)
    await insertTestEvents(conn, scenario())
    await extractTyped(conn, -1)
    await conn.run(`INSERT INTO sync_state VALUES (1, NULL, 60, 60, 55, now())`)
  })
  afterAll(() => db.close())

  const comparable = (r: MetricRecord) => ({...r, value: r.value === null ? null : Number(r.value.toPrecision(14))})

  it('give every value, row count, input digest and SQL digest that runMeasurement gives', async () => {
    let checked = 0
    const distributions = new Set<string>()
    for (const block of [10, 25, 40, 60]) {
      const plan = await planSuite(conn, contracts, block)
      const batched = await runBatched(conn, plan, 0)
      const proposalMeasurements = plan.filter((m) => m.scopeKind === 'proposal')
      expect(batched.size).toBe(proposalMeasurements.length)
      for (const [index, records] of batched) {
        const single = await runMeasurement(conn, plan[index]!, 0)
        expect(records.map(comparable)).toEqual(single.records.map(comparable))
        checked++
        distributions.add(plan[index]!.distribution)
      }
      // Only proposal measurements are batched.
      for (const index of batched.keys()) expect(plan[index]!.scopeKind).toBe('proposal')
    }
    // Both shapes (weight_cast concentration, votes participation), with and without votes, were exercised.
    expect(checked).toBeGreaterThan(20)
    expect([...distributions].sort()).toEqual(['votes', 'weight_cast'])
  })
})
