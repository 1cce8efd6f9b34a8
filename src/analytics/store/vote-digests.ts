import type {DuckDBConnection} from '@duckdb/node-api'
import {holds} from '../duckdb'
import {queryRows, type Row} from '../metrics/sql-values'
import {DIGEST_OF_SUMS, MD5_LOWER, MD5_UPPER} from './input-digest'
import {type InputParams, PROPOSAL_VOTES_BY_PROPOSAL, PROPOSAL_WEIGHTS_BY_PROPOSAL} from './inputs'
import {addMissingInput, addRowHashes, headDigestsByGroupSql, inputSumsMissing} from './head-digests'
import {headDigestsByGroupIn} from './mirror-snapshot'
import {hasDerivedTable, votesAreAllAt} from './routes'

/**
 * The md5 numbers of every vote as the per-proposal inputs render it, kept by the sync, so that the per-proposal input
 * digests of a suite add kept numbers instead of rendering and hashing a million rows twice (~0.25 s each at the
 * benchmark's size).
 *
 * vote_row_digest(id, block_number, governor, proposal_id, positive, m_votes, m_weights) has a row per vote_cast row
 * whose weight fits: m_votes is the md5 number of the vote as a row of PROPOSAL_VOTES renders (voter, support,
 * weight), m_weights as a row of PROPOSAL_WEIGHTS renders when the voter has only this vote (entity = voter,
 * w = weight), positive whether the weight is > 0. The sync adds the votes above its cut after extracting them and
 * deletes them before a rollback (a derived table of mirrorDigest: the sync tests compare it with a rebuild).
 *
 * keptGroupedDigests gives, from it, exactly what the grouped digest of batch.ts computes over the materialized rows:
 *  - group_votes (PROPOSAL_VOTES_BY_PROPOSAL): one input row per vote row in the bound; a vote whose weight did not
 *    fit would have failed the materialization, so every row in the bound is here.
 *  - group_dist (PROPOSAL_WEIGHTS_BY_PROPOSAL): one input row per voter with a positive total. When a proposal has as
 *    many such rows as it has positive votes, each of those voters has exactly one positive vote (weights are never
 *    negative) and any other vote of theirs weighs 0, so its row is (voter, that weight): the sum of m_weights over
 *    the positive votes. Otherwise (a voter with two positive votes) the digests are computed from the rows.
 */
export const VOTE_ROW_DIGEST_DDL = `CREATE TABLE IF NOT EXISTS vote_row_digest (id VARCHAR NOT NULL, block_number BIGINT NOT NULL,
  governor VARCHAR NOT NULL, proposal_id VARCHAR NOT NULL, positive BOOLEAN NOT NULL, m_votes UHUGEINT NOT NULL, m_weights UHUGEINT NOT NULL)`

/** After new rows are extracted: the votes above `cut`. */
export async function addVoteRowDigestsAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await insertVoteRowDigestsAbove(conn, cut)
  await addProposalSums(conn, 'd.block_number > $cut', {cut}, 1)
}

async function insertVoteRowDigestsAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await conn.run(
    `INSERT INTO vote_row_digest
     SELECT c.id, c.block_number, c.governor, c.proposal_id, c.weight > 0,
       md5_number(CAST(struct_pack(voter := c.voter, support := c.support, weight := c.weight) AS VARCHAR)),
       md5_number(CAST(struct_pack(entity := c.voter, w := c.weight) AS VARCHAR))
     FROM vote_cast c WHERE c.block_number > $cut AND c.weight IS NOT NULL`,
    {cut},
  )
}

/** Before a rollback deletes the rows above `cut`. */
export async function dropVoteRowDigestsAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await addProposalSums(conn, 'd.block_number > $cut', {cut}, -1)
  await conn.run(`DELETE FROM vote_row_digest WHERE block_number > $cut`, {cut})
}

/** Fills the table when it is empty while the mirror holds votes (a rebuild, or a mirror made before it existed). */
export async function initVoteRowDigests(conn: DuckDBConnection): Promise<void> {
  // The per-proposal sums came after the numbers (a mirror kept before them gets them here once).
  await addMissingInput(conn, PROPOSAL_SUMS_MISSING, () => addProposalSums(conn, 'true', {}, 1))
  if (await holds(conn, NO_VOTE_ROW_DIGESTS)) await addVoteRowDigestsAbove(conn, -1)
}

const PROPOSAL_SUMS_MISSING = inputSumsMissing('proposal_votes', 'SELECT 1 FROM vote_row_digest')
const NO_VOTE_ROW_DIGESTS = `NOT EXISTS (SELECT 1 FROM vote_row_digest) AND EXISTS (SELECT 1 FROM vote_cast)`

/** The conditions under which initVoteRowDigests fills something (derived-state.ts asks them all at once). */
export const VOTE_ROW_DIGEST_INIT_CHECKS: readonly string[] = [PROPOSAL_SUMS_MISSING, NO_VOTE_ROW_DIGESTS]

/** head_digest's scope of a proposal's kept numbers, in SQL over the governor's and the proposal id's expressions. */
const proposalScopeSql = (governor: string, proposal: string) => `${governor} || '/' || ${proposal}`
/** proposalScopeSql's value for a governor and a proposal id. */
const proposalScope = (governor: string, proposal: string) => `${governor}/${proposal}`

/**
 * ± the vote_row_digest rows (alias d) matching `where` in the per-proposal sums (head-digests.ts, inputs
 * 'proposal_votes' and 'proposal_weights'): 1 after they are inserted, -1 before they are deleted.
 */
async function addProposalSums(conn: DuckDBConnection, where: string, params: Record<string, number>, sign: 1 | -1): Promise<void> {
  const scope = proposalScopeSql('d.governor', 'd.proposal_id')
  await addRowHashes(conn, 'proposal_votes', `SELECT ${scope} AS scope, d.m_votes AS m, CAST($sign AS INTEGER) AS s FROM vote_row_digest d WHERE ${where}`, {...params, sign})
  await addRowHashes(
    conn,
    'proposal_weights',
    `SELECT ${scope} AS scope, d.m_weights AS m, CAST($sign AS INTEGER) AS s FROM vote_row_digest d WHERE d.positive AND (${where})`,
    {...params, sign},
  )
}

/** Per group_keys row: (g, n, digest) of the kept numbers `column` of the votes in the bound, positive ones only or all. */
const keptSql = (column: 'm_votes' | 'm_weights', positiveOnly: boolean) => `
SELECT k.g, count(x.m) AS n, ${DIGEST_OF_SUMS(`sum(${MD5_UPPER('x.m')})`, `sum(${MD5_LOWER('x.m')})`)} AS digest
FROM group_keys k LEFT JOIN (
  SELECT k2.g, d.${column} AS m FROM vote_row_digest d JOIN group_keys k2 ON k2.id = d.proposal_id
  WHERE d.governor = $governor AND (CAST($block AS BIGINT) IS NULL OR d.block_number <= CAST($block AS BIGINT))${positiveOnly ? ' AND d.positive' : ''}
) x ON x.g = k.g
GROUP BY k.g`

/**
 * The grouped digest rows (g, n, digest) of the relation `relation` just materialized from `groupedSql` with
 * `params`, from the kept numbers; undefined when they cannot stand for it (another input, a mirror without the
 * table, or a voter with two positive votes on a measured proposal).
 */
export async function keptGroupedDigests(conn: DuckDBConnection, groupedSql: string, relation: string, params: InputParams): Promise<Row[] | undefined> {
  if (groupedSql !== PROPOSAL_VOTES_BY_PROPOSAL && groupedSql !== PROPOSAL_WEIGHTS_BY_PROPOSAL) return undefined
  if (!(await hasDerivedTable(conn, 'vote_row_digest'))) return undefined
  // Bound as text (a block number beyond 2^53 stays exact; the SQL casts it).
  const text = (v: InputParams[string] | undefined) => (v === null || v === undefined ? null : String(v))
  const bound = {governor: text(params.governor), block: text(params.block)}
  // At the head (no vote of the governor above the bound), the per-proposal sums the sync keeps; below it, the numbers.
  const atHead = (await hasDerivedTable(conn, 'head_digest')) && (await votesAreAllAt(conn, String(bound.governor), bound.block))
  const digests = (input: 'proposal_votes' | 'proposal_weights', column: 'm_votes' | 'm_weights', positiveOnly: boolean) =>
    atHead
      ? (headDigestsByGroupIn(conn, input, (id) => proposalScope(String(bound.governor), id)) ??
        queryRows(conn, headDigestsByGroupSql(input, proposalScopeSql('$governor', 'k.id')), {governor: bound.governor}))
      : queryRows(conn, keptSql(column, positiveOnly), bound)
  if (groupedSql === PROPOSAL_VOTES_BY_PROPOSAL) return digests('proposal_votes', 'm_votes', false)
  const kept = await digests('proposal_weights', 'm_weights', true)
  const rows = new Map((await queryRows(conn, `SELECT g, count(*) AS n FROM ${relation} GROUP BY g`)).map((r) => [String(r.g), Number(r.n)]))
  return kept.every((k) => (rows.get(String(k.g)) ?? 0) === Number(k.n)) ? kept : undefined
}

