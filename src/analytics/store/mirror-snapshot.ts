import type {DuckDBConnection} from '@duckdb/node-api'
import {queryRows, type Row} from '../metrics/sql-values'
import {HI_IN_RANGE} from './balance-totals'
import {hasDerivedTable} from './derived-tables'
import {heldGroupKeys} from './group-keys'
import {digestOfSums} from './input-digest'

/**
 * What a suite reads again and again from tables only a sync writes, read once when the suite starts: the sync's
 * record (sync_state: the newest mirrored block, rows-above.ts; the heights, kept-fairness.ts), the kept head digests
 * (head_digest, head-digests.ts), the count of amounts that did not fit (oversized_amount, routes.ts), the registries whose
 * validated pairs hold a value that did not fit (validated-contributions.ts) and whether a kept balance sum is out of
 * its readers' range (balance-totals.ts). Inside the suite its connections take them from here instead of a
 * statement each. Why it pays: while both connections are busy, a statement waits its turn for DuckDB's threads, so
 * even a one-row read cost ~5–10 ms of a refresh at the benchmark's size (eight reads of sync_state took 48 ms of the
 * side connection in one refresh, five head-digest lookups 27 ms).
 *
 * Valid while nothing commits to the mirror: computeSuite holds it for its own duration, and the follower syncs before
 * its suite, not during it (follow.ts). Outside a suite nothing is held and the readers query as before.
 */
export interface MirrorSnapshot {
  /** sync_state's row; undefined for a mirror never synced. */
  syncState: Row | undefined
  /** head_digest by headDigestKey; undefined for a mirror synced before the table existed. */
  headDigests: HeadDigests | undefined
  /** Rows of oversized_amount per table name (amounts that did not fit, which the kept state leaves out). */
  oversized: ReadonlyMap<string, number> | undefined
  /**
   * The registries with a validated pair whose value did not fit (validated_contribution.value NULL): where the pairs
   * cannot stand for the contribution inputs (validated-contributions.ts, pairsAreCurrentAt). Undefined for a mirror
   * without the table.
   */
  unfitPairRegistries: ReadonlySet<string> | undefined
  /** Kept balance sums beyond the range their readers take (balance-totals.ts, KEPT_SUMS_IN_RANGE); undefined without the table. */
  balanceSumsOutOfRange: number | undefined
}

/** head_digest's rows: the count and the two hash sums per input and scope. */
export type HeadDigests = ReadonlyMap<string, {n: number; upperSum: bigint; lowerSum: bigint}>

const held = new WeakMap<DuckDBConnection, MirrorSnapshot>()

/** The snapshot `conn` holds during a suite (withMirrorSnapshot), if any. */
export const mirrorSnapshotOf = (conn: DuckDBConnection): MirrorSnapshot | undefined => held.get(conn)

/** Reads the snapshot on `conn` and holds it on `conn` and `others` (the same mirror) while `fn` runs. */
export async function withMirrorSnapshot<T>(conn: DuckDBConnection, others: readonly DuckDBConnection[], fn: () => Promise<T>): Promise<T> {
  const snapshot = await readMirrorSnapshot(conn)
  const holders = [conn, ...others]
  for (const c of holders) held.set(c, snapshot)
  try {
    return await fn()
  } finally {
    for (const c of holders) if (held.get(c) === snapshot) held.delete(c)
  }
}

export async function readMirrorSnapshot(conn: DuckDBConnection): Promise<MirrorSnapshot> {
  const syncState = (await hasDerivedTable(conn, 'sync_state')) ? (await queryRows(conn, 'SELECT * FROM sync_state'))[0] : undefined
  let headDigests: Map<string, {n: number; upperSum: bigint; lowerSum: bigint}> | undefined
  if (await hasDerivedTable(conn, 'head_digest')) {
    headDigests = new Map()
    const rows = await queryRows(conn, 'SELECT input, scope, n, CAST(upper_sum AS VARCHAR) AS u, CAST(lower_sum AS VARCHAR) AS l FROM head_digest')
    for (const r of rows) headDigests.set(headDigestKey(String(r.input), String(r.scope)), {n: Number(r.n), upperSum: BigInt(String(r.u)), lowerSum: BigInt(String(r.l))})
  }
  // The three counts in one statement: asked by itself on the side connection, twice a refresh, the unfit pairs'
  // check cost ~10–30 ms of a refresh at the benchmark's size, most of it the statement's wait for a turn.
  const hasOversized = await hasDerivedTable(conn, 'oversized_amount')
  const hasPairs = await hasDerivedTable(conn, 'validated_contribution')
  const hasTotals = await hasDerivedTable(conn, 'balance_total')
  const parts = [
    ...(hasOversized ? [`SELECT 'oversized' AS kind, table_name AS key, count(*) AS n FROM oversized_amount GROUP BY table_name`] : []),
    ...(hasPairs ? [`SELECT 'unfit', registry, count(*) FROM validated_contribution WHERE value IS NULL GROUP BY registry`] : []),
    ...(hasTotals ? [`SELECT 'sums out of range', '', count(*) FROM balance_total k WHERE NOT ${HI_IN_RANGE('k')}`] : []),
  ]
  const counts = parts.length > 0 ? await queryRows(conn, parts.join(' UNION ALL ')) : []
  const of = (kind: string) => counts.filter((r) => r.kind === kind)
  const oversized = hasOversized ? new Map(of('oversized').map((r) => [String(r.key), Number(r.n)])) : undefined
  const unfitPairRegistries = hasPairs ? new Set(of('unfit').map((r) => String(r.key))) : undefined
  const balanceSumsOutOfRange = hasTotals ? Number(of('sums out of range')[0]?.n ?? 0) : undefined
  return {syncState, headDigests, oversized, unfitPairRegistries, balanceSumsOutOfRange}
}

/** The number of oversized_amount rows of `table` as the suite's snapshot holds it; undefined outside a suite. */
export function oversizedIn(conn: DuckDBConnection, table: string): number | undefined {
  const oversized = mirrorSnapshotOf(conn)?.oversized
  return oversized === undefined ? undefined : (oversized.get(table) ?? 0)
}

/**
 * Whether balance_state leaves out a transfer or delegate_power a vote change (an amount that did not fit), or a kept
 * balance sum is out of its readers' range, as the suite's snapshot holds it (proposal-snapshots.ts); undefined outside
 * a suite or for a mirror without those tables.
 */
export function keptStateLeavesOutIn(conn: DuckDBConnection): boolean | undefined {
  const snapshot = mirrorSnapshotOf(conn)
  const outOfRange = snapshot?.balanceSumsOutOfRange
  const transfers = oversizedIn(conn, 'token_transfer')
  const voteChanges = oversizedIn(conn, 'votes_change')
  if (outOfRange === undefined || transfers === undefined || voteChanges === undefined) return undefined
  return transfers > 0 || voteChanges > 0 || outOfRange > 0
}

/** Whether `registry` has a validated pair whose value did not fit, as the suite's snapshot holds it; undefined outside a suite. */
export function unfitPairsIn(conn: DuckDBConnection, registry: string): boolean | undefined {
  return mirrorSnapshotOf(conn)?.unfitPairRegistries?.has(registry)
}

const headDigestKey = (input: string, scope: string): string => `${input}\n${scope}`

/**
 * HEAD_DIGEST_SQL's answer (head-digests.ts) from the snapshot: the kept count and digest of `input` in `scope`, the
 * empty digest for a scope without rows.
 */
export function headDigestIn(headDigests: HeadDigests, input: string, scope: string): {n: number; digest: string} {
  const sums = headDigests.get(headDigestKey(input, scope))
  return {n: sums?.n ?? 0, digest: digestOfSums(sums?.upperSum ?? 0n, sums?.lowerSum ?? 0n)}
}

/**
 * headDigestsByGroupSql's rows (head-digests.ts: g, n, digest, ordered by g) for the group_keys batch.ts last wrote on
 * `conn` (group-keys.ts), from the snapshot; `scopeOf` is the scope SQL's value for a group's id. Undefined outside a
 * suite or without held keys: the caller runs the query.
 */
export function headDigestsByGroupIn(conn: DuckDBConnection, input: string, scopeOf: (id: string) => string): Row[] | undefined {
  const headDigests = mirrorSnapshotOf(conn)?.headDigests
  const keys = heldGroupKeys(conn)
  if (!headDigests || !keys) return undefined
  return keys.map((k) => {
    const {n, digest} = headDigestIn(headDigests, input, scopeOf(k.id))
    return {g: k.g.toString(), n, digest}
  })
}
