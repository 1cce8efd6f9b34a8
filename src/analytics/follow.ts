import {rmSync} from 'node:fs'
import {Pool} from 'pg'
import type {ContractsConfig} from '../processor/contracts-config'
import {openAnalyticsDb} from './duckdb'
import {refreshAnalytics} from './jobs/run'

export interface RefreshSummary {
  metricValues: number
  blocks: number[]
  ms: number
}

export interface AnalyticsFollower {
  /** Starts a refresh now (after the running one, if any) and resolves with its outcome; rejects if it failed. */
  refreshNow(): Promise<RefreshSummary>
  stop(): Promise<void>
}

/**
 * Keeps the analytics current for `npm start`: a refresh (sync, suite at the head, backfill of missing points),
 * then a pause of `intervalMs`, and again, never two at once. A failed refresh is logged and retried next round:
 * the mirror and the results are each written atomically, so a failure leaves the last good state in place.
 */
export async function followAnalytics(opts: {
  databaseUrl: string
  analyticsDb: string
  contracts: ContractsConfig
  intervalMs: number
  backfillEvery: number
  /** Retention of fairness tables and Lorenz curves (results.ts, pruneSupersededTables). */
  tablesEvery: number
  /** How often a fairness table is rewritten (run.ts, fairnessTableRule). */
  tablesRefreshBlocks: number
  fresh: boolean
  log: (message: string) => void
}): Promise<AnalyticsFollower> {
  // A devnet is a new chain every run: its mirror starts empty too.
  if (opts.fresh) for (const suffix of ['', '.wal']) rmSync(opts.analyticsDb + suffix, {force: true})
  const mirror = await openAnalyticsDb(opts.analyticsDb)
  const duck = await mirror.connect()
  // The suite runs part of its measurements on a second connection, beside the first (suite.ts, sideConnection).
  const side = await mirror.connect()
  const pg = new Pool({connectionString: opts.databaseUrl, max: 2})
  // An idle client whose connection the server ends (a restart, an administrator's terminate, a shutdown ahead of
  // ours) makes the pool emit 'error'; unheard, that ends the process. The pool has dropped the client by then: the
  // next round connects again, and reports through its own catch below if the database is still away.
  pg.on('error', () => undefined)
  let stopped = false
  let finished = false // the loop has ended (stopped, or ANALYTICS_INTERVAL_MS=0 after its one round)
  let wake: (() => void) | undefined
  // Callers of refreshNow waiting for the next round to finish; a round takes all who asked before it started.
  let waiting: {resolve: (r: RefreshSummary) => void; reject: (e: Error) => void}[] = []
  const loop = (async () => {
    while (!stopped) {
      const asked = waiting
      waiting = []
      try {
        const run = await refreshAnalytics({duck, pg, contracts: opts.contracts, backfillEvery: opts.backfillEvery, tablesEvery: opts.tablesEvery, tablesRefreshBlocks: opts.tablesRefreshBlocks, keepState: true, side})
        if (run.blocks.length > 0) {
          opts.log(`analytics: ${run.metricValues} metric values at block(s) ${summarize(run.blocks)} in ${run.ms.toFixed(0)} ms`)
        }
        for (const w of asked) w.resolve({metricValues: run.metricValues, blocks: run.blocks, ms: run.ms})
      } catch (e) {
        opts.log(`analytics refresh failed, retrying: ${(e as Error).message}`)
        for (const w of asked) w.reject(e as Error)
      }
      if (opts.intervalMs === 0 && waiting.length === 0) break
      await new Promise<void>((resolve) => {
        wake = resolve
        if (waiting.length > 0) resolve()
        else if (opts.intervalMs > 0) setTimeout(resolve, opts.intervalMs)
      })
    }
    finished = true
    for (const w of waiting) w.reject(new Error('analytics stopped'))
  })()
  return {
    refreshNow() {
      if (stopped || finished) return Promise.reject(new Error('analytics are not running (stopped, or ANALYTICS_INTERVAL_MS=0)'))
      return new Promise<RefreshSummary>((resolve, reject) => {
        waiting.push({resolve, reject})
        wake?.()
      })
    },
    async stop() {
      stopped = true
      wake?.()
      await loop
      mirror.close()
      await pg.end()
    },
  }
}

function summarize(blocks: number[]): string {
  return blocks.length <= 3 ? blocks.join(', ') : `${blocks[0]}…${blocks.at(-1)} (${blocks.length})`
}
