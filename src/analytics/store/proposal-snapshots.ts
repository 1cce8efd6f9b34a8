import type {DuckDBConnection} from '@duckdb/node-api'
import {queryOne, queryRows, type Row} from '../metrics/sql-values'
import {KEPT_SUMS_IN_RANGE} from './balance-totals'
import {TRANSFERS_LEFT_OUT_OF_BALANCES} from './balances'
import {VOTE_CHANGES_LEFT_OUT_OF_POWER} from './delegate-power'
import {PROPOSAL_SNAPSHOT_AT, PROPOSAL_SNAPSHOT_AT_FROM_STATE, PROPOSAL_SNAPSHOTS} from './inputs'
import {keptStateLeavesOutIn} from './mirror-snapshot'
import {hasDerivedTable} from './routes'

/**
 * The snapshot figures of a governor's proposals (quorum and total voting power at vote_start, see
 * PROPOSAL_SNAPSHOTS), kept in the mirror once they are final, so that a refresh at the head does not recompute them
 * for every proposal ever made. PROPOSAL_SNAPSHOTS scans every mint, burn and DelegateVotesChanged up to the latest
 * snapshot: 1.9–2.3 s of each refresh at the benchmark's size (500,000 vote changes), for figures that never change.
 *
 * What is final: a proposal whose vote_start is at or below the mirror's finalized height. Its figures read only
 * mirror rows at or below vote_start (the proposal row itself, mints and burns, quorum numerator updates, vote
 * changes), and rows at or below the finalized height are never deleted by a sync. So the cache holds, per
 * (governor, token), every proposal with vote_start <= `through`, and `through` is a finalized height the mirror
 * has passed. The sync's rollback (deleteAbove) drops cached rows above its cut and lowers `through` to it: that
 * covers an index re-indexed from below its old finalized height. A rebuild drops the tables.
 *
 * A proposal whose snapshot is still ahead of the block asked for needs no figures (turnout and pivotality are
 * measured only after the snapshot), so it is listed with NULL figures and never costs the scan.
 */
export const PROPOSAL_SNAPSHOT_DDL = [
  `CREATE TABLE IF NOT EXISTS proposal_snapshot (governor VARCHAR NOT NULL, token VARCHAR NOT NULL, id VARCHAR NOT NULL,
    created_block BIGINT NOT NULL, proposal_id VARCHAR NOT NULL, vote_start BIGINT NOT NULL, vote_end BIGINT, quorum VARCHAR,
    power VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS proposal_snapshot_state (governor VARCHAR NOT NULL, token VARCHAR NOT NULL, through BIGINT NOT NULL)`,
]

export const PROPOSAL_SNAPSHOT_TABLES = ['proposal_snapshot', 'proposal_snapshot_state'] as const

const withTables = new WeakSet<DuckDBConnection>()

/**
 * Up to this many missing figures are computed one proposal at a time (PROPOSAL_SNAPSHOT_AT_FROM_STATE, or
 * PROPOSAL_SNAPSHOT_AT while the kept state leaves out an oversized amount), above it in one PROPOSAL_SNAPSHOTS pass
 * (one sort for all). A refresh at the head usually misses one: the proposal whose snapshot it has just passed. On the benchmark's
 * mirror (500,000 vote changes, 7.9 M transfers) one point query took a median of 190 ms, one pass 684 ms.
 */
export const POINT_QUERIES_UP_TO = 3

export interface ProposalSnapshot {
  proposalId: string
  voteStart: number
  voteEnd: number | null
  /** Quorum at the snapshot (decimal); NULL while unknown, and for a snapshot at or after the block asked for. */
  quorum: string | null
  /** Total voting power at the snapshot (decimal); NULL for a snapshot at or after the block asked for. */
  power: string | null
}

/** The governor's proposals created at or below `block`, in event order, with the figures of those whose snapshot is before it. */
export async function proposalSnapshotsAt(conn: DuckDBConnection, governor: string, token: string, block: number): Promise<ProposalSnapshot[]> {
  const key = {governor, token}
  // A mirror made before the cache existed gets its tables at its next sync (ensureSchema); a job run on it first
  // (the reproduce command) creates them here.
  if (!withTables.has(conn)) {
    for (const ddl of PROPOSAL_SNAPSHOT_DDL) await conn.run(ddl)
    withTables.add(conn)
  }
  const state = await queryOne(
    conn,
    `SELECT (SELECT max(through) FROM proposal_snapshot_state WHERE governor = $governor AND token = $token) AS through,
            (SELECT max(finalized_height) FROM sync_state) AS finalized`,
    key,
  )
  const through = state.through == null ? -1 : Number(state.through)
  const finalized = state.finalized == null ? -1 : Number(state.finalized)
  // Every proposal at `block` (a cheap read of ~one row per proposal); exact() of PROPOSAL_SNAPSHOTS is repeated here
  // so an oversized vote_start fails loudly rather than reading as NULL.
  const listed = await queryRows(
    conn,
    `SELECT p.id, p.block_number, p.proposal_id,
       coalesce(p.vote_start, error('uint256 beyond HUGEINT (|x| >= 2^127) in event ' || p.id || ': p.vote_start is in oversized_amount')) AS vote_start,
       p.vote_end
     FROM proposal p WHERE p.governor = $governor AND p.block_number <= $block ORDER BY p.id`,
    {governor, block},
  )
  const cached = new Map(
    (
      await queryRows(conn, `SELECT id, quorum, power FROM proposal_snapshot WHERE governor = $governor AND token = $token`, key)
    ).map((r) => [String(r.id), figuresOf(r)]),
  )
  const isCached = (p: Row) => Number(p.vote_start) <= through
  // Figures are needed for snapshots before `block`; a refresh at or above the finalized height also stores those at
  // or below it (it lists every proposal with such a snapshot, since they were created before it).
  const extend = block >= finalized && finalized > through
  const wanted = listed.filter((p) => !isCached(p) && (Number(p.vote_start) < block || (extend && Number(p.vote_start) <= finalized)))
  const fresh = new Map<string, Figures>()
  if (wanted.length > POINT_QUERIES_UP_TO) {
    for (const r of await queryRows(conn, PROPOSAL_SNAPSHOTS, {governor, token, block, after: through})) fresh.set(String(r.id), figuresOf(r))
  } else if (wanted.length > 0) {
    const sql = (await stateLeavesOutAmounts(conn)) ? PROPOSAL_SNAPSHOT_AT : PROPOSAL_SNAPSHOT_AT_FROM_STATE
    for (const p of wanted) fresh.set(String(p.id), figuresOf(await queryOne(conn, sql, {governor, token, proposal: String(p.id)})))
  }
  if (extend) await extendCache(conn, governor, token, through, finalized, listed.filter((p) => !isCached(p) && Number(p.vote_start) <= finalized), fresh)
  return listed.map((p) => {
    const voteStart = Number(p.vote_start)
    const figures = voteStart < block ? (cached.get(String(p.id)) ?? fresh.get(String(p.id))) : undefined
    if (voteStart < block && !figures) throw new Error(`proposal snapshots: no figures for proposal ${String(p.proposal_id)} of ${governor}`)
    return {
      proposalId: String(p.proposal_id),
      voteStart,
      voteEnd: p.vote_end == null ? null : Number(p.vote_end),
      quorum: figures?.quorum ?? null,
      power: figures?.power ?? null,
    }
  })
}

/**
 * Whether balance_state leaves out a mirrored transfer or delegate_power a vote change (of any token): the rules
 * routes.ts applies to BALANCES_AT and VOTING_POWER_AT; or a kept sum of balance_state is beyond the range
 * PROPOSAL_SNAPSHOT_AT_FROM_STATE reads it in (balance-totals.ts). A mirror last synced before delegate_power or
 * balance_total existed has neither.
 */
async function stateLeavesOutAmounts(conn: DuckDBConnection): Promise<boolean> {
  if (!(await hasDerivedTable(conn, 'delegate_power')) || !(await hasDerivedTable(conn, 'balance_total'))) return true
  // Inside a suite, from its snapshot instead of a statement.
  const held = keptStateLeavesOutIn(conn)
  if (held !== undefined) return held
  const row = await queryOne(
    conn,
    `SELECT ${TRANSFERS_LEFT_OUT_OF_BALANCES} > 0 OR ${VOTE_CHANGES_LEFT_OUT_OF_POWER} > 0 OR NOT (${KEPT_SUMS_IN_RANGE}) AS left_out`,
  )
  return row.left_out === true
}

interface Figures {
  quorum: string | null
  power: string
}

const figuresOf = (r: Row): Figures => ({quorum: r.quorum == null ? null : String(r.quorum), power: String(r.power)})

/** Stores the figures of the snapshots in (through, finalized] and moves `through` to `finalized`, in one transaction. */
async function extendCache(
  conn: DuckDBConnection,
  governor: string,
  token: string,
  through: number,
  finalized: number,
  rows: readonly Row[],
  fresh: ReadonlyMap<string, Figures>,
): Promise<void> {
  await conn.run('BEGIN TRANSACTION')
  try {
    const appender = await conn.createAppender('proposal_snapshot')
    for (const p of rows) {
      const f = fresh.get(String(p.id))
      if (!f) throw new Error(`proposal snapshot cache: no figures for proposal ${String(p.proposal_id)} of ${governor}`)
      appender.appendVarchar(governor)
      appender.appendVarchar(token)
      appender.appendVarchar(String(p.id))
      appender.appendBigInt(BigInt(String(p.block_number)))
      appender.appendVarchar(String(p.proposal_id))
      appender.appendBigInt(BigInt(String(p.vote_start)))
      if (p.vote_end == null) appender.appendNull()
      else appender.appendBigInt(BigInt(String(p.vote_end)))
      if (f.quorum === null) appender.appendNull()
      else appender.appendVarchar(f.quorum)
      appender.appendVarchar(f.power)
      appender.endRow()
    }
    appender.closeSync()
    const changed = await conn.run(`UPDATE proposal_snapshot_state SET through = $finalized WHERE governor = $governor AND token = $token AND through = $through`, {
      governor,
      token,
      through,
      finalized,
    })
    if (Number(changed.rowsChanged) === 0) {
      if (through !== -1) throw new Error(`proposal snapshot cache of ${governor} moved while being extended`)
      await conn.run(`INSERT INTO proposal_snapshot_state VALUES ($governor, $token, $finalized)`, {governor, token, finalized})
    }
    await conn.run('COMMIT')
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined)
    throw e
  }
}

/** Part of a sync's rollback: cached figures of snapshots above `cut` go, and no cache claims to cover past it. */
export async function dropProposalSnapshotsAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await conn.run(`DELETE FROM proposal_snapshot WHERE vote_start > $cut`, {cut})
  await conn.run(`UPDATE proposal_snapshot_state SET through = $cut WHERE through > $cut`, {cut})
}
