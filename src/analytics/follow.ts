import {rmSync} from 'node:fs'
import {Pool} from 'pg'
import type {ContractsConfig} from '../processor/contracts-config'
import {openAnalyticsDb} from './duckdb'
import {refreshAnalytics} from './jobs/run'

export interface AnalyticsFollower {
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
  fresh: boolean
  log: (message: string) => void
}): Promise<AnalyticsFollower> {
  // A devnet is a new chain every run: its mirror starts empty too.
  if (opts.fresh) for (const suffix of ['', '.wal']) rmSync(opts.analyticsDb + suffix, {force: true})
  const mirror = await openAnalyticsDb(opts.analyticsDb)
  const duck = await mirror.connect()
  const pg = new Pool({connectionString: opts.databaseUrl, max: 2})
  let stopped = false
  let wake: (() => void) | undefined
  const loop = (async () => {
    while (!stopped) {
      try {
        const run = await refreshAnalytics({duck, pg, contracts: opts.contracts, backfillEvery: opts.backfillEvery})
        if (run.blocks.length > 0) {
          opts.log(`analytics: ${run.metricValues} metric values at block(s) ${summarize(run.blocks)} in ${run.ms.toFixed(0)} ms`)
        }
      } catch (e) {
        opts.log(`analytics refresh failed, retrying: ${(e as Error).message}`)
      }
      if (opts.intervalMs === 0) break
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, opts.intervalMs)
      })
    }
  })()
  return {
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
