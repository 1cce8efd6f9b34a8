import path from 'node:path'
import {Pool} from 'pg'
import {loadConfig} from '../config'
import {loadContractsConfig} from '../processor/contracts-config'
import {openAnalyticsDb} from './duckdb'
import {exportForReproduction, parseMetricValueId} from './jobs/reproduce'
import {refreshAnalytics} from './jobs/run'
import {rebuildFromScratch, syncFromPostgres} from './store/sync'
import {writeResults} from './jobs/results'
import {computeSuite} from './jobs/suite'

/**
 * Analytics commands (DATABASE_URL, CONTRACTS_FILE, ANALYTICS_DB from the environment):
 *   node lib/analytics/cli.js refresh            sync the mirror, compute the suite at the head (+ backfill)
 *   node lib/analytics/cli.js rebuild            rebuild the mirror from scratch, then refresh
 *   node lib/analytics/cli.js at <block>         compute and store the suite as of any mirrored block
 *   node lib/analytics/cli.js reproduce <id> [--out DIR]   export one metric value's inputs and SQL
 */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const config = loadConfig()
  if (!config.DATABASE_URL) {
    console.error('the analytics commands need DATABASE_URL (the index to read)')
    return 2
  }
  const contracts = loadContractsConfig(config.CONTRACTS_FILE)
  const pg = new Pool({connectionString: config.DATABASE_URL, max: 2})
  // A connection the server ends while idle: the pool drops it, and a query that needed it fails with its own error.
  pg.on('error', () => undefined)
  const mirror = await openAnalyticsDb(config.ANALYTICS_DB)
  try {
    const duck = await mirror.connect()
    switch (command) {
      case 'rebuild':
        console.log(JSON.stringify(await rebuildFromScratch(duck, pg)))
      // falls through: a rebuilt mirror is refreshed at once
      case 'refresh': {
        const side = await mirror.connect()
        const run = await refreshAnalytics({duck, pg, contracts, backfillEvery: config.ANALYTICS_BACKFILL_EVERY, tablesEvery: config.ANALYTICS_TABLES_EVERY, tablesRefreshBlocks: config.ANALYTICS_TABLES_REFRESH_BLOCKS, side})
        console.log(`analytics at block(s) ${run.blocks.join(', ') || 'none'}: ${run.metricValues} values in ${run.ms.toFixed(0)} ms`)
        return 0
      }
      case 'at': {
        const block = Number(rest[0])
        if (!Number.isSafeInteger(block) || block < 0) throw new Error('usage: at <block> (a non-negative block number)')
        await syncFromPostgres(duck, pg)
        const fromBlock = Math.min(...contracts.contracts.map((c) => c.startBlock))
        const results = await computeSuite(duck, contracts, block, fromBlock)
        await writeResults(pg, results)
        console.log(`analytics as of block ${block}: ${results.metrics.length} values`)
        return 0
      }
      case 'reproduce': {
        const id = rest[0]
        if (!id) throw new Error('usage: reproduce <metric value id> [--out DIR]')
        const outAt = rest.indexOf('--out')
        const key = parseMetricValueId(id)
        const dir = path.resolve(outAt >= 0 && rest[outAt + 1] ? rest[outAt + 1]! : path.join(config.DATA_DIR, 'reproduce', id.replace(/[^a-zA-Z0-9._-]+/g, '_')))
        const stored = await pg.query(`SELECT value::text AS value, value_exact, input_digest FROM metric_value WHERE id = $1`, [id])
        const out = await exportForReproduction(duck, contracts, key, dir)
        console.log(`wrote ${out.files.join(', ')} to ${out.dir}`)
        console.log(`stored value ${stored.rows[0]?.value ?? '(none)'} (exact ${stored.rows[0]?.value_exact ?? '-'}), recomputed from the export: ${out.recomputed}`)
        console.log(`input digest ${out.inputDigest} (stored ${stored.rows[0]?.input_digest ?? '-'})`)
        return 0
      }
      default:
        console.error('usage: node lib/analytics/cli.js refresh | rebuild | at <block> | reproduce <metric value id> [--out DIR]')
        return 2
    }
  } finally {
    mirror.close()
    await pg.end()
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  },
)
