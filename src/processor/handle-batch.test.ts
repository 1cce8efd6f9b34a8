import {describe, expect, it} from 'vitest'
import {ContributionStatus, EpochStatus, ProposalState, VoteSupport} from '../model'
import {newBatchState} from './batch-state'
import {parseContractsConfig} from './contracts-config'
import {applyLogs} from './handle-batch'
import {ZERO_ADDRESS} from './ids'
import type {DecodedLog, RawEvent} from './raw'

const TOKEN = '0x00000000000000000000000000000000000000a1'
const GOV = '0x00000000000000000000000000000000000000a2'
const MODELS = '0x00000000000000000000000000000000000000a3'
const CONTRIB = '0x00000000000000000000000000000000000000a4'
const REWARDS = '0x00000000000000000000000000000000000000a5'
const contracts = parseContractsConfig({
  contracts: [
    {kind: 'token', address: TOKEN, startBlock: 0, name: 'T'},
    {kind: 'governor', address: GOV, startBlock: 0, token: TOKEN},
    {kind: 'modelRegistry', address: MODELS, startBlock: 0},
    {kind: 'contributionRegistry', address: CONTRIB, startBlock: 0},
    {kind: 'rewardDistributor', address: REWARDS, startBlock: 0},
  ],
})
const A = '0xa'.padEnd(42, '0')
const B = '0xb'.padEnd(42, '0')
const C = '0xc'.padEnd(42, '0')

let logIndex = 0
function at(block: number, contract: string, raw: RawEvent): DecodedLog {
  const i = logIndex++
  return {
    meta: {
      id: `${String(block).padStart(10, '0')}-00000-${String(i).padStart(6, '0')}`,
      blockNumber: block,
      blockHash: `0xblock${block}`,
      timestamp: new Date(block * 1000),
      txHash: `0xtx${i}`,
      transactionIndex: 0,
      logIndex: i,
      contract,
    },
    contractKind: 'test',
    eventName: raw.name,
    args: {},
    raw,
  }
}

describe('applyLogs', () => {
  it('keeps balances, supply, holder count and voting power in step with token events', () => {
    const s = newBatchState()
    applyLogs(
      s,
      [
        at(1, TOKEN, {name: 'Transfer', from: ZERO_ADDRESS, to: A, value: 100n}),
        at(1, TOKEN, {name: 'Transfer', from: ZERO_ADDRESS, to: B, value: 50n}),
        at(2, TOKEN, {name: 'DelegateChanged', delegator: A, fromDelegate: ZERO_ADDRESS, toDelegate: C}),
        at(2, TOKEN, {name: 'DelegateVotesChanged', delegate: C, previousVotes: 0n, newVotes: 100n}),
        at(3, TOKEN, {name: 'Transfer', from: A, to: B, value: 100n}),
        at(3, TOKEN, {name: 'DelegateVotesChanged', delegate: C, previousVotes: 100n, newVotes: 0n}),
        at(4, TOKEN, {name: 'Transfer', from: B, to: ZERO_ADDRESS, value: 30n}),
      ],
      contracts,
      4,
    )
    const token = s.tokens.get(TOKEN)!
    expect(token.totalSupply).toBe(120n)
    expect(token.holderCount).toBe(1) // A emptied, B holds everything, C never held tokens
    expect(token.transferCount).toBe(4)
    expect(s.holders.get(`${TOKEN}-${A}`)!.balance).toBe(0n)
    expect(s.holders.get(`${TOKEN}-${A}`)!.delegate).toBe(C)
    expect(s.holders.get(`${TOKEN}-${B}`)!.balance).toBe(120n)
    expect(s.holders.get(`${TOKEN}-${C}`)!.votes).toBe(0n)
    expect(s.transfers).toHaveLength(4)
    expect(s.votingPowerChanges).toHaveLength(2)
    expect(s.auditEvents).toHaveLength(7)
    expect(s.accounts.createdRows().map((a) => a.id)).toEqual([A, B, C].sort())
    expect(s.warnings).toEqual([])
  })

  it('checkpoints each account\'s balance once per block it changed in, holding the end-of-block value', () => {
    const s = newBatchState()
    applyLogs(
      s,
      [
        at(1, TOKEN, {name: 'Transfer', from: ZERO_ADDRESS, to: A, value: 100n}),
        at(1, TOKEN, {name: 'Transfer', from: A, to: B, value: 30n}),
        at(1, TOKEN, {name: 'Transfer', from: A, to: B, value: 20n}),
        at(3, TOKEN, {name: 'Transfer', from: B, to: ZERO_ADDRESS, value: 50n}),
      ],
      contracts,
      3,
    )
    const rows = [...s.balanceCheckpoints.values()].map((c) => [c.account, c.blockNumber, c.balance]).sort()
    // The zero address (mints, burns) gets none; A's three changes in block 1 leave one row with 50.
    expect(rows).toEqual([[A, 1, 50n], [B, 1, 50n], [B, 3, 0n]].sort())
    expect(s.balanceCheckpoints.has(`${TOKEN}-${A}-0000000001`)).toBe(true)
  })

  it('warns, without failing, when the chain says votes differ from the index', () => {
    const s = newBatchState()
    applyLogs(s, [at(1, TOKEN, {name: 'DelegateVotesChanged', delegate: C, previousVotes: 5n, newVotes: 9n})], contracts, 1)
    expect(s.holders.get(`${TOKEN}-${C}`)!.votes).toBe(9n)
    expect(s.warnings[0]).toMatch(/votes of/)
  })

  it('fixes the quorum from the supply at the end of the snapshot block, tallies votes and follows state', () => {
    const s = newBatchState()
    const created: RawEvent = {
      name: 'ProposalCreated',
      proposalId: 77n,
      proposer: A,
      targets: [TOKEN],
      values: [0n],
      signatures: [''],
      calldatas: ['0x'],
      voteStart: 5n,
      voteEnd: 8n,
      description: 'grant',
    }
    applyLogs(
      s,
      [
        at(1, GOV, {name: 'QuorumNumeratorUpdated', newQuorumNumerator: 10n}),
        at(1, TOKEN, {name: 'Transfer', from: ZERO_ADDRESS, to: A, value: 1000n}),
        at(2, GOV, created),
        at(5, TOKEN, {name: 'Transfer', from: ZERO_ADDRESS, to: B, value: 1000n}), // in the snapshot block: counts
        at(6, TOKEN, {name: 'Transfer', from: ZERO_ADDRESS, to: B, value: 9000n}), // after it: must not count
        at(6, GOV, {name: 'VoteCast', voter: A, proposalId: 77n, support: 1, weight: 150n, reason: 'yes'}),
        at(7, GOV, {name: 'VoteCast', voter: B, proposalId: 77n, support: 0, weight: 100n, reason: ''}),
        at(7, GOV, {name: 'VoteCast', voter: C, proposalId: 77n, support: 2, weight: 60n, reason: 'meh'}),
      ],
      contracts,
      7,
    )
    const p = s.proposals.get(`${GOV}-77`)!
    expect(p.quorum).toBe(200n) // 10% of 2000, the supply at the end of block 5
    expect([p.forVotes, p.againstVotes, p.abstainVotes, p.voteCount]).toEqual([150n, 100n, 60n, 3])
    expect(p.state).toBe(ProposalState.ACTIVE)
    expect(s.votes.map((v) => v.support)).toEqual([VoteSupport.FOR, VoteSupport.AGAINST, VoteSupport.ABSTAIN])

    // The next batch, after the deadline: 150 + 60 >= 200 and 150 > 100.
    applyLogs(s, [], contracts, 9)
    expect(p.state).toBe(ProposalState.SUCCEEDED)
    applyLogs(s, [at(10, GOV, {name: 'ProposalQueued', proposalId: 77n, etaSeconds: 123n})], contracts, 10)
    expect(p.state).toBe(ProposalState.QUEUED)
    applyLogs(s, [at(12, GOV, {name: 'ProposalExecuted', proposalId: 77n})], contracts, 12)
    expect([p.state, p.executedBlock, p.eta]).toEqual([ProposalState.EXECUTED, 12, 123n])
  })

  it('keeps events about unknown proposals, models or epochs in the audit log only, with a warning', () => {
    const s = newBatchState()
    applyLogs(
      s,
      [
        at(1, GOV, {name: 'VoteCast', voter: A, proposalId: 1n, support: 1, weight: 1n, reason: ''}),
        at(1, MODELS, {name: 'ModelOwnershipTransferred', modelId: 9n, previousOwner: A, newOwner: B}),
        at(1, REWARDS, {name: 'RewardPaid', epochId: 3n, recipient: A, amount: 1n}),
      ],
      contracts,
      1,
    )
    expect(s.auditEvents).toHaveLength(3)
    expect(s.votes).toHaveLength(0)
    expect(s.payouts).toHaveLength(0)
    expect(s.warnings).toHaveLength(3)
  })

  it('links models, versions, contributions, validations and rewards', () => {
    const s = newBatchState()
    applyLogs(
      s,
      [
        at(1, MODELS, {name: 'ModelRegistered', modelId: 1n, owner: A, modelName: 'm', metadataURI: 'ipfs://m'}),
        at(2, MODELS, {name: 'ModelVersionPublished', modelId: 1n, versionId: 1n, publisher: A, parentVersionId: 0n, weightsHash: '0x01', metadataURI: 'u'}),
        at(2, MODELS, {name: 'ModelVersionPublished', modelId: 1n, versionId: 2n, publisher: A, parentVersionId: 1n, weightsHash: '0x02', metadataURI: 'u'}),
        at(3, CONTRIB, {name: 'ValidatorUpdated', validator: B, active: true}),
        at(3, CONTRIB, {name: 'ContributionSubmitted', contributionId: 1n, modelId: 1n, contributor: B, kind: 4, units: 10n, evidenceHash: '0xe'}),
        at(4, CONTRIB, {name: 'ContributionValidated', contributionId: 1n, validator: B, accepted: true, score: 9000, reportHash: '0xr'}),
        at(5, REWARDS, {name: 'EpochOpened', epochId: 1n, modelId: 1n}),
        at(5, REWARDS, {name: 'EpochFunded', epochId: 1n, funder: A, amount: 500n}),
        at(6, REWARDS, {name: 'RewardPaid', epochId: 1n, recipient: B, amount: 200n}),
        at(6, REWARDS, {name: 'EpochClosed', epochId: 1n, totalFunded: 500n, totalPaid: 200n}),
      ],
      contracts,
      6,
    )
    const model = s.models.get(`${MODELS}-1`)!
    expect([model.versionCount, model.contributionCount]).toEqual([2, 1])
    expect(s.versions.get(`${MODELS}-1-2`)!.parent?.id).toBe(`${MODELS}-1-1`)
    const c = s.contributions.get(`${CONTRIB}-1`)!
    expect([c.status, c.score, c.validator, c.kind]).toEqual([ContributionStatus.ACCEPTED, 9000, B, 'CODE'])
    expect(s.validations[0]!.selfValidated).toBe(true)
    expect(s.validators.get(`${CONTRIB}-${B}`)!.validationCount).toBe(1)
    const epoch = s.epochs.get(`${REWARDS}-1`)!
    expect([epoch.totalFunded, epoch.totalPaid, epoch.payoutCount, epoch.status]).toEqual([500n, 200n, 1, EpochStatus.CLOSED])
    expect(epoch.model?.id).toBe(model.id)
    expect(s.warnings).toEqual([])
  })
})
