import type {DuckDBConnection} from '@duckdb/node-api'
import {queryRows, type Row} from '../metrics/sql-values'
import {TRANSFERS_LEFT_OUT_OF_BALANCES} from './balances'
import {VOTE_CHANGES_LEFT_OUT_OF_POWER} from './delegate-power'
import {DIGEST_OF_SUMS} from './input-digest'
import {hasDerivedTable} from './derived-tables'
import {headDigestIn, headDigestsByGroupIn, mirrorSnapshotOf, oversizedIn} from './mirror-snapshot'
import {rowsAboveAt} from './rows-above'
import {HEAD_DIGEST_SQL, headDigestsByGroupSql, validationsModelScopeSql, validationsScope} from './head-digests'
import {
  BALANCES_AT, type InputParams, materialize, PROPOSAL_WEIGHTS_BY_PROPOSAL, PROPOSAL_WEIGHTS_BY_PROPOSAL_ONE_VOTE_EACH, TOP_HOLDERS_AT,
  VALIDATED_CONTRIBUTION, VALIDATED_CONTRIBUTION_BY_MODEL, VALIDATIONS, VALIDATIONS_BY_MODEL, VOTES_ALL, VOTING_POWER_AT,
} from './inputs'
import {oneVoteEach} from './one-vote-each'
import {
  pairsAreCurrentAt, VALIDATED_CONTRIBUTION_BY_MODEL_FROM_PAIRS, VALIDATED_CONTRIBUTION_FROM_PAIRS, VALIDATIONS_BY_MODEL_FROM_PAIRS,
  VALIDATIONS_FROM_PAIRS,
} from './validated-contributions'

// Callers of the routes ask this too; it lives in derived-tables.ts so that modules the routes import can use it.
export {hasDerivedTable} from './derived-tables'

/**
 * Faster routes to an input relation: where the mirror keeps derived state that yields exactly the rows of an
 * input query (the same multiset, the same column names and types), the relation is filled from it instead. The
 * input's definition does not change: a value's input digest and SQL digest stay those of the query in inputs.ts,
 * which is what the reproduce command exports, and the tests compare both routes row for row.
 *
 * - BALANCES_AT at a block at or above every mirrored transfer (the head, the case of every refresh): the
 *   balances are the sums balance_state holds (balances.ts), filtered as BALANCES_AT filters (w > 0; the zero
 *   address has no row there, so it needs no filter). Not when a transfer amount did not fit: BALANCES_AT raises its
 *   error then.
 * - VOTING_POWER_AT and TOP_HOLDERS_AT at a block at or above every mirrored vote change of the token: each
 *   delegate's newest row is the one delegate_power holds (delegate-power.ts). Not when a vote change did not fit.
 * - VALIDATED_CONTRIBUTION, VALIDATIONS and their per-model twins at a block at or above every mirrored validation of
 *   the registry: the join of validations to contributions is the one validated_contribution holds
 *   (validated-contributions.ts). Not when an amount did not fit.
 * - PROPOSAL_WEIGHTS_BY_PROPOSAL at any block, when no (proposal, voter) pair of the governor has two votes
 *   (one-vote-each.ts): the votes themselves, without summing them per voter.
 */
// No filter on the zero address: balance_state never holds it (balances.ts leaves it out of every delta; tested), and
// comparing a million account strings cost ~10 ms per scan, four scans per concentration query.
export const BALANCES_FROM_STATE = `SELECT account AS entity, balance AS w FROM balance_state WHERE token = $token AND balance > 0`
export const VOTING_POWER_FROM_STATE = `SELECT delegate AS entity, new_votes AS w FROM delegate_power WHERE token = $token AND new_votes > 0`
/** TOP_HOLDERS_AT's ranking over VOTING_POWER_FROM_STATE. */
const TOP_HOLDERS_FROM_STATE = `SELECT entity FROM (${VOTING_POWER_FROM_STATE}) ORDER BY w DESC, entity LIMIT CAST($limit AS BIGINT)`

/** Materializes `sql` with `params` as TEMP TABLE `relation`, by the fastest route that gives exactly its rows. */
export async function materializeInput(conn: DuckDBConnection, relation: string, sql: string, params: InputParams): Promise<number> {
  return (await materializeRouted(conn, relation, sql, params, sql === BALANCES_AT && (await balancesAreCurrentAt(conn, params.block)))).rows
}

/**
 * materializeInput for a grouped input (rows carry the group_keys number g), and its per-group digest rows (g, n,
 * digest) when the mirror keeps them for the rows just materialized: the validations per model, from their head
 * digests (head-digests.ts). Undefined otherwise (the caller hashes the rows).
 */
export async function materializeGroupedInputWithKeptDigests(
  conn: DuckDBConnection,
  relation: string,
  sql: string,
  params: InputParams,
): Promise<Row[] | undefined> {
  const {route} = await materializeRouted(conn, relation, sql, params, false)
  if (route !== 'pairs' || sql !== VALIDATIONS_BY_MODEL) return undefined
  return validationsDigestsByModel(conn, String(params.registry))
}

/** Per group of group_keys (id = model id), the kept count and digest of VALIDATIONS' rows of that model (head_digest). */
async function validationsDigestsByModel(conn: DuckDBConnection, registry: string): Promise<Row[] | undefined> {
  const held = headDigestsByGroupIn(conn, 'validations', (id) => validationsScope(registry, id))
  if (held) return held
  if (!(await hasDerivedTable(conn, 'head_digest'))) return undefined
  return queryRows(conn, headDigestsByGroupSql('validations', validationsModelScopeSql('$registry', 'k.id')), {registry})
}

/**
 * Without materializing the rows: VALIDATIONS' kept count and digest at `params` (single), or VALIDATIONS_BY_MODEL's
 * per group of group_keys (grouped), when validated_contribution stands for its rows (as materializeInput decides);
 * undefined otherwise. For metrics answered from counts the sync keeps over the same pairs (validator-tallies.ts).
 */
export async function keptValidationsDigest(conn: DuckDBConnection, params: InputParams): Promise<KeptDigest | undefined> {
  return (await pairsStandFor(conn, params)) ? keptDigestOf(conn, VALIDATIONS, params, 'pairs') : undefined
}
export async function keptValidationsDigestsByModel(conn: DuckDBConnection, params: InputParams): Promise<Row[] | undefined> {
  return (await pairsStandFor(conn, params)) ? validationsDigestsByModel(conn, String(params.registry)) : undefined
}

async function pairsStandFor(conn: DuckDBConnection, {registry, block}: InputParams): Promise<boolean> {
  return typeof registry === 'string' && (await hasDerivedTable(conn, 'validated_contribution')) && (await pairsAreCurrentAt(conn, registry, block))
}

/**
 * materializeInput, and the input's kept count and digest when it has one (keptInputDigest), deciding whether
 * balance_state stands for BALANCES_AT once for both: what a measurement's inputs need.
 */
export async function materializeInputWithKeptDigest(
  conn: DuckDBConnection,
  relation: string,
  sql: string,
  params: InputParams,
): Promise<{rows: number; kept: KeptDigest | undefined}> {
  const balancesCurrent = sql === BALANCES_AT && (await balancesAreCurrentAt(conn, params.block))
  const {rows, route} = await materializeRouted(conn, relation, sql, params, balancesCurrent)
  return {rows, kept: await keptDigestOf(conn, sql, params, route)}
}

/**
 * Which route filled a relation: kept state (balance_state, validated_contribution, delegate_power), the votes without
 * their per-voter sums (one-vote), or the query.
 */
type Route = 'balances' | 'pairs' | 'power' | 'one-vote' | 'query'

/**
 * BALANCES_AT at `params` as a SELECT over balance_state to read in place, with its kept count and digest, when
 * balance_state stands for it (as materializeInput decides) and the digest is kept; undefined otherwise. For a
 * measurement whose query reads the balances once: materializing a million balances into a temp table first cost
 * ~55 ms of every refresh. Parameters of `select`: $token.
 */
export async function balancesInPlaceAt(
  conn: DuckDBConnection,
  sql: string,
  params: InputParams,
): Promise<{select: string; params: {token: string}; kept: KeptDigest} | undefined> {
  if (sql !== BALANCES_AT || typeof params.token !== 'string' || !(await balancesAreCurrentAt(conn, params.block))) return undefined
  const kept = await keptDigestOf(conn, sql, params, 'balances')
  return kept === undefined ? undefined : {select: BALANCES_FROM_STATE, params: {token: params.token}, kept}
}

/**
 * VOTING_POWER_AT at `params` read in place from delegate_power, with its kept count and digest, when delegate_power
 * stands for it (as materializeInput decides) and the digest is kept; undefined otherwise. As balancesInPlaceAt, for
 * the token's voting-power concentration at the head (head-power.ts). Parameters of `select`: $token.
 */
export async function powerInPlaceAt(
  conn: DuckDBConnection,
  sql: string,
  params: InputParams,
): Promise<{select: string; params: {token: string}; kept: KeptDigest} | undefined> {
  if (sql !== VOTING_POWER_AT || typeof params.token !== 'string' || !(await powerIsCurrentAt(conn, params.token, params.block))) return undefined
  const kept = await keptDigestOf(conn, sql, params, 'power')
  return kept === undefined ? undefined : {select: VOTING_POWER_FROM_STATE, params: {token: params.token}, kept}
}

/** The contribution inputs and their routes over validated_contribution. */
const PAIR_ROUTES = new Map([
  [VALIDATED_CONTRIBUTION, VALIDATED_CONTRIBUTION_FROM_PAIRS],
  [VALIDATIONS, VALIDATIONS_FROM_PAIRS],
  [VALIDATED_CONTRIBUTION_BY_MODEL, VALIDATED_CONTRIBUTION_BY_MODEL_FROM_PAIRS],
  [VALIDATIONS_BY_MODEL, VALIDATIONS_BY_MODEL_FROM_PAIRS],
])

async function materializeRouted(
  conn: DuckDBConnection,
  relation: string,
  sql: string,
  params: InputParams,
  balancesCurrent: boolean,
): Promise<{rows: number; route: Route}> {
  const {token, limit, block, registry, ...rest} = params
  if (balancesCurrent) return {rows: await materialize(conn, relation, BALANCES_FROM_STATE, {token: token ?? null}), route: 'balances'}
  const pairs = PAIR_ROUTES.get(sql)
  if (pairs && (await pairsStandFor(conn, params))) {
    return {rows: await materialize(conn, relation, pairs, {registry: registry ?? null, ...rest}), route: 'pairs'}
  }
  if ((sql === VOTING_POWER_AT || sql === TOP_HOLDERS_AT) && (await powerIsCurrentAt(conn, token, block))) {
    const rows =
      sql === VOTING_POWER_AT
        ? await materialize(conn, relation, VOTING_POWER_FROM_STATE, {token: token ?? null})
        : await materialize(conn, relation, TOP_HOLDERS_FROM_STATE, {token: token ?? null, limit: limit ?? null})
    return {rows, route: 'power'}
  }
  if (sql === PROPOSAL_WEIGHTS_BY_PROPOSAL && typeof params.governor === 'string' && (await oneVoteEach(conn, params.governor))) {
    return {rows: await materialize(conn, relation, PROPOSAL_WEIGHTS_BY_PROPOSAL_ONE_VOTE_EACH, params), route: 'one-vote'}
  }
  return {rows: await materialize(conn, relation, sql, params), route: 'query'}
}

async function balancesAreCurrentAt(conn: DuckDBConnection, block: string | number | bigint | null | undefined): Promise<boolean> {
  if (block === null || block === undefined) return false
  return followsEveryRowAt(conn, 'token_transfer', 'true', {}, TRANSFERS_LEFT_OUT_OF_BALANCES, block)
}

/** Whether delegate_power stands for VOTING_POWER_AT of `token` at `block` (see the module comment). */
async function powerIsCurrentAt(conn: DuckDBConnection, token: InputParams[string] | undefined, block: InputParams[string] | undefined): Promise<boolean> {
  if (block === null || block === undefined || typeof token !== 'string') return false
  if (!(await hasDerivedTable(conn, 'delegate_power'))) return false
  return followsEveryRowAt(conn, 'votes_change', 'token = $token', {token}, VOTE_CHANGES_LEFT_OUT_OF_POWER, block)
}

/**
 * Whether state kept from `table`'s rows (those `where` selects) stands for them at `block`: no such row lies above the
 * block, and none of the table's amounts was left out for not fitting (`leftOut`, a count of its oversized_amount
 * rows). Inside a suite both come from its snapshot when they can (mirror-snapshot.ts), without a statement.
 */
async function followsEveryRowAt(
  conn: DuckDBConnection,
  table: 'token_transfer' | 'votes_change',
  where: string,
  whereParams: Record<string, string>,
  leftOut: string,
  block: string | number | bigint,
): Promise<boolean> {
  const above = await rowsAboveAt(conn, table, where, whereParams, block)
  const oversized = oversizedIn(conn, table)
  if (above.sql === 'false' && oversized !== undefined) return oversized === 0
  const r = await conn.runAndReadAll(`SELECT ${above.sql} AS above, ${leftOut} AS oversized`, above.params)
  const row = r.getRowObjectsJson()[0]
  return Number(row?.oversized) === 0 && row?.above === false
}

/**
 * The input's row count and digest as the sync keeps them (head-digests.ts), when the input at these parameters has
 * exactly the rows they were kept over; undefined otherwise (the caller hashes the rows with INPUT_DIGEST_SQL):
 * - BALANCES_AT where balance_state stands for it (as materializeInput decides);
 * - VOTES_ALL at a block at or above the governor's last mirrored vote, or with no block bound;
 * - VOTING_POWER_AT where delegate_power stands for it (materializeInputWithKeptDigest only, which knows the route).
 * A mirror last synced before head_digest existed has no such table yet: its digests are computed.
 * (materializeInputWithKeptDigest also gives VALIDATIONS' digest when validated_contribution filled it, from its
 * head digest.)
 */
export async function keptInputDigest(conn: DuckDBConnection, sql: string, params: InputParams): Promise<KeptDigest | undefined> {
  return keptDigestOf(conn, sql, params, sql === BALANCES_AT && (await balancesAreCurrentAt(conn, params.block)) ? 'balances' : 'query')
}

export interface KeptDigest {
  n: number
  digest: string
}


async function keptDigestOf(conn: DuckDBConnection, sql: string, params: InputParams, route: Route): Promise<KeptDigest | undefined> {
  let input: string
  let scope: unknown
  if (route === 'pairs' && sql === VALIDATIONS) {
    ;[input, scope] = ['validations', validationsScope(String(params.registry), params.model == null ? null : String(params.model))]
  } else if (route === 'balances') {
    ;[input, scope] = ['balances', params.token]
  } else if (sql === VOTES_ALL && (await votesAreAllAt(conn, String(params.governor), params.block))) {
    ;[input, scope] = ['votes_all', params.governor]
  } else if (route === 'power' && sql === VOTING_POWER_AT) {
    ;[input, scope] = ['voting_power', params.token]
  } else {
    return undefined
  }
  // From the suite's snapshot of head_digest when it holds one: the same answer without a statement.
  const headDigests = mirrorSnapshotOf(conn)?.headDigests
  if (headDigests) return headDigestIn(headDigests, input, String(scope))
  if (!(await hasDerivedTable(conn, 'head_digest'))) return undefined
  const row = (await conn.runAndReadAll(HEAD_DIGEST_SQL(DIGEST_OF_SUMS), {input, scope: String(scope)})).getRowObjectsJson()[0]
  return {n: Number(row?.n), digest: String(row?.digest)}
}

/** Whether VOTES_ALL of `governor` at `block` has every mirrored vote of it: no vote lies above the block. */
export async function votesAreAllAt(conn: DuckDBConnection, governor: string, block: string | number | bigint | null | undefined): Promise<boolean> {
  if (block === null || block === undefined) return true
  const above = await rowsAboveAt(conn, 'vote_cast', 'governor = $governor', {governor}, block)
  if (above.sql === 'false') return true
  const r = await conn.runAndReadAll(`SELECT ${above.sql} AS above`, above.params)
  return r.getRowObjectsJson()[0]?.above === false
}
