import {loadConfig} from '../../config'
import {redactPgUrl} from '../../db/url'
import {openAnalyticsDb} from '../duckdb'
import {rebuildFromScratch} from './sync'

/**
 * `node lib/analytics/store/rebuild-cli.js`: drops the analytics mirror (ANALYTICS_DB) and pulls everything again
 * from the index at DATABASE_URL, in one transaction. The recovery path when a sync reports MirrorDivergedError,
 * and the way to pick up a new mirror schema. Exit code 0 on success, 1 on failure, 2 when it cannot run.
 */
async function main(): Promise<number> {
  const config = loadConfig()
  if (!config.DATABASE_URL) {
    console.error('rebuild needs DATABASE_URL: the database of the index to mirror (npm start prints it)')
    return 2
  }
  const db = await openAnalyticsDb(config.ANALYTICS_DB)
  try {
    const conn = await db.connect()
    console.log(`rebuilding ${config.ANALYTICS_DB} from ${redactPgUrl(config.DATABASE_URL)}`)
    const r = await rebuildFromScratch(conn, config.DATABASE_URL)
    const rate = r.ms > 0 ? Math.round((r.pulled * 1000) / r.ms) : r.pulled
    console.log(
      `mirrored ${r.pulled} audit events (${r.fromId ?? '-'} .. ${r.toId ?? '-'}) in ${r.ms} ms (${rate} rows/s); ` +
        `finalized height ${r.finalizedHeight}, height ${r.height}`,
    )
    console.log(`typed rows: ${JSON.stringify(r.typed)}`)
    return 0
  } finally {
    db.close()
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  },
)
