import {
  Account,
  AuditEvent,
  BalanceCheckpoint,
  Contribution,
  DelegateChange,
  Governor,
  Model,
  ModelVersion,
  Proposal,
  RewardEpoch,
  RewardFunding,
  RewardPayout,
  Token,
  TokenHolder,
  Transfer,
  Validation,
  Validator,
  Vote,
  VotingPowerChange,
} from '../model'
import {EntityMap} from './entity-map'

/**
 * Everything one processor batch reads and writes, in memory. Aggregates (balances, proposals, ...) are loaded once
 * up front and mutated as events are applied in chain order; event rows are appended. The write stage then stores
 * each type with one statement per chunk: no database round trip per event.
 */
export interface BatchState {
  accounts: EntityMap<Account>
  tokens: EntityMap<Token>
  holders: EntityMap<TokenHolder>
  governors: EntityMap<Governor>
  proposals: EntityMap<Proposal>
  models: EntityMap<Model>
  versions: EntityMap<ModelVersion>
  validators: EntityMap<Validator>
  contributions: EntityMap<Contribution>
  epochs: EntityMap<RewardEpoch>

  auditEvents: AuditEvent[]
  transfers: Transfer[]
  delegateChanges: DelegateChange[]
  votingPowerChanges: VotingPowerChange[]
  /** One row per (token, account, block) whose balance changed, holding the balance at the end of the block. Keyed
   *  by id so later transfers of the same block overwrite the value instead of adding rows. */
  balanceCheckpoints: Map<string, BalanceCheckpoint>
  votes: Vote[]
  validations: Validation[]
  fundings: RewardFunding[]
  payouts: RewardPayout[]

  /** Problems that were recorded instead of crashing the batch (e.g. an event about an unknown proposal). */
  warnings: string[]
}

export interface LoadedRows {
  accounts?: Account[]
  tokens?: Token[]
  holders?: TokenHolder[]
  governors?: Governor[]
  proposals?: Proposal[]
  models?: Model[]
  versions?: ModelVersion[]
  validators?: Validator[]
  contributions?: Contribution[]
  epochs?: RewardEpoch[]
}

export function newBatchState(loaded: LoadedRows = {}): BatchState {
  return {
    accounts: new EntityMap(loaded.accounts),
    tokens: new EntityMap(loaded.tokens),
    holders: new EntityMap(loaded.holders),
    governors: new EntityMap(loaded.governors),
    proposals: new EntityMap(loaded.proposals),
    models: new EntityMap(loaded.models),
    versions: new EntityMap(loaded.versions),
    validators: new EntityMap(loaded.validators),
    contributions: new EntityMap(loaded.contributions),
    epochs: new EntityMap(loaded.epochs),
    auditEvents: [],
    transfers: [],
    delegateChanges: [],
    votingPowerChanges: [],
    balanceCheckpoints: new Map(),
    votes: [],
    validations: [],
    fundings: [],
    payouts: [],
    warnings: [],
  }
}
