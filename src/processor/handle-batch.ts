import {AuditEvent} from '../model'
import type {BatchState} from './batch-state'
import type {ContractsConfig} from './contracts-config'
import {applyContributionEvent} from './handlers/contributions'
import type {EventContext} from './handlers/context'
import {applyGovernorEvent, refreshProposalStates, settleSnapshots} from './handlers/governance'
import {applyModelEvent} from './handlers/models'
import {applyRewardEvent} from './handlers/rewards'
import {applyTokenEvent} from './handlers/token'
import type {DecodedLog} from './raw'

/**
 * Applies a batch's decoded logs, in chain order, to the batch state: one audit row per log, then the domain change.
 * Pure with respect to the database: loading and writing happen around it.
 *
 * `headBlock` is the last block of the batch: proposal states are evaluated there, as Governor.state() would be in
 * a call at that block.
 */
export function applyLogs(state: BatchState, logs: readonly DecodedLog[], contracts: ContractsConfig, headBlock: number): void {
  const tokenOfGovernor = (governor: string): string => {
    const entry = contracts.byAddress.get(governor)
    if (entry?.kind !== 'governor') throw new Error(`${governor} is not configured as a governor`)
    return entry.token
  }
  let currentBlock = -1
  for (const log of logs) {
    if (log.meta.blockNumber !== currentBlock) {
      currentBlock = log.meta.blockNumber
      settleSnapshots(state, currentBlock, tokenOfGovernor)
    }
    const event = new AuditEvent({
      id: log.meta.id,
      blockNumber: log.meta.blockNumber,
      blockHash: log.meta.blockHash,
      timestamp: log.meta.timestamp,
      txHash: log.meta.txHash,
      transactionIndex: log.meta.transactionIndex,
      logIndex: log.meta.logIndex,
      contract: log.meta.contract,
      contractKind: log.contractKind,
      eventName: log.eventName,
      args: log.args,
    })
    state.auditEvents.push(event)
    if (log.raw) applyRaw({state, meta: log.meta, event, contracts}, log.raw)
  }
  settleSnapshots(state, headBlock + 1, tokenOfGovernor)
  refreshProposalStates(state, headBlock)
}

function applyRaw(ctx: EventContext, raw: NonNullable<DecodedLog['raw']>): void {
  switch (raw.name) {
    case 'Transfer':
    case 'DelegateChanged':
    case 'DelegateVotesChanged':
      return applyTokenEvent(ctx, raw)
    case 'ProposalCreated':
    case 'VoteCast':
    case 'ProposalQueued':
    case 'ProposalExecuted':
    case 'ProposalCanceled':
    case 'VotingDelaySet':
    case 'VotingPeriodSet':
    case 'ProposalThresholdSet':
    case 'QuorumNumeratorUpdated':
    case 'TimelockChange':
      return applyGovernorEvent(ctx, raw)
    case 'ModelRegistered':
    case 'ModelVersionPublished':
    case 'ModelOwnershipTransferred':
      return applyModelEvent(ctx, raw)
    case 'ValidatorUpdated':
    case 'ContributionSubmitted':
    case 'ContributionValidated':
      return applyContributionEvent(ctx, raw)
    case 'EpochOpened':
    case 'EpochFunded':
    case 'RewardPaid':
    case 'EpochClosed':
      return applyRewardEvent(ctx, raw)
  }
}
