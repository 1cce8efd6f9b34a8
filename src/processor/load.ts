import type {Store} from '@subsquid/typeorm-store'
import {In, IsNull, type EntityTarget} from 'typeorm'
import {
  Account,
  Contribution,
  Governor,
  Model,
  ModelVersion,
  Proposal,
  RewardEpoch,
  Token,
  TokenHolder,
  Validator,
} from '../model'
import {type BatchState, newBatchState} from './batch-state'
import type {ContractsConfig} from './contracts-config'
import {
  contributionEntityId,
  epochEntityId,
  holderId,
  modelEntityId,
  proposalEntityId,
  validatorEntityId,
  versionEntityId,
  ZERO_ADDRESS,
} from './ids'
import {TIME_DEPENDENT_STATES} from './proposal-state'
import type {DecodedLog} from './raw'

/** Ids of every aggregate row the batch's events can touch, per entity type. */
export interface IdsToLoad {
  accounts: Set<string>
  holders: Set<string>
  proposals: Set<string>
  models: Set<string>
  versions: Set<string>
  validators: Set<string>
  contributions: Set<string>
  epochs: Set<string>
}

export function collectIds(logs: readonly DecodedLog[], contracts: ContractsConfig): IdsToLoad {
  const ids: IdsToLoad = {
    accounts: new Set(),
    holders: new Set(),
    proposals: new Set(),
    models: new Set(),
    versions: new Set(),
    validators: new Set(),
    contributions: new Set(),
    epochs: new Set(),
  }
  const holder = (token: string, address: string) => {
    if (address === ZERO_ADDRESS) return
    ids.accounts.add(address)
    ids.holders.add(holderId(token, address))
  }
  for (const {raw, meta} of logs) {
    if (!raw) continue
    const c = meta.contract
    const registryOf = () => contracts.modelRegistryFor(contracts.byAddress.get(c)!)
    switch (raw.name) {
      case 'Transfer':
        holder(c, raw.from)
        holder(c, raw.to)
        break
      case 'DelegateChanged':
        holder(c, raw.delegator)
        break
      case 'DelegateVotesChanged':
        holder(c, raw.delegate)
        break
      case 'VoteCast':
      case 'ProposalQueued':
      case 'ProposalExecuted':
      case 'ProposalCanceled':
      case 'ProposalCreated':
        ids.proposals.add(proposalEntityId(c, raw.proposalId))
        break
      case 'ModelRegistered':
      case 'ModelOwnershipTransferred':
        ids.models.add(modelEntityId(c, raw.modelId))
        break
      case 'ModelVersionPublished': {
        const model = modelEntityId(c, raw.modelId)
        ids.models.add(model)
        ids.versions.add(versionEntityId(model, raw.versionId))
        if (raw.parentVersionId > 0n) ids.versions.add(versionEntityId(model, raw.parentVersionId))
        break
      }
      case 'ValidatorUpdated':
        ids.validators.add(validatorEntityId(c, raw.validator))
        break
      case 'ContributionSubmitted': {
        ids.contributions.add(contributionEntityId(c, raw.contributionId))
        const registry = registryOf()
        if (registry) ids.models.add(modelEntityId(registry, raw.modelId))
        break
      }
      case 'ContributionValidated':
        ids.contributions.add(contributionEntityId(c, raw.contributionId))
        ids.validators.add(validatorEntityId(c, raw.validator))
        break
      case 'EpochOpened': {
        ids.epochs.add(epochEntityId(c, raw.epochId))
        const registry = registryOf()
        if (registry && raw.modelId > 0n) ids.models.add(modelEntityId(registry, raw.modelId))
        break
      }
      case 'EpochFunded':
      case 'RewardPaid':
      case 'EpochClosed':
        ids.epochs.add(epochEntityId(c, raw.epochId))
        break
    }
  }
  return ids
}

/** Postgres caps bind parameters at 65,535 per statement and TypeORM's In() spends one per id. */
const ID_CHUNK = 10_000

async function loadByIds<E extends {id: string}>(store: Store, entity: EntityTarget<E>, ids: Set<string>): Promise<E[]> {
  const all = [...ids]
  const rows: E[] = []
  for (let i = 0; i < all.length; i += ID_CHUNK) {
    rows.push(...((await store.findBy(entity as any, {id: In(all.slice(i, i + ID_CHUNK))} as any)) as E[]))
  }
  return rows as E[]
}

/**
 * Loads, with one query per entity type, every aggregate the batch may change, plus all tokens and governors
 * (few rows) and the proposals whose state can change with time alone.
 */
export async function loadBatchState(store: Store, logs: readonly DecodedLog[], contracts: ContractsConfig): Promise<BatchState> {
  const ids = collectIds(logs, contracts)
  // One query after another: they share the batch's transaction, and a pg client runs one query at a time anyway.
  const accounts = await loadByIds(store, Account, ids.accounts)
  const holders = await loadByIds(store, TokenHolder, ids.holders)
  const tokens = await store.find(Token, {})
  const governors = await store.find(Governor, {})
  const proposalsById = await loadByIds(store, Proposal, ids.proposals)
  const openProposals = await store.find(Proposal, {where: [{state: In([...TIME_DEPENDENT_STATES])}, {quorum: IsNull()}]})
  const models = await loadByIds(store, Model, ids.models)
  const versions = await loadByIds(store, ModelVersion, ids.versions)
  const validators = await loadByIds(store, Validator, ids.validators)
  const contributions = await loadByIds(store, Contribution, ids.contributions)
  const epochs = await loadByIds(store, RewardEpoch, ids.epochs)
  const proposals = new Map<string, Proposal>()
  for (const p of [...proposalsById, ...openProposals]) if (!proposals.has(p.id)) proposals.set(p.id, p)
  return newBatchState({
    accounts,
    holders,
    tokens,
    governors,
    proposals: [...proposals.values()],
    models,
    versions,
    validators,
    contributions,
    epochs,
  })
}
