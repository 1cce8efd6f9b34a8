import type {DuckDBConnection} from '@duckdb/node-api'
import type {Pool} from 'pg'
import type {ContractsConfig} from '../../processor/contracts-config'
import {syncFromPostgres, type SyncResult} from '../store/sync'
import {dropResultsAbove, fairnessScopeKey, latestFairnessTables, latestStoredBlocks, ResultsWriter} from './results'
import {computeSuite} from './suite'

export interface AnalyticsRun {
  sync: SyncResult
  /** Blocks the suite was computed at. */
  blocks: number[]
  metricValues: number
  /** Fairness table rows written (tables are rewritten only when due, see fairnessTableRule). */
  fairnessRows: number
  ms: number
  /**
   * Where the time went: computing the suites (their values' upserts run meanwhile) and finishing the writes after
   * them (the upserts still queued, fairness tables, commit); the rest is sync and bookkeeping.
   */
  suiteMs: number
  writeMs: number
}

/**
 * One refresh: pull new audit rows into the mirror, drop stored results above the finalized height (a reorg may
 * have changed their inputs), then compute the suite at the indexed head and, with `backfillEvery`, at every
 * multiple of it that has no value yet, and write everything with its provenance. Measurements whose inputs did not
 * change since their latest stored value (proposals without new votes, unchanged fairness scopes and model owners) are not recomputed nor
 * written again: a value stands until the next stored block of its series (see plan.ts, "latest value at or below
 * block B").
 */
export async function refreshAnalytics(opts: {
  duck: DuckDBConnection
  pg: Pool
  contracts: ContractsConfig
  backfillEvery?: number
  /** With it, superseded fairness tables and Lorenz curves are pruned, keeping multiples of it (results.ts). */
  tablesEvery?: number
  /** ANALYTICS_TABLES_REFRESH_BLOCKS (see fairnessTableRule); 0 or absent: a table with every recomputed scope. */
  tablesRefreshBlocks?: number
  /** More refreshes follow on this connection (the follower): keep in-process state across them (suite.ts). */
  keepState?: boolean
  /** A second connection to the same mirror, for the suite's measurements that need no state kept on `duck` (suite.ts). */
  side?: DuckDBConnection
}): Promise<AnalyticsRun> {
  const t0 = performance.now()
  const {duck, pg, contracts} = opts
  const refreshBlocks = opts.tablesRefreshBlocks ?? 0
  // What was stored before this refresh, at or below the finalized height of the sync's snapshot (what the drop
  // below keeps), read in Postgres while the sync works in DuckDB, once its copy of the new rows is done (SyncHooks).
  // The skips of plan.ts apply against it, so a first refresh (or a backfill within one refresh) computes every scope
  // at every block it computes. A sync that fails before its copy ends leaves it unread.
  let copied!: (snapshot: {finalizedHeight: number}) => void
  const afterCopy = new Promise<{finalizedHeight: number}>((resolve) => (copied = resolve))
  const [sync, before] = await Promise.all([
    syncFromPostgres(duck, pg, {afterCopy: copied}),
    afterCopy.then(({finalizedHeight}) => storedBeforeSync(pg, refreshBlocks, Math.max(finalizedHeight, -1))),
  ])
  let {stored, latestTables} = before
  const fromBlock = Math.min(...contracts.contracts.map((c) => c.startBlock))
  const blocks: number[] = []
  if (sync.height >= fromBlock) {
    // Results above the finalized height may read blocks a reorg replaces later; results above a block the sync found
    // replaced did read rows that are gone, even when the finalized height has since passed them (a follower that
    // was stopped for longer than the finality window): a measurement skipped as unchanged (plan.ts) must not stand
    // on them.
    const keptUpTo = Math.max(Math.min(sync.finalizedHeight, sync.reorgedAbove ?? Infinity), -1)
    await dropResultsAbove(pg, keptUpTo)
    // The drop went below what was read beside the sync (a reorg, or an index re-indexed from a safe block): the
    // reads may count results the drop just removed, so they are read again.
    if (keptUpTo < before.storedUpTo) ({stored, latestTables} = await readStored(pg, refreshBlocks, keptUpTo))
    if (opts.backfillEvery && opts.backfillEvery > 0) blocks.push(...(await missingBackfillBlocks(pg, fromBlock, sync.finalizedHeight, opts.backfillEvery)))
    blocks.push(sync.height)
  }
  let metricValues = 0
  let fairnessRows = 0
  let suiteMs = 0
  let writeMs = 0
  const retention = opts.tablesEvery === undefined ? undefined : {finalizedHeight: sync.finalizedHeight, keepEvery: opts.tablesEvery}
  for (const block of blocks) {
    const t1 = performance.now()
    const fairnessTableDue = (scopeKind: string, scopeId: string) =>
      fairnessTableRule({block, latest: latestTables.get(fairnessScopeKey(scopeKind, scopeId)), refreshBlocks, keepEvery: opts.tablesEvery ?? 0})
    // The values are written while the suite computes the rest (ResultsWriter), in one transaction committed once
    // the suite is done: a failed suite writes nothing.
    const writer = await ResultsWriter.open(pg)
    let results
    try {
      results = await computeSuite(duck, contracts, block, fromBlock, {
        stored, fairnessTableDue, keepState: opts.keepState ?? false, sideConnection: opts.side, onResults: (part) => writer.add(part),
      })
    } catch (e) {
      await writer.abort()
      throw e
    }
    const t2 = performance.now()
    await writer.finish(results, retention)
    for (const key of new Set(results.fairness.map((f) => fairnessScopeKey(f.scopeKind, f.scopeId)))) {
      latestTables.set(key, Math.max(block, latestTables.get(key) ?? -1))
    }
    suiteMs += t2 - t1
    writeMs += performance.now() - t2
    metricValues += results.metrics.length
    fairnessRows += results.fairness.reduce((n, t) => n + t.rows, 0)
  }
  return {sync, blocks, metricValues, fairnessRows, ms: performance.now() - t0, suiteMs, writeMs}
}

/**
 * The stored results a refresh starts from, read beside its sync (~20–100 ms a refresh at the benchmark's size,
 * hidden behind it): the latest stored block per series and per fairness table, counting only results at or below
 * `upTo`, the finalized height the sync read, which the refresh's drop keeps unless a reorg lowers it
 * (refreshAnalytics then reads again).
 */
async function storedBeforeSync(pg: Pool, refreshBlocks: number, upTo: number) {
  return {storedUpTo: upTo, ...(await readStored(pg, refreshBlocks, upTo))}
}

async function readStored(pg: Pool, refreshBlocks: number, upTo: number) {
  const [stored, latestTables] = await Promise.all([
    latestStoredBlocks(pg, upTo),
    refreshBlocks > 0 ? latestFairnessTables(pg, upTo) : new Map<string, number>(),
  ])
  return {stored, latestTables}
}

/**
 * Whether a recomputed fairness scope gets its per-contributor table at `block`. The table is the costly part of a
 * refresh (a row per contributor: 200,000 rows at the benchmark's size, ~9 s of Postgres writes per refresh), while
 * its summary metrics (total variation distance, Gini, Spearman, over/under-rewarded counts) are small. So the
 * metrics are written with every recomputation and the table only when one of these holds:
 *  - refreshBlocks is 0 (every time), or the scope has no stored table yet;
 *  - the latest stored table is at least refreshBlocks blocks older than `block`;
 *  - `block` is a multiple of keepEvery (ANALYTICS_TABLES_EVERY: the blocks retention keeps; the backfill passes them).
 * The API answers a table with its own asOfBlock, so a table behind the head is labelled as such.
 */
export function fairnessTableRule(r: {block: number; latest: number | undefined; refreshBlocks: number; keepEvery: number}): boolean {
  if (r.refreshBlocks <= 0 || r.latest === undefined) return true
  if (r.keepEvery > 0 && r.block % r.keepEvery === 0) return true
  return r.block - r.latest >= r.refreshBlocks
}

/**
 * Multiples of `every` in [from, finalized] with no stored value yet: a backfill resumes where it stopped. Each
 * candidate block is probed through metric_value's as_of_block index: the cost follows the number of candidates
 * (finalized / every), not the stored history, which every refresh of a chain whose head is final adds to (a
 * DISTINCT over metric_value, as this was before, took ~0.3 s at 1.8 million stored values).
 */
export async function missingBackfillBlocks(pg: Pool, from: number, finalized: number, every: number): Promise<number[]> {
  const first = Math.ceil(from / every) * every
  if (first > finalized) return []
  const rows = await pg.query<{b: number}>(
    `SELECT b FROM generate_series($1::int, $2::int, $3::int) b
     WHERE NOT EXISTS (SELECT 1 FROM metric_value m WHERE m.as_of_block = b) ORDER BY b`,
    [first, finalized, every],
  )
  return rows.rows.map((r) => Number(r.b))
}
