import {Governor, Proposal, ProposalState, Vote, VoteSupport} from '../../model'
import {governorOfProposal, proposalEntityId} from '../ids'
import {proposalState, TIME_DEPENDENT_STATES} from '../proposal-state'
import type {BatchState} from '../batch-state'
import type {RawEvent} from '../raw'
import {type EventContext, warn} from './context'
import {ensureToken} from './token'

type GovernorEvent = Extract<
  RawEvent,
  {
    name:
      | 'ProposalCreated'
      | 'VoteCast'
      | 'ProposalQueued'
      | 'ProposalExecuted'
      | 'ProposalCanceled'
      | 'VotingDelaySet'
      | 'VotingPeriodSet'
      | 'ProposalThresholdSet'
      | 'QuorumNumeratorUpdated'
      | 'TimelockChange'
  }
>

/** OpenZeppelin GovernorVotesQuorumFraction's denominator. */
const QUORUM_DENOMINATOR = 100n

const SUPPORT: readonly VoteSupport[] = [VoteSupport.AGAINST, VoteSupport.FOR, VoteSupport.ABSTAIN]

export function applyGovernorEvent(ctx: EventContext, raw: GovernorEvent): void {
  const governor = ensureGovernor(ctx)
  switch (raw.name) {
    case 'VotingDelaySet':
      governor.votingDelay = raw.newVotingDelay
      break
    case 'VotingPeriodSet':
      governor.votingPeriod = raw.newVotingPeriod
      break
    case 'ProposalThresholdSet':
      governor.proposalThreshold = raw.newProposalThreshold
      break
    case 'QuorumNumeratorUpdated':
      governor.quorumNumerator = raw.newQuorumNumerator
      break
    case 'TimelockChange':
      governor.timelock = raw.newTimelock
      break
    case 'ProposalCreated':
      createProposal(ctx, governor, raw)
      break
    default:
      return applyProposalEvent(ctx, governor, raw)
  }
  governor.updatedAtBlock = ctx.meta.blockNumber
  ctx.state.governors.touch(governor)
}

function createProposal(ctx: EventContext, governor: Governor, raw: Extract<GovernorEvent, {name: 'ProposalCreated'}>): void {
  const {meta} = ctx
  const id = proposalEntityId(governor.id, raw.proposalId)
  if (ctx.state.proposals.has(id)) {
    warn(ctx, `proposal ${id} was created twice; keeping the first`)
    return
  }
  governor.proposalCount += 1
  ctx.state.proposals.add(
    new Proposal({
      id,
      governor,
      proposalId: raw.proposalId,
      proposer: raw.proposer,
      targets: raw.targets,
      values: raw.values.map(String),
      signatures: raw.signatures,
      calldatas: raw.calldatas,
      description: raw.description,
      voteStart: raw.voteStart,
      voteEnd: raw.voteEnd,
      forVotes: 0n,
      againstVotes: 0n,
      abstainVotes: 0n,
      voteCount: 0,
      quorum: null,
      state: ProposalState.PENDING,
      stateAtBlock: meta.blockNumber,
      createdBlock: meta.blockNumber,
      createdTimestamp: meta.timestamp,
      createdTxHash: meta.txHash,
      queuedBlock: null,
      eta: null,
      executedBlock: null,
      canceledBlock: null,
      event: ctx.event,
    }),
  )
}

type ProposalEvent = Extract<GovernorEvent, {name: 'VoteCast' | 'ProposalQueued' | 'ProposalExecuted' | 'ProposalCanceled'}>

function applyProposalEvent(ctx: EventContext, governor: Governor, raw: ProposalEvent): void {
  const {meta} = ctx
  const proposal = ctx.state.proposals.get(proposalEntityId(governor.id, raw.proposalId))
  if (!proposal) {
    // The audit log keeps the event; derived tables cannot place it (e.g. indexing started after the proposal).
    warn(ctx, `${raw.name} for unknown proposal ${raw.proposalId} of governor ${governor.id}`)
    return
  }
  switch (raw.name) {
    case 'VoteCast': {
      const support = SUPPORT[raw.support]
      if (support === undefined) {
        warn(ctx, `VoteCast with unknown support value ${raw.support}; not counted`)
        return
      }
      if (support === VoteSupport.FOR) proposal.forVotes += raw.weight
      else if (support === VoteSupport.AGAINST) proposal.againstVotes += raw.weight
      else proposal.abstainVotes += raw.weight
      proposal.voteCount += 1
      ctx.state.votes.push(
        new Vote({
          id: meta.id,
          proposal,
          voter: raw.voter,
          support,
          weight: raw.weight,
          reason: raw.reason,
          params: raw.params ?? null,
          blockNumber: meta.blockNumber,
          timestamp: meta.timestamp,
          txHash: meta.txHash,
        }),
      )
      break
    }
    case 'ProposalQueued':
      proposal.queuedBlock = meta.blockNumber
      proposal.eta = raw.etaSeconds
      break
    case 'ProposalExecuted':
      proposal.executedBlock = meta.blockNumber
      break
    case 'ProposalCanceled':
      proposal.canceledBlock = meta.blockNumber
      break
  }
  ctx.state.proposals.touch(proposal)
}

export function ensureGovernor(ctx: EventContext): Governor {
  const address = ctx.meta.contract
  const existing = ctx.state.governors.get(address)
  if (existing) return existing
  const entry = ctx.contracts.byAddress.get(address)
  if (entry?.kind !== 'governor') throw new Error(`ensureGovernor: ${address} is not configured as a governor`)
  return ctx.state.governors.add(
    new Governor({
      id: address,
      name: entry.name ?? null,
      token: ensureToken(ctx, entry.token),
      timelock: entry.timelock ?? null,
      votingDelay: null,
      votingPeriod: null,
      proposalThreshold: null,
      quorumNumerator: 0n,
      quorumDenominator: QUORUM_DENOMINATOR,
      proposalCount: 0,
      updatedAtBlock: ctx.meta.blockNumber,
    }),
  )
}

/**
 * Fixes quorum(voteStart) for proposals whose snapshot block lies before `beforeBlock`. Called before the first log
 * of each block and at the end of a batch: at that moment every log up to beforeBlock - 1 has been applied, so the
 * token's supply and the governor's numerator are exactly their values at the end of the snapshot block.
 */
export function settleSnapshots(state: BatchState, beforeBlock: number, tokenOfGovernor: (governor: string) => string): void {
  const before = BigInt(beforeBlock)
  for (const p of state.proposals.values()) {
    if (p.quorum != null || p.voteStart >= before) continue
    const governor = state.governors.get(governorOfProposal(p.id))
    const token = governor && state.tokens.get(tokenOfGovernor(governor.id))
    if (!governor || !token) throw new Error(`settleSnapshots: governor or token of proposal ${p.id} is not loaded`)
    p.quorum = (token.totalSupply * governor.quorumNumerator) / governor.quorumDenominator
    state.proposals.touch(p)
  }
}

/** Re-evaluates Governor.state() at `timepoint` for every proposal held in the batch; touches those that changed. */
export function refreshProposalStates(state: BatchState, timepoint: number): void {
  for (const p of state.proposals.values()) {
    const next = proposalState(
      {
        ...p,
        queued: p.queuedBlock != null,
        executed: p.executedBlock != null,
        canceled: p.canceledBlock != null,
      },
      BigInt(timepoint),
    )
    // Final states never change again; pending and active ones record how recent their evaluation is.
    if (next !== p.state || (TIME_DEPENDENT_STATES.includes(next) && p.stateAtBlock !== timepoint)) {
      p.state = next
      p.stateAtBlock = timepoint
      state.proposals.touch(p)
    }
  }
}
