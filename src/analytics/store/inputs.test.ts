import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {extractTyped} from './extract'
import {
  BALANCES_AT,
  MODEL_OWNERS_AT,
  PROPOSAL_VOTES,
  PROPOSAL_WEIGHTS,
  QUORUM_AT,
  REWARDS,
  SELF_VALIDATIONS,
  TOP_HOLDERS_AT,
  TOTAL_SUPPLY_AT,
  VALIDATED_CONTRIBUTION,
  VALIDATIONS,
  VALIDATIONS_PER_VALIDATOR,
  VOTES_ALL,
  VOTING_POWER_AT,
  type InputParams,
  materialize,
} from './inputs'
import {insertTestEvents, type TestEvent, openTestMirror} from './test-events'

const Z = '0x0000000000000000000000000000000000000000'
const [A, B, C, V] = ['0x' + 'a'.repeat(40), '0x' + 'b'.repeat(40), '0x' + 'c'.repeat(40), '0x' + 'd'.repeat(40)]
const T = '0x' + '1'.repeat(40)
const G = '0x' + '2'.repeat(40)
const R = '0x' + '3'.repeat(40)
const CR = '0x' + '4'.repeat(40)
const D = '0x' + '5'.repeat(40)
const PID = '98765432109876543210987654321098765432109876543210'

const tok = (block: number, name: string, args: Record<string, unknown>): TestEvent => ({block, contract: T, kind: 'token', name, args})
const transfer = (block: number, from: string, to: string, value: string) => tok(block, 'Transfer', {from, to, value})
const votes = (block: number, delegate: string, newVotes: string) => tok(block, 'DelegateVotesChanged', {delegate, previousVotes: '0', newVotes})
const gov = (block: number, name: string, args: Record<string, unknown>): TestEvent => ({block, contract: G, kind: 'governor', name, args})
const reg = (block: number, name: string, args: Record<string, unknown>): TestEvent => ({block, contract: R, kind: 'modelRegistry', name, args})
const cr = (block: number, name: string, args: Record<string, unknown>): TestEvent => ({block, contract: CR, kind: 'contributionRegistry', name, args})
const dist = (block: number, name: string, args: Record<string, unknown>): TestEvent => ({block, contract: D, kind: 'rewardDistributor', name, args})
const submit = (block: number, id: string, modelId: string, contributor: string, units: string) =>
  cr(block, 'ContributionSubmitted', {contributionId: id, modelId, contributor, kind: 1, units, evidenceHash: '0x00'})
const validate = (block: number, id: string, validator: string, accepted: boolean, score: number) =>
  cr(block, 'ContributionValidated', {contributionId: id, validator, accepted, score, reportHash: '0x00'})

const SCENARIO: TestEvent[] = [
  transfer(1, Z, A, '100'), transfer(1, Z, B, '50'), votes(1, A, '100'), votes(1, B, '50'),
  gov(1, 'QuorumNumeratorUpdated', {oldQuorumNumerator: '0', newQuorumNumerator: '4'}),
  gov(1, 'ProposalCreated', {proposalId: PID, proposer: A, targets: [], values: [], signatures: [], calldatas: [], voteStart: '2', voteEnd: '10', description: 'x'}),
  reg(1, 'ModelRegistered', {modelId: '1', owner: A, name: 'm1', metadataURI: ''}),
  reg(1, 'ModelRegistered', {modelId: '2', owner: B, name: 'm2', metadataURI: ''}),
  submit(1, '1', '1', A, '10'), submit(1, '2', '2', B, '5'), submit(1, '3', '1', B, '7'),
  dist(1, 'EpochOpened', {epochId: '1', modelId: '1'}), dist(1, 'EpochOpened', {epochId: '2', modelId: '0'}),
  transfer(2, A, B, '30'), votes(2, A, '70'), validate(2, '1', V, true, 10000),
  dist(2, 'RewardPaid', {epochId: '1', recipient: A, amount: '10'}),
  transfer(3, B, Z, '10'), votes(3, B, '0'), gov(3, 'QuorumNumeratorUpdated', {oldQuorumNumerator: '4', newQuorumNumerator: '10'}),
  reg(3, 'ModelOwnershipTransferred', {modelId: '1', previousOwner: A, newOwner: C}),
  validate(3, '2', B, true, 5000), validate(3, '3', V, false, 9000),
  dist(3, 'RewardPaid', {epochId: '2', recipient: B, amount: '20'}), dist(3, 'RewardPaid', {epochId: '2', recipient: A, amount: '5'}),
  gov(4, 'VoteCast', {voter: A, proposalId: PID, support: 1, weight: '70', reason: ''}),
  gov(4, 'VoteCastWithParams', {voter: B, proposalId: PID, support: 0, weight: '80', reason: '', params: '0x'}),
]

describe('input relations over the typed tables', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection

  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
    await insertTestEvents(conn, SCENARIO)
    await extractTyped(conn, -1)
    await conn.run(`INSERT INTO sync_state VALUES (1, NULL, 4, 4, 4, now())`)
  })
  afterEach(() => db.close())

  async function rows(sql: string, params: InputParams): Promise<Record<string, unknown>[]> {
    const n = await materialize(conn, 'dist', sql, params)
    const r = await conn.runAndReadAll('SELECT * FROM dist ORDER BY ALL')
    // materialize returns the rows it wrote (DuckDB's answer to CREATE TABLE ... AS), none included.
    expect(n).toBe(r.currentRowCount)
    return r.getRowObjectsJson()
  }
  const ew = (entity: string, w: string) => ({entity, w})

  it('balances and supply as of a block, zero address excluded, empty balances dropped', async () => {
    expect(await rows(BALANCES_AT, {token: T, block: 1})).toEqual([ew(A, '100'), ew(B, '50')])
    expect(await rows(BALANCES_AT, {token: T, block: 3})).toEqual([ew(A, '70'), ew(B, '70')])
    expect(await rows(TOTAL_SUPPLY_AT, {token: T, block: 2})).toEqual([{supply: '150'}])
    expect(await rows(TOTAL_SUPPLY_AT, {token: T, block: 3})).toEqual([{supply: '140'}])
    expect(await rows(TOTAL_SUPPLY_AT, {token: T, block: 0})).toEqual([{supply: '0'}])
  })

  it('voting power is each delegate\'s last newVotes, zero dropped', async () => {
    expect(await rows(VOTING_POWER_AT, {token: T, block: 2})).toEqual([ew(A, '70'), ew(B, '50')])
    expect(await rows(VOTING_POWER_AT, {token: T, block: 3})).toEqual([ew(A, '70')])
    expect(await rows(TOP_HOLDERS_AT, {token: T, block: 2, limit: 1})).toEqual([{entity: A}])
    expect(await rows(TOP_HOLDERS_AT, {token: T, block: 2, limit: 10})).toEqual([{entity: A}, {entity: B}])
  })

  it('quorum at the snapshot uses supply and numerator at voteStart, floored', async () => {
    expect(await rows(QUORUM_AT, {governor: G, proposal: PID, token: T})).toEqual([
      {snapshot_block: '2', supply: '150', numerator: '4', quorum: '6'},
    ])
    await conn.run('UPDATE sync_state SET height = 1')
    const [q] = await rows(QUORUM_AT, {governor: G, proposal: PID, token: T})
    expect(q?.quorum).toBeNull()
  })

  it('votes and weights per proposal, VoteCastWithParams included', async () => {
    expect(await rows(PROPOSAL_VOTES, {governor: G, proposal: PID, block: null})).toEqual([
      {voter: A, support: 1, weight: '70'},
      {voter: B, support: 0, weight: '80'},
    ])
    expect(await rows(PROPOSAL_WEIGHTS, {governor: G, proposal: PID, block: null})).toEqual([ew(A, '70'), ew(B, '80')])
    expect(await rows(VOTES_ALL, {governor: G, block: null})).toEqual([{proposal: PID, voter: A}, {proposal: PID, voter: B}])
    expect(await rows(VOTES_ALL, {governor: G, block: 3})).toEqual([])
  })

  it('validated contribution = sum(units × score) over accepted validations, per scope and as of a block', async () => {
    const all = {registry: CR, model: null, block: null}
    const cv = (contributor: string, value: string) => ({contributor, value})
    expect(await rows(VALIDATED_CONTRIBUTION, all)).toEqual([cv(A, '100000'), cv(B, '25000')])
    expect(await rows(VALIDATED_CONTRIBUTION, {...all, model: '1'})).toEqual([cv(A, '100000')])
    expect(await rows(VALIDATED_CONTRIBUTION, {...all, model: '2'})).toEqual([cv(B, '25000')])
    expect(await rows(VALIDATED_CONTRIBUTION, {...all, block: 2})).toEqual([cv(A, '100000')])
    expect(await rows(VALIDATIONS, all)).toEqual([
      {validator: B, contributor: B}, {validator: V, contributor: A}, {validator: V, contributor: B},
    ])
    expect(await rows(VALIDATIONS_PER_VALIDATOR, all)).toEqual([ew(B, '1'), ew(V, '2')])
    expect(await rows(VALIDATIONS_PER_VALIDATOR, {...all, model: '1'})).toEqual([ew(V, '2')])
    expect(await rows(SELF_VALIDATIONS, all)).toEqual([ew(B, '1')])
    expect(await rows(SELF_VALIDATIONS, {...all, model: '1'})).toEqual([])
  })

  it('rewards: protocol-wide epochs (model 0) count only in the protocol scope', async () => {
    const all = {distributor: D, model: null, block: null}
    const ra = (recipient: string, amount: string) => ({recipient, amount})
    expect(await rows(REWARDS, all)).toEqual([ra(A, '15'), ra(B, '20')])
    expect(await rows(REWARDS, {...all, model: '1'})).toEqual([ra(A, '10')])
    expect(await rows(REWARDS, {...all, block: 2})).toEqual([ra(A, '10')])
  })

  it('model owners follow ownership transfers as of a block', async () => {
    expect(await rows(MODEL_OWNERS_AT, {registry: R, block: 2})).toEqual([{model: '1', owner: A}, {model: '2', owner: B}])
    expect(await rows(MODEL_OWNERS_AT, {registry: R, block: null})).toEqual([{model: '1', owner: C}, {model: '2', owner: B}])
  })

  it('materialize names missing and unknown parameters, and refuses odd table names', async () => {
    await expect(materialize(conn, 'dist', BALANCES_AT, {token: T, blok: 1})).rejects.toThrow(/missing parameters \[block\], unknown parameters \[blok\]/)
    await expect(materialize(conn, 'dist; DROP TABLE x', BALANCES_AT, {token: T, block: 1})).rejects.toThrow(/not a plain/)
  })
})
