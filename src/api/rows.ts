import type DataLoader from 'dataloader'
import type {ApiContext} from './context'
import {byId} from './loaders'

/**
 * SELECT lists of the indexed tables (migrations/*.js), aliased to the GraphQL field names so rows serve as GraphQL
 * objects directly: `block_number` → "blockNumber". Column names are fixed here, never taken from a request.
 */
const RENAMES: Record<string, string> = {metadata_uri: 'metadataURI', created_tx_hash: 'createdTx'}

const camel = (c: string) => RENAMES[c] ?? c.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())

/** `columns(alias, 'id block_number')` → `alias."id" AS "id", alias."block_number" AS "blockNumber"`. */
export function columns(alias: string, list: string): string {
  return list
    .trim()
    .split(/\s+/)
    .map((c) => `${alias}."${c}" AS "${camel(c)}"`)
    .join(', ')
}

/**
 * `columns(...)` restricted to the GraphQL fields a request selected (selection.ts), plus `always` (the keyset's
 * fields, and any a field resolver reads). `fields` null or undefined: every column.
 */
export function columnsFor(alias: string, list: string, fields: readonly string[] | null | undefined, always: readonly string[]): string {
  if (!fields) return columns(alias, list)
  const keep = list
    .trim()
    .split(/\s+/)
    .filter((c) => fields.includes(camel(c)) || always.includes(camel(c)))
  return columns(alias, keep.join(' '))
}

export const COLS = {
  token: 'id name total_supply holder_count transfer_count updated_at_block',
  governor: 'id name token_id timelock voting_delay voting_period proposal_threshold quorum_numerator quorum_denominator proposal_count updated_at_block',
  proposal:
    'id governor_id proposal_id proposer targets values signatures calldatas description vote_start vote_end for_votes against_votes ' +
    'abstain_votes vote_count quorum state state_at_block created_block created_timestamp created_tx_hash queued_block eta ' +
    'executed_block canceled_block event_id',
  vote: 'id proposal_id voter support weight reason params block_number timestamp tx_hash',
  transfer: 'id token from to value block_number timestamp tx_hash',
  delegateChange: 'id token delegator from_delegate to_delegate block_number timestamp tx_hash',
  votingPowerChange: 'id token delegate previous_votes new_votes block_number timestamp tx_hash',
  model: 'id registry model_id owner name metadata_uri version_count contribution_count created_block event_id',
  modelVersion: 'id model_id version_id parent_id publisher weights_hash metadata_uri block_number timestamp tx_hash event_id',
  contribution:
    'id registry contribution_id model_id contributor kind units evidence_hash status score validator validated_block ' +
    'submitted_block timestamp tx_hash event_id',
  validation: 'id contribution_id validator accepted score report_hash self_validated block_number timestamp tx_hash',
  rewardEpoch: 'id distributor epoch_id scope_model_id model_id total_funded total_paid payout_count status opened_block closed_block event_id',
  rewardPayout: 'id epoch_id recipient amount block_number timestamp tx_hash',
  rewardFunding: 'id epoch_id funder amount block_number timestamp tx_hash',
  auditEvent: 'id block_number block_hash timestamp tx_hash transaction_index log_index contract contract_kind event_name args',
  metricValue:
    'id metric distribution scope_kind scope_id as_of_block value value_exact input_from_block input_to_block input_row_count ' +
    'input_digest sql_digest job_version computed_at',
} as const

/** A row as selected above; the GraphQL schema gives each field its type. */
export type Row = Record<string, unknown> & {id: string}

const TABLES: Record<keyof typeof COLS, string> = {
  token: 'token',
  governor: 'governor',
  proposal: 'proposal',
  vote: 'vote',
  transfer: 'transfer',
  delegateChange: 'delegate_change',
  votingPowerChange: 'voting_power_change',
  model: 'model',
  modelVersion: 'model_version',
  contribution: 'contribution',
  validation: 'validation',
  rewardEpoch: 'reward_epoch',
  rewardPayout: 'reward_payout',
  rewardFunding: 'reward_funding',
  auditEvent: 'audit_event',
  metricValue: 'metric_value',
}

/** `SELECT <columns> FROM <table> t` for an entity, ready for a WHERE clause on alias `t`. */
export function selectFrom(entity: keyof typeof COLS, alias = 't'): string {
  return `SELECT ${columns(alias, COLS[entity])} FROM "${TABLES[entity]}" ${alias}`
}

/** The request's by-id loader for an entity. */
export function loadById(ctx: ApiContext, entity: keyof typeof COLS): DataLoader<string, Row | null, string> {
  return byId<Row>(ctx, `byId:${entity}`, `SELECT ${columns('t', COLS[entity])} FROM "${TABLES[entity]}" t`)
}

/** Resolves an entity's `event: AuditEvent!` (event rows: their own id; aggregates: the event that created them). */
export const eventOf =
  (idField: 'id' | 'eventId') =>
  (row: Row, _: unknown, ctx: ApiContext) =>
    loadById(ctx, 'auditEvent').load(String(row[idField]))
