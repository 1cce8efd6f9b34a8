import type {DuckDBConnection} from '@duckdb/node-api'
import {BALANCE_STATE_DDL} from './balances'
import {BALANCE_TOTAL_DDL} from './balance-totals'
import {DELEGATE_POWER_DDL} from './delegate-power'
import {SCANNED_HUGEINT} from './column-storage'
import {FAIRNESS_LOG_TABLES} from './fairness-log'
import {VALIDATED_CONTRIBUTION_DDL} from './validated-contributions'
import {VALIDATOR_TALLY_DDL} from './validator-tallies'
import {VOTE_ROW_DIGEST_DDL} from './vote-digests'
import {HEAD_DIGEST_DDL} from './head-digests'
import {PROPOSAL_SNAPSHOT_DDL, PROPOSAL_SNAPSHOT_TABLES} from './proposal-snapshots'
import {VOTER_TALLY_DDL, VOTER_TALLY_TABLES} from './voter-tallies'

/**
 * The analytics mirror in DuckDB: `audit_event` copied from Postgres, typed tables extracted from it during the
 * load, `oversized_amount` for uint256 values that do not fit, and `sync_state`.
 *
 * Every mirror table carries `block_number`, so a rollback is one `DELETE ... WHERE block_number > cut` per table.
 * The tables have no primary key on purpose: DuckDB maintains an ART index per key, which measured 1.2 s per million
 * rows, as much as the whole CSV load; uniqueness comes from the sync instead (it pulls strictly above what it kept)
 * and the tests compare the incremental mirror with a full rebuild.
 *
 * uint256 rule: HUGEINT holds |x| < 2^127. A uint256 argument at or beyond that is never rounded: its typed column is
 * NULL and the row goes to `oversized_amount` (event id, table, column, the exact decimal). Every read in inputs.ts
 * goes through `exact()`, which raises an error naming the event when it meets such a NULL, so a metric scope that
 * contains an oversized value fails loudly while every other scope still works. Sums and products that overflow
 * HUGEINT raise DuckDB's own overflow error (checked arithmetic), also never rounded.
 */
/** 2: balance_state (balances.ts), kept in step with token_transfer by the sync; a version-1 mirror must be rebuilt. */
export const SCHEMA_VERSION = 2

type SqlType = 'VARCHAR' | 'HUGEINT' | 'BIGINT' | 'INTEGER' | 'BOOLEAN'

export interface TypedColumn {
  name: string
  type: SqlType
  /** SQL over the audit row aliased `e`. */
  expr: string
  /** Set when the column holds a uint256 argument: the args field, checked against the column's range. */
  uintField?: string
  /** A HUGEINT column a refresh scans whole, through the derived state it feeds: stored uncompressed (column-storage.ts). */
  scanned?: boolean
}

export interface TypedTable {
  name: string
  contractKind: string
  events: readonly string[]
  /** Besides `id` and `block_number`, which every typed table starts with. */
  columns: readonly TypedColumn[]
}

/** Columns of audit_event in Postgres order; the CSV pulled from Postgres has exactly these, in this order. */
export const AUDIT_EVENT_COLUMNS: ReadonlyArray<readonly [name: string, type: string]> = [
  ['id', 'VARCHAR'],
  ['block_number', 'BIGINT'],
  ['block_hash', 'VARCHAR'],
  ['timestamp', 'TIMESTAMPTZ'],
  ['tx_hash', 'VARCHAR'],
  ['transaction_index', 'INTEGER'],
  ['log_index', 'INTEGER'],
  ['contract', 'VARCHAR'],
  ['contract_kind', 'VARCHAR'],
  ['event_name', 'VARCHAR'],
  ['args', 'JSON'],
]

export const AUDIT_EVENT_DDL = `CREATE TABLE IF NOT EXISTS audit_event (${AUDIT_EVENT_COLUMNS.map(([n, t]) => `"${n}" ${t} NOT NULL`).join(', ')})`

export const OVERSIZED_AMOUNT_DDL = `CREATE TABLE IF NOT EXISTS oversized_amount (
  id VARCHAR NOT NULL, block_number BIGINT NOT NULL, table_name VARCHAR NOT NULL, column_name VARCHAR NOT NULL,
  raw VARCHAR NOT NULL)`

/** One row: where the mirror stands. `height` includes the unfinalized blocks mirrored at that sync. */
export const SYNC_STATE_DDL = `CREATE TABLE IF NOT EXISTS sync_state (
  schema_version INTEGER NOT NULL, last_id VARCHAR, last_block BIGINT NOT NULL, height BIGINT NOT NULL,
  finalized_height BIGINT NOT NULL, synced_at TIMESTAMPTZ NOT NULL)`

const arg = (field: string) => `json_extract_string(e.args, '$.${field}')`
const col = (name: string, type: SqlType, expr: string): TypedColumn => ({name, type, expr})
const contract = (name: string) => col(name, 'VARCHAR', 'e.contract')
/** On-chain ids (uint256) stay decimal strings: they are join keys, never arithmetic. */
const text = (name: string, field = name) => col(name, 'VARCHAR', arg(field))
const addr = (name: string, field: string) => col(name, 'VARCHAR', `lower(${arg(field)})`)
const small = (name: string, field = name) => col(name, 'INTEGER', `CAST(${arg(field)} AS INTEGER)`)
const bool = (name: string, field = name) => col(name, 'BOOLEAN', `CAST(${arg(field)} AS BOOLEAN)`)
/** A uint column that a refresh scans whole (SCANNED_HUGEINT). */
const scanned = (c: TypedColumn): TypedColumn => ({...c, scanned: true})
/** NULL unless the decimal is all digits and fits the type; TRY_CAST alone would round '1.5' to 2. */
const uint = (name: string, field: string, type: 'HUGEINT' | 'BIGINT' = 'HUGEINT'): TypedColumn => ({
  name,
  type,
  uintField: field,
  expr: `CASE WHEN regexp_full_match(${arg(field)}, '[0-9]+') THEN TRY_CAST(${arg(field)} AS ${type}) END`,
})

export const TYPED_TABLES: readonly TypedTable[] = [
  {
    name: 'token_transfer',
    contractKind: 'token',
    events: ['Transfer'],
    columns: [col('log_index', 'INTEGER', 'e.log_index'), contract('token'), addr('from_addr', 'from'), addr('to_addr', 'to'), uint('value', 'value')],
  },
  {name: 'votes_change', contractKind: 'token', events: ['DelegateVotesChanged'], columns: [contract('token'), addr('delegate', 'delegate'), scanned(uint('new_votes', 'newVotes'))]},
  {name: 'delegation', contractKind: 'token', events: ['DelegateChanged'], columns: [contract('token'), addr('delegator', 'delegator'), addr('to_delegate', 'toDelegate')]},
  {
    name: 'proposal',
    contractKind: 'governor',
    events: ['ProposalCreated'],
    columns: [contract('governor'), text('proposal_id', 'proposalId'), addr('proposer', 'proposer'), uint('vote_start', 'voteStart', 'BIGINT'), uint('vote_end', 'voteEnd', 'BIGINT')],
  },
  {
    name: 'proposal_outcome',
    contractKind: 'governor',
    events: ['ProposalQueued', 'ProposalExecuted', 'ProposalCanceled'],
    columns: [
      contract('governor'),
      text('proposal_id', 'proposalId'),
      col('outcome', 'VARCHAR', `CASE e.event_name WHEN 'ProposalQueued' THEN 'queued' WHEN 'ProposalExecuted' THEN 'executed' ELSE 'canceled' END`),
      // NULL for executed/canceled (no such argument); only a present argument can be oversized.
      uint('eta_seconds', 'etaSeconds'),
    ],
  },
  {
    name: 'vote_cast',
    contractKind: 'governor',
    events: ['VoteCast', 'VoteCastWithParams'],
    columns: [contract('governor'), text('proposal_id', 'proposalId'), addr('voter', 'voter'), small('support'), uint('weight', 'weight')],
  },
  {name: 'quorum_numerator', contractKind: 'governor', events: ['QuorumNumeratorUpdated'], columns: [contract('governor'), uint('numerator', 'newQuorumNumerator')]},
  {name: 'model', contractKind: 'modelRegistry', events: ['ModelRegistered'], columns: [contract('registry'), text('model_id', 'modelId'), addr('owner', 'owner')]},
  {
    name: 'model_owner_change',
    contractKind: 'modelRegistry',
    events: ['ModelOwnershipTransferred'],
    columns: [contract('registry'), text('model_id', 'modelId'), addr('previous_owner', 'previousOwner'), addr('new_owner', 'newOwner')],
  },
  {
    name: 'contribution',
    contractKind: 'contributionRegistry',
    events: ['ContributionSubmitted'],
    columns: [contract('registry'), text('contribution_id', 'contributionId'), text('model_id', 'modelId'), addr('contributor', 'contributor'), small('kind'), scanned(uint('units', 'units'))],
  },
  {
    name: 'validation',
    contractKind: 'contributionRegistry',
    events: ['ContributionValidated'],
    columns: [contract('registry'), text('contribution_id', 'contributionId'), addr('validator', 'validator'), bool('accepted'), small('score')],
  },
  {name: 'epoch', contractKind: 'rewardDistributor', events: ['EpochOpened'], columns: [contract('distributor'), text('epoch_id', 'epochId'), text('model_id', 'modelId')]},
  {
    name: 'reward_paid',
    contractKind: 'rewardDistributor',
    events: ['RewardPaid'],
    columns: [contract('distributor'), text('epoch_id', 'epochId'), addr('recipient', 'recipient'), scanned(uint('amount', 'amount'))],
  },
]

/** uint columns may be NULL (oversized, or absent for that event); the others are NOT NULL. */
export function typedTableDdl(t: TypedTable): string {
  const cols = t.columns.map((c) => `${c.name} ${c.scanned ? SCANNED_HUGEINT : c.type}${c.uintField ? '' : ' NOT NULL'}`)
  return `CREATE TABLE IF NOT EXISTS ${t.name} (id VARCHAR NOT NULL, block_number BIGINT NOT NULL, ${cols.join(', ')})`
}

/** Every table whose rows come from blocks: what a rollback deletes from. */
export const MIRROR_TABLES: readonly string[] = ['audit_event', ...TYPED_TABLES.map((t) => t.name), 'oversized_amount']

/**
 * Tables derived from the mirror tables and maintained by the sync (no block_number: see balances.ts, balance-totals.ts,
 * head-digests.ts, voter-tallies.ts, delegate-power.ts, validated-contributions.ts, validator-tallies.ts, vote-digests.ts).
 */
export const DERIVED_TABLES: readonly string[] = [
  'balance_state', 'balance_total', 'head_digest', ...VOTER_TALLY_TABLES, 'delegate_power', 'validated_contribution', 'validator_tally', 'vote_row_digest',
]

/**
 * Caches of final answers computed by the jobs (proposal-snapshots.ts): unlike derived tables they depend on which
 * blocks were measured, so the mirror comparisons leave them out; a rollback trims them, a rebuild drops them.
 */
export const CACHE_TABLES: readonly string[] = PROPOSAL_SNAPSHOT_TABLES

export const SCHEMA_DDL: readonly string[] = [
  AUDIT_EVENT_DDL,
  ...TYPED_TABLES.map(typedTableDdl),
  OVERSIZED_AMOUNT_DDL,
  SYNC_STATE_DDL,
  BALANCE_STATE_DDL,
  BALANCE_TOTAL_DDL,
  HEAD_DIGEST_DDL,
  ...VOTER_TALLY_DDL,
  DELEGATE_POWER_DDL,
  VALIDATED_CONTRIBUTION_DDL,
  VALIDATOR_TALLY_DDL,
  VOTE_ROW_DIGEST_DDL,
  ...PROPOSAL_SNAPSHOT_DDL,
]

/** The table each statement of SCHEMA_DDL creates. */
const SCHEMA_TABLES: readonly string[] = SCHEMA_DDL.map((ddl) => {
  const name = /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(ddl)?.[1]
  if (!name) throw new Error(`not a CREATE TABLE IF NOT EXISTS statement: ${ddl.slice(0, 60)}`)
  return name
})

/**
 * Connections that found every table present. Only dropSchema takes a table away, and it forgets the connection: the
 * rebuild that calls it runs ensureSchema next, in the same transaction. A connection that had to create a table is
 * not remembered, since the transaction that created it may still roll back.
 */
const schemaFound = new WeakSet<DuckDBConnection>()

/**
 * Creates the tables the mirror lacks. Every sync calls it, and the tables almost always exist: one catalogue query
 * finds which are missing, instead of ~27 CREATE TABLE IF NOT EXISTS statements (~1 ms each, every sync), and once it
 * found them all on a connection, not even that query (3–11 ms a sync, before the sync can start its pull). A table
 * that exists is left as it is either way.
 */
export async function ensureSchema(conn: DuckDBConnection): Promise<void> {
  if (schemaFound.has(conn)) return
  const reader = await conn.runAndReadAll(
    `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary`,
  )
  const present = new Set(reader.getRowObjectsJson().map((r) => String(r.table_name)))
  const missing = [...SCHEMA_DDL.keys()].filter((i) => !present.has(SCHEMA_TABLES[i]!))
  for (const i of missing) await conn.run(SCHEMA_DDL[i]!)
  if (missing.length === 0) schemaFound.add(conn)
}

export async function dropSchema(conn: DuckDBConnection): Promise<void> {
  schemaFound.delete(conn)
  for (const name of [...MIRROR_TABLES, ...DERIVED_TABLES, ...CACHE_TABLES, 'sync_state']) await conn.run(`DROP TABLE IF EXISTS ${name}`)
  // The connection's balance change log (balances.ts): a rebuild replaces every balance, so nothing kept in the
  // process from before stands; without its token registered, the kept state is rebuilt at its next use.
  // The fairness log (fairness-log.ts) likewise: with its sources unregistered, the kept amounts build again.
  for (const name of ['balance_changes', 'balance_log_tokens', ...FAIRNESS_LOG_TABLES]) await conn.run(`DROP TABLE IF EXISTS temp.${name}`)
}
