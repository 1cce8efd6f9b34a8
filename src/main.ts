import {randomBytes} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import {Client} from 'pg'
import path from 'node:path'
import {loadConfig} from './config'
import {createDatabase, dropDatabase} from './db/databases'
import {startEmbeddedPostgres} from './db/embedded'
import {applyMigrations} from './db/migrate'
import {parsePgUrl, redactPgUrl, withDatabase} from './db/url'
import {startAnvil} from './devnet/anvil'
import {deployProtocol, writeContractsConfig} from './devnet/deploy'
import {runScenario, startLiveActivity} from './devnet/scenario'
import {superviseProcessor} from './processor/supervise'
import {Shutdown} from './shutdown'
import {followAnalytics} from './analytics/follow'
import {ensureReadOnlyRole} from './api/readonly-role'
import {startApiServer} from './api/server'
import {loadContractsConfig} from './processor/contracts-config'
import {chainClient} from './verify/chain-reader'

/**
 * `npm start`: the whole main job in one process tree.
 *  1. Postgres: DATABASE_URL, or an embedded Postgres under DATA_DIR/postgres.
 *  2. Chain: RPC_URL + CONTRACTS_FILE, or a fresh anvil devnet with the reference protocol deployed and a seeded
 *     scenario played on it (plus a trickle of live activity so there are always new blocks to follow).
 *  3. Migrations, then the processor as a supervised child process (restarted with backoff if it dies), which keeps
 *     following the head.
 *  4. Once the index has caught up, the DuckDB analytics: mirror, metric suite with backfill, results to Postgres,
 *     refreshed every ANALYTICS_INTERVAL_MS.
 *  5. The GraphQL audit API, through a read-only database role; its URL is printed.
 */
async function main(): Promise<void> {
  const config = loadConfig()
  const shutdown = new Shutdown()
  const dataDir = path.resolve(config.DATA_DIR)
  mkdirSync(dataDir, {recursive: true})

  let serverUrl = config.DATABASE_URL
  if (!serverUrl) {
    log('DATABASE_URL not set: starting the embedded Postgres in ' + path.join(config.DATA_DIR, 'postgres'))
    const pg = await startEmbeddedPostgres({dataDir: path.join(dataDir, 'postgres')})
    shutdown.add('embedded Postgres', () => pg.stop())
    serverUrl = pg.url
  }

  let databaseUrl = serverUrl
  let rpcUrl = config.RPC_URL
  let contractsFile = path.resolve(config.CONTRACTS_FILE)
  if (!rpcUrl) {
    // A devnet is new on every run, so an index of the previous run's chain is meaningless: the devnet always gets
    // a database of its own, recreated here. A DATABASE_URL's own database is never dropped.
    databaseUrl = withDatabase(serverUrl, 'deai_lens_devnet')
    await dropDatabase(serverUrl, 'deai_lens_devnet')
    await createDatabase(serverUrl, 'deai_lens_devnet')
    log('RPC_URL not set: starting an anvil devnet and deploying the reference DeAI protocol')
    const anvil = await startAnvil()
    shutdown.add('anvil', () => anvil.stop())
    rpcUrl = anvil.rpcUrl
    const deployment = await deployProtocol(rpcUrl)
    contractsFile = path.join(dataDir, 'devnet-contracts.json')
    writeContractsConfig(deployment, contractsFile)
    const t0 = Date.now()
    const result = await runScenario(rpcUrl, deployment, {
      seed: config.DEVNET_SEED,
      accounts: config.DEVNET_ACCOUNTS,
      events: config.DEVNET_EVENTS,
    })
    log(`scenario (seed ${config.DEVNET_SEED}): ${result.logCount} events in blocks ${result.fromBlock}..${result.toBlock}, ${Date.now() - t0} ms`)
    if (config.DEVNET_LIVE_INTERVAL_MS > 0) {
      const live = startLiveActivity(rpcUrl, deployment, {seed: config.DEVNET_SEED + 1, intervalMs: config.DEVNET_LIVE_INTERVAL_MS})
      shutdown.add('live activity', () => live.stop())
    }
  }

  const applied = await applyMigrations(databaseUrl)
  log(`database ${redactPgUrl(databaseUrl)}: ${applied.length} migration(s) applied`)

  // Supervised: a processor that dies (lost database connection, failing RPC) is restarted with backoff; one that
  // found a reorg deeper than finality, or keeps failing, is not, and then everything stops with its message.
  const processor = superviseProcessor({
    databaseUrl,
    rpcUrl,
    contractsFile,
    env: {FINALITY_CONFIRMATIONS: String(config.FINALITY_CONFIRMATIONS)},
    log: (m) => log(m),
  })
  shutdown.add('processor', () => processor.stop().then(() => undefined))
  void processor.exited.then((code) => {
    if (!shutdown.started) {
      log(`processor stopped for good (${code}); stopping`)
      // Stopped by a signal (Ctrl-C reaches the whole process group, and the child may see it first): a normal stop.
      void shutdown.run(code === 'SIGINT' || code === 'SIGTERM' ? 0 : 1)
    }
  })
  log(`indexing ${rpcUrl} into ${redactPgUrl(databaseUrl)}`)

  // Analytics start once the index has caught up with the head seen now, then follow it.
  const head = await chainHead(rpcUrl)
  await processor.waitForHeight(head, 30 * 60_000)
  // Bulk ingestion leaves the planner without statistics; the API's first queries would otherwise plan blind.
  await analyzeDatabase(databaseUrl)
  log(`index caught up with block ${head}; computing analytics`)
  const analytics = await followAnalytics({
    databaseUrl,
    analyticsDb: path.resolve(config.RPC_URL ? config.ANALYTICS_DB : path.join(dataDir, 'analytics-devnet.duckdb')),
    contracts: loadContractsConfig(contractsFile),
    intervalMs: config.ANALYTICS_INTERVAL_MS,
    backfillEvery: config.ANALYTICS_BACKFILL_EVERY,
    tablesEvery: config.ANALYTICS_TABLES_EVERY,
    tablesRefreshBlocks: config.ANALYTICS_TABLES_REFRESH_BLOCKS,
    fresh: !config.RPC_URL,
    log,
  })
  shutdown.add('analytics', () => analytics.stop())

  const api = await startApiServer({
    config,
    databaseUrl: await apiDatabaseUrl(config.API_DATABASE_URL, databaseUrl),
    admin: {token: config.API_ADMIN_TOKEN, actions: {refreshAnalytics: () => analytics.refreshNow()}, log},
  })
  shutdown.add('API', () => api.close())
  log(`GraphQL audit API at ${api.url}/graphql (health ${api.url}/health, metrics ${api.url}/metrics)`)
  if (config.API_ADMIN_TOKEN === undefined) log('admin actions are off (set API_ADMIN_TOKEN to allow POST /admin/analytics/refresh)')
  log('running; Ctrl-C stops everything')
}

/**
 * The API reads through a role that can only SELECT. Without API_DATABASE_URL one is created (or refreshed) with a
 * password made for this run and never stored; where the connecting role may not create roles, the API falls back to
 * the main URL, whose sessions it still opens read-only.
 */
async function apiDatabaseUrl(given: string | undefined, databaseUrl: string): Promise<string> {
  if (given) return given
  try {
    return await ensureReadOnlyRole(databaseUrl, parsePgUrl(databaseUrl).database, 'deai_lens_reader', randomBytes(18).toString('base64url'))
  } catch (e) {
    log(`could not create the read-only API role (${(e as Error).message}); the API uses DATABASE_URL in read-only sessions`)
    return databaseUrl
  }
}

async function analyzeDatabase(url: string): Promise<void> {
  const client = new Client({connectionString: url})
  await client.connect()
  try {
    await client.query('ANALYZE')
  } finally {
    await client.end()
  }
}

async function chainHead(rpcUrl: string): Promise<number> {
  return Number(await chainClient(rpcUrl).getBlockNumber())
}

function log(message: string): void {
  console.log(`[deai-lens] ${message}`)
}

main().catch((e) => {
  console.error('[deai-lens] failed:', e instanceof Error ? e.message : e)
  process.exit(1)
})
