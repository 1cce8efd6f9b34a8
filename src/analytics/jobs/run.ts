import type {DuckDBConnection} from '@duckdb/node-api'
import type {Pool} from 'pg'
import type {ContractsConfig} from '../../processor/contracts-config'
import {syncFromPostgres, type SyncResult} from '../store/sync'
import {dropResultsAbove, writeResults} from './results'
import {computeSuite} from './suite'

export interface AnalyticsRun {
  sync: SyncResult
  /** Blocks the suite was computed at. */
  blocks: number[]
  metricValues: number
  ms: number
}

/**
 * One refresh: pull new audit rows into the mirror, drop stored results above the finalized height (a reorg may
 * have changed their inputs), then compute the suite at the indexed head and, with `backfillEvery`, at every
 * multiple of it that has no value yet, and write everything with its provenance.
 */
export async function refreshAnalytics(opts: {
  duck: DuckDBConnection
  pg: Pool
  contracts: ContractsConfig
  backfillEvery?: number
}): Promise<AnalyticsRun> {
  const t0 = performance.now()
  const {duck, pg, contracts} = opts
  const sync = await syncFromPostgres(duck, pg)
  const fromBlock = Math.min(...contracts.contracts.map((c) => c.startBlock))
  const blocks: number[] = []
  if (sync.height >= fromBlock) {
    await dropResultsAbove(pg, Math.max(sync.finalizedHeight, -1))
    if (opts.backfillEvery && opts.backfillEvery > 0) blocks.push(...(await missingBackfillBlocks(pg, fromBlock, sync.finalizedHeight, opts.backfillEvery)))
    blocks.push(sync.height)
  }
  let metricValues = 0
  for (const block of blocks) {
    const results = await computeSuite(duck, contracts, block, fromBlock)
    await writeResults(pg, results)
    metricValues += results.metrics.length
  }
  return {sync, blocks, metricValues, ms: performance.now() - t0}
}

/** Multiples of `every` in [from, finalized] with no stored value yet: a backfill resumes where it stopped. */
async function missingBackfillBlocks(pg: Pool, from: number, finalized: number, every: number): Promise<number[]> {
  const done = new Set(
    (await pg.query<{b: number}>(`SELECT DISTINCT as_of_block AS b FROM metric_value`)).rows.map((r) => Number(r.b)),
  )
  const out: number[] = []
  for (let b = Math.ceil(from / every) * every; b <= finalized; b += every) if (!done.has(b)) out.push(b)
  return out
}
