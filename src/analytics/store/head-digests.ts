import type {DuckDBConnection} from '@duckdb/node-api'
import {holds} from '../duckdb'
import {DIGEST_OF_SUMS, MD5_LOWER, MD5_UPPER} from './input-digest'

/**
 * Input digests of the two largest inputs, kept current by the sync so that a refresh at the head reads them instead
 * of hashing every row again (1.3–2.8 s each at the benchmark's size: a million balances, a million votes).
 *
 * The digest (jobs/measurement.ts, INPUT_DIGEST_SQL) is a sum of per-row md5 numbers, so it follows the rows the
 * way balance_state follows transfers: the sync subtracts the rows that go and adds the rows that come, inside its
 * transaction. head_digest(input, scope, n, upper_sum, lower_sum) holds, per input and scope, the row count and the
 * exact sums of the halves of the row hashes, over the rows the input has at the mirror's head:
 *
 *  - input 'balances', scope = token: the rows of BALANCES_AT at the head, i.e. of balance_state (entity, w) with
 *    w > 0. applyStagedTransfers (balances.ts) takes out the touched accounts' old rows and adds their new ones
 *    (addBalanceChanges).
 *  - input 'votes_all', scope = governor: the rows of VOTES_ALL with no block bound (proposal, voter), one per
 *    vote_cast row. The sync subtracts vote_cast rows above its cut before deleting them and adds the new ones.
 *  - input 'validations', scope = registry, and registry/model (validationsScope): the rows of VALIDATIONS at the head
 *    (validator, contributor), one per validated_contribution pair, from the pairs' kept md5 numbers. The pairs'
 *    upkeep (validated-contributions.ts) subtracts the pairs it deletes and adds those it inserts. Summing the
 *    numbers of 200,000 pairs took ~25 ms a refresh (protocol-wide and per model).
 *  - inputs 'proposal_votes' and 'proposal_weights', scope = governor/proposal id (proposalScopeSql): per proposal, the
 *    kept per-vote numbers of vote_row_digest (vote-digests.ts), all of them and those of positive votes, which give
 *    the per-proposal inputs' digests at the head. Summing them over a million kept numbers cost ~20 ms each a refresh.
 *  - input 'voting_power', scope = token: the rows of VOTING_POWER_AT at the head, i.e. of delegate_power (entity,
 *    w) with w > 0. refreshStagedPower (delegate-power.ts) takes out the touched delegates' rows before it
 *    replaces them and adds the new ones (addDelegatePowerRows). Hashing its 50,000 rows cost ~30 ms a refresh.
 *
 * A row is rendered exactly as a row of the materialized input renders (same column names, order and types), so the
 * kept digest equals INPUT_DIGEST_SQL over the input; head-digests.test.ts checks it, and the sync tests compare a
 * mirror kept this way with a rebuild (the table is a derived table of mirrorDigest). A rebuild, or a mirror synced
 * before this table existed, computes the sums from scratch once (initHeadDigests).
 */
export const HEAD_DIGEST_DDL = `CREATE TABLE IF NOT EXISTS head_digest (input VARCHAR NOT NULL, scope VARCHAR NOT NULL, n BIGINT NOT NULL,
  upper_sum HUGEINT NOT NULL, lower_sum HUGEINT NOT NULL)`

/** Row renderings: the struct of each input's columns, as CAST(t AS VARCHAR) of its materialized relation renders it. */
const BALANCE_ROW = `CAST(struct_pack(entity := b.account, w := b.balance) AS VARCHAR)`
const VOTE_ROW = `CAST(struct_pack(proposal := c.proposal_id, voter := c.voter) AS VARCHAR)`
const POWER_ROW = `CAST(struct_pack(entity := p.delegate, w := p.new_votes) AS VARCHAR)`

/**
 * Adds to head_digest, per scope, the signed count and hash sums of the rows of `source`: columns scope, r (the row
 * rendering) and s (+1 for a row that comes, -1 for a row that goes).
 */
function addRows(conn: DuckDBConnection, input: string, source: string, params: Record<string, number | string> = {}): Promise<void> {
  return addRowHashes(conn, input, `SELECT scope, md5_number(r) AS m, s FROM (${source})`, params)
}

/** addRows for rows whose md5 number is kept already: `source` has columns scope, m (the number) and s. */
export async function addRowHashes(conn: DuckDBConnection, input: string, source: string, params: Record<string, number | string> = {}): Promise<void> {
  // One MERGE: the delta is computed once, and the update, the insert and the delete of a scope whose rows all went
  // (it has no row, as in a mirror rebuilt from scratch: the sync tests compare the two) are one statement, not five
  // (~5 ms of statement overhead each, five inputs a sync).
  await conn.run(
    `MERGE INTO head_digest h
     USING (
       SELECT scope, sum(s) AS n, sum(${MD5_UPPER('m')}::HUGEINT * s) AS u, sum(${MD5_LOWER('m')}::HUGEINT * s) AS l
       FROM (${source}) GROUP BY scope
     ) d ON h.input = $input AND h.scope = d.scope
     WHEN MATCHED AND h.n + d.n = 0 THEN DELETE
     WHEN MATCHED THEN UPDATE SET n = h.n + d.n, upper_sum = h.upper_sum + d.u, lower_sum = h.lower_sum + d.l
     WHEN NOT MATCHED AND d.n <> 0 THEN INSERT VALUES ($input, d.scope, d.n, d.u, d.l)`,
    {...params, input},
  )
}

/**
 * The balance rows that balance_touch (balances.ts) changes: each touched account's old row goes (when its old
 * balance was > 0) and its new row comes (when the new balance is > 0).
 */
export function addBalanceChanges(conn: DuckDBConnection): Promise<void> {
  const row = (w: string) => `CAST(struct_pack(entity := t.account, w := t.${w}) AS VARCHAR)`
  return addRows(
    conn,
    'balances',
    `SELECT t.token AS scope, ${row('old')} AS r, -1 AS s FROM balance_touch t WHERE t.old > 0
     UNION ALL
     SELECT t.token, ${row('new')}, 1 FROM balance_touch t WHERE t.new > 0`,
  )
}

/**
 * ± the delegate_power rows of the delegates in power_touched (delegate-power.ts) with positive power: -1 before they
 * are replaced, 1 after.
 */
export function addDelegatePowerRows(conn: DuckDBConnection, sign: 1 | -1): Promise<void> {
  return addRows(
    conn,
    'voting_power',
    `SELECT p.token AS scope, ${POWER_ROW} AS r, CAST($sign AS INTEGER) AS s
     FROM delegate_power p SEMI JOIN power_touched t ON t.token = p.token AND t.delegate = p.delegate WHERE p.new_votes > 0`,
    {sign},
  )
}

/** The head_digest scope of VALIDATIONS' rows of a registry (protocol-wide: `model` null) or of one of its models. */
export const validationsScope = (registry: string, model: string | null): string => (model === null ? registry : `${registry}/${model}`)
/** validationsScope of a model, in SQL over the registry's and model's expressions. */
export const validationsModelScopeSql = (registry: string, model: string): string => `${registry} || '/' || ${model}`

/**
 * ± the validated_contribution pairs in `pairs` (validated_contribution itself, or a table of its columns holding some
 * of its pairs): each is a row of VALIDATIONS in its registry's scope and in its model's (validationsScope), hashed
 * already (m_validation, validated-contributions.ts).
 */
export function addValidationPairs(conn: DuckDBConnection, pairs: string, sign: 1 | -1): Promise<void> {
  return addRowHashes(
    conn,
    'validations',
    `SELECT p.registry AS scope, p.m_validation AS m, CAST($sign AS INTEGER) AS s FROM ${pairs} p
     UNION ALL
     SELECT ${validationsModelScopeSql('p.registry', 'p.model_id')}, p.m_validation, CAST($sign AS INTEGER) FROM ${pairs} p`,
    {sign},
  )
}

/** ± the vote_cast rows above `cut`: -1 before a rollback deletes them, 1 after new rows are extracted. */
export function addVotesAbove(conn: DuckDBConnection, cut: number, sign: 1 | -1): Promise<void> {
  return addRows(conn, 'votes_all', `SELECT c.governor AS scope, ${VOTE_ROW} AS r, CAST($sign AS INTEGER) AS s FROM vote_cast c WHERE c.block_number > $cut`, {cut, sign})
}

/**
 * Computes head_digest from scratch when it holds nothing while the mirror holds rows (a rebuild, or a mirror made
 * before the table existed). Inside the sync's transaction, before its rollback step, so the steps after keep it.
 */
export async function initHeadDigests(conn: DuckDBConnection): Promise<void> {
  if (await holds(conn, NO_SUMS)) {
    await addRows(conn, 'balances', `SELECT b.token AS scope, ${BALANCE_ROW} AS r, 1 AS s FROM balance_state b WHERE b.balance > 0`)
    await addVotesAbove(conn, -1, 1)
  }
  // The voting power's sums came later than the others (a delegate_power still to be filled, initDelegatePower, adds
  // its rows through refreshStagedPower).
  await addMissingInput(conn, VOTING_POWER_SUMS_MISSING, () =>
    addRows(conn, 'voting_power', `SELECT p.token AS scope, ${POWER_ROW} AS r, 1 AS s FROM delegate_power p WHERE p.new_votes > 0`),
  )
}

/** head_digest holds nothing while the mirror holds rows. */
const NO_SUMS = `NOT EXISTS (SELECT 1 FROM head_digest) AND EXISTS (SELECT 1 FROM audit_event)`

/**
 * For an input whose sums came after the rows they follow: head_digest has none for `input` while `rows` (a SELECT)
 * finds rows, i.e. a mirror kept before the sums existed.
 */
export const inputSumsMissing = (input: string, rows: string): string =>
  `NOT EXISTS (SELECT 1 FROM head_digest WHERE input = '${input}') AND EXISTS (${rows})`

const VOTING_POWER_SUMS_MISSING = inputSumsMissing('voting_power', 'SELECT 1 FROM delegate_power WHERE new_votes > 0')

/** The conditions under which initHeadDigests fills something (derived-state.ts asks them all at once). */
export const HEAD_DIGEST_INIT_CHECKS: readonly string[] = [NO_SUMS, VOTING_POWER_SUMS_MISSING]

/** `add` sums an input from scratch when `missing` (inputSumsMissing) holds. */
export async function addMissingInput(conn: DuckDBConnection, missing: string, add: () => Promise<void>): Promise<void> {
  if (await holds(conn, missing)) await add()
}

/** Count and digest of an input at the head as kept (NULL sums when the scope has no rows: the empty digest). */
/**
 * Per group_keys row (g, n, digest): the kept count and digest of `input` in the scope `scope` (SQL over the group's
 * id, k.id); a scope without rows has the empty digest.
 */
export const headDigestsByGroupSql = (input: string, scope: string): string => `
SELECT k.g, coalesce(h.n, 0) AS n, ${DIGEST_OF_SUMS('h.upper_sum', 'h.lower_sum')} AS digest
FROM group_keys k LEFT JOIN head_digest h ON h.input = '${input}' AND h.scope = ${scope} ORDER BY k.g`

export const HEAD_DIGEST_SQL = (digestOfSums: (u: string, l: string) => string) =>
  `SELECT coalesce(max(n), 0) AS n, ${digestOfSums('max(upper_sum)', 'max(lower_sum)')} AS digest FROM head_digest WHERE input = $input AND scope = $scope`
