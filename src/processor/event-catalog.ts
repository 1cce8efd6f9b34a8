import * as contributionAbi from '../abi/ContributionRegistry'
import * as governorAbi from '../abi/DeAIGovernor'
import * as timelockAbi from '../abi/DeAITimelock'
import * as tokenAbi from '../abi/DeAIToken'
import * as modelAbi from '../abi/ModelRegistry'
import * as rewardAbi from '../abi/RewardDistributor'
import type {ContractKind} from './contracts-config'
import type {RawEvent} from './raw'

/** One event the indexer subscribes to: how to decode it and, when it has domain meaning, how to turn it into a RawEvent. */
export interface EventSpec {
  name: string
  topic: string
  decode(log: {topics: string[]; data: string}): Record<string, unknown>
  toRaw?(args: any): RawEvent
}

type AbiEvents = Record<string, {topic: string; decode(log: {topics: string[]; data: string}): any}>

/**
 * Every event of each contract kind's ABI goes into the audit log; the mappers below give the ones that change
 * derived tables their RawEvent shape. Events without a mapper (Approval, role changes, timelock internals) are
 * evidence only.
 */
const MAPPERS: Record<ContractKind, Record<string, (a: any) => RawEvent>> = {
  token: {
    Transfer: (a) => ({name: 'Transfer', from: a.from, to: a.to, value: a.value}),
    DelegateChanged: (a) => ({name: 'DelegateChanged', delegator: a.delegator, fromDelegate: a.fromDelegate, toDelegate: a.toDelegate}),
    DelegateVotesChanged: (a) => ({name: 'DelegateVotesChanged', delegate: a.delegate, previousVotes: a.previousVotes, newVotes: a.newVotes}),
  },
  governor: {
    ProposalCreated: (a) => ({
      name: 'ProposalCreated',
      proposalId: a.proposalId,
      proposer: a.proposer,
      targets: a.targets,
      values: a.values,
      signatures: a.signatures,
      calldatas: a.calldatas,
      voteStart: a.voteStart,
      voteEnd: a.voteEnd,
      description: a.description,
    }),
    VoteCast: (a) => ({name: 'VoteCast', voter: a.voter, proposalId: a.proposalId, support: a.support, weight: a.weight, reason: a.reason}),
    VoteCastWithParams: (a) => ({
      name: 'VoteCast',
      voter: a.voter,
      proposalId: a.proposalId,
      support: a.support,
      weight: a.weight,
      reason: a.reason,
      params: a.params,
    }),
    ProposalQueued: (a) => ({name: 'ProposalQueued', proposalId: a.proposalId, etaSeconds: a.etaSeconds}),
    ProposalExecuted: (a) => ({name: 'ProposalExecuted', proposalId: a.proposalId}),
    ProposalCanceled: (a) => ({name: 'ProposalCanceled', proposalId: a.proposalId}),
    VotingDelaySet: (a) => ({name: 'VotingDelaySet', newVotingDelay: a.newVotingDelay}),
    VotingPeriodSet: (a) => ({name: 'VotingPeriodSet', newVotingPeriod: a.newVotingPeriod}),
    ProposalThresholdSet: (a) => ({name: 'ProposalThresholdSet', newProposalThreshold: a.newProposalThreshold}),
    QuorumNumeratorUpdated: (a) => ({name: 'QuorumNumeratorUpdated', newQuorumNumerator: a.newQuorumNumerator}),
    TimelockChange: (a) => ({name: 'TimelockChange', newTimelock: a.newTimelock}),
  },
  timelock: {},
  modelRegistry: {
    ModelRegistered: (a) => ({name: 'ModelRegistered', modelId: a.modelId, owner: a.owner, modelName: a.name, metadataURI: a.metadataURI}),
    ModelVersionPublished: (a) => ({
      name: 'ModelVersionPublished',
      modelId: a.modelId,
      versionId: a.versionId,
      publisher: a.publisher,
      parentVersionId: a.parentVersionId,
      weightsHash: a.weightsHash,
      metadataURI: a.metadataURI,
    }),
    ModelOwnershipTransferred: (a) => ({name: 'ModelOwnershipTransferred', modelId: a.modelId, previousOwner: a.previousOwner, newOwner: a.newOwner}),
  },
  contributionRegistry: {
    ValidatorUpdated: (a) => ({name: 'ValidatorUpdated', validator: a.validator, active: a.active}),
    ContributionSubmitted: (a) => ({
      name: 'ContributionSubmitted',
      contributionId: a.contributionId,
      modelId: a.modelId,
      contributor: a.contributor,
      kind: a.kind,
      units: a.units,
      evidenceHash: a.evidenceHash,
    }),
    ContributionValidated: (a) => ({
      name: 'ContributionValidated',
      contributionId: a.contributionId,
      validator: a.validator,
      accepted: a.accepted,
      score: a.score,
      reportHash: a.reportHash,
    }),
  },
  rewardDistributor: {
    EpochOpened: (a) => ({name: 'EpochOpened', epochId: a.epochId, modelId: a.modelId}),
    EpochFunded: (a) => ({name: 'EpochFunded', epochId: a.epochId, funder: a.funder, amount: a.amount}),
    RewardPaid: (a) => ({name: 'RewardPaid', epochId: a.epochId, recipient: a.recipient, amount: a.amount}),
    EpochClosed: (a) => ({name: 'EpochClosed', epochId: a.epochId, totalFunded: a.totalFunded, totalPaid: a.totalPaid}),
  },
}

const ABIS: Record<ContractKind, AbiEvents> = {
  token: tokenAbi.events,
  governor: governorAbi.events,
  timelock: timelockAbi.events,
  modelRegistry: modelAbi.events,
  contributionRegistry: contributionAbi.events,
  rewardDistributor: rewardAbi.events,
}

function buildCatalog(kind: ContractKind): ReadonlyMap<string, EventSpec> {
  const specs = new Map<string, EventSpec>()
  for (const [name, ev] of Object.entries(ABIS[kind])) {
    specs.set(ev.topic, {name, topic: ev.topic, decode: (log) => ev.decode(log), toRaw: MAPPERS[kind][name]})
  }
  return specs
}

/** topic0 → EventSpec, per contract kind. */
export const EVENT_CATALOG: Readonly<Record<ContractKind, ReadonlyMap<string, EventSpec>>> = {
  token: buildCatalog('token'),
  governor: buildCatalog('governor'),
  timelock: buildCatalog('timelock'),
  modelRegistry: buildCatalog('modelRegistry'),
  contributionRegistry: buildCatalog('contributionRegistry'),
  rewardDistributor: buildCatalog('rewardDistributor'),
}
