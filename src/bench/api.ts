import {type ChildProcess, spawn} from 'node:child_process'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {Client, Pool} from 'pg'
import {IN_MEMORY, openAnalyticsDb} from '../analytics/duckdb'
import {refreshAnalytics} from '../analytics/jobs/run'
import {startApiServer} from '../api/server'
import {loadConfig} from '../config'
import {createRandomDatabase} from '../db/databases'
import {applyMigrations} from '../db/migrate'
import {freePort, startAnvil} from '../devnet/anvil'
import {contractsConfig, deployProtocol, writeContractsConfig} from '../devnet/deploy'
import {runScenario} from '../devnet/scenario'
import {parseContractsConfig} from '../processor/contracts-config'
import {spawnProcessor} from '../processor/spawn'
import {readIndexStatus} from '../processor/status'
import {rawRequest} from '../test-support/raw-http'
import {postgresForBench} from './postgres'

/**
 * `npm run bench:api`: the GraphQL audit API (src/api) under load, next to Subsquid's own OpenReader
 * (@subsquid/graphql-server, serving schema.graphql) over the same Postgres database, in the same run.
 *
 * 1. Data: a devnet scenario of ≥ 1M events (anvil, the reference protocol) indexed from block 0 by the real
 *    processor into a fresh database, then one analytics refresh at the head (in-memory DuckDB) so metric_value has
 *    real rows. One metric series (concentration.gini of the token's balances, or the first token-scope series if
 *    that metric is absent) is then padded with SYNTHETIC rows to ≥ `--metric-points` points: copies of the real
 *    head value (same value and provenance columns, job_version 'bench-synthetic') at every block below the head
 *    that has no value yet. A real backfill at that density would mean ~1,000 suite runs; the API's cost of reading a
 *    series does not depend on how its values were computed.
 *    `--database-url URL` reuses an already prepared database instead (not dropped); `--keep-database` keeps the
 *    generated one and prints its name.
 * 2. Servers: ours in-process twice (startApiServer, pool of 10 each): as served, with the response cache
 *    (API_RESPONSE_CACHE_MB from the environment, default 64; 0 there means 64 here), and with the cache off;
 *    OpenReader as a child process on a free port with the same pool size (GQL_DB_CONNECTION_POOL_SIZE=10) and
 *    default options. The load generator runs in a worker thread (autocannon `workers: 1`) so it does not share the
 *    event loop of our in-process servers. A reused database (--database-url) is first brought to the current
 *    migrations (the cache's data version reads analytics_state).
 * 3. Queries, each written for the server's own schema (see QUERIES): top-100 holders (ours at the head, plus ours
 *    atBlock alone: OpenReader cannot time-travel), a proposal with all its votes, a metric series of 1,000 points,
 *    an address's audit-trail page, an account's voting-power history. Before measuring, both servers' answers to
 *    an equivalent pair must hold the same rows (ids and values) in the same order, or the run stops. The first
 *    answer of each must be a GraphQL answer without errors and with non-empty data; every measured response must
 *    then be byte-identical to it on the wire (autocannon expectBody, compared byte for byte: a changed or error
 *    answer counts as a mismatch; gzip is deterministic, so a gzipped answer is the same bytes every time). Ours with
 *    and without the cache must send the same bytes.
 * 4. autocannon: `--connections` (50) for `--duration` seconds (10) per query, encoding and server, POST JSON.
 *    Encoding: `--encoding gzip` (default) sends `Accept-Encoding: gzip` to every server, as browsers, fetch,
 *    dashboards and curl --compressed do: ours gzips answers of ≥ 1 KB (src/api/http/compression.ts), OpenReader does
 *    whatever it does with that request; `identity` sends no Accept-Encoding (the figures before compression);
 *    `gzip,identity` measures both. The answer's wire bytes (compressed or not) are printed per query and server.
 *    Next to ours, a bare node:http server (the "floor") answers with exactly our answer's bytes as sent (gzipped,
 *    with the same Content-Encoding, when ours were): the latency and throughput no Node server can beat on this
 *    machine for that answer, GraphQL, database and compression aside.
 *
 * What "ours (cache)" measures: each run repeats ONE fixed query while nothing writes (processor stopped, analytics
 * idle), so after its first request every answer comes from the response cache, almost all of them from its HTTP
 * fast path (src/api/http/fast-path.ts: the same request bytes answered on node:http with the stored status, headers
 * and body, after one shared data-version read per second, without yoga), i.e. dashboards polling the same queries
 * between index commits. The hit ratio of each run is printed (from the server's /metrics), with the share answered
 * by the fast path (the others are operation-cache hits inside yoga: requests that arrived while the first answer was
 * being computed, or right after a version read). A hit sends the stored bytes: with gzip, the answer was compressed
 * once, when first asked. "ours (no cache)" computes (and compresses) every answer, as the API did before the cache
 * and as it does for a query not asked before in the current data version. Both must return byte-identical answers.
 *
 * Targets (2 cores): p99 < 50 ms at 50 connections for every query; requests/s ≥ OpenReader's on every equivalent.
 * The verdicts are for the server as served (cache on); the no-cache figures are printed next to them.
 * Postgres: DATABASE_URL if set, else the local server on 127.0.0.1:5432 if reachable, else an embedded one.
 * Scenario size: 100 txs per block gives ~1,850 blocks for 1M events (≥ 1,000 real block numbers for the metric
 * series; 500 per block gives only ~400). More than ~6,000 accounts fails in the devnet: one JSON-RPC batch per
 * account list exceeds what anvil accepts ("Invalid request").
 * Knobs: --events (1000000) --accounts (5000) --per-block (100) --seed (42) --duration (10) --connections (50)
 * --metric-points (1000) --encoding (gzip | identity | gzip,identity) --database-url URL --keep-database.
 */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const n = Number(process.argv[i + 1])
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} needs a non-negative integer, got ${process.argv[i + 1]}`)
  return n
}
function strArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const flag = (name: string) => process.argv.includes(`--${name}`)

const TARGET_P99_MS = 50
/** Our server as served (response cache on), and the same with the cache off. */
const CACHED = 'ours (cache)'
const UNCACHED = 'ours (no cache)'
/** A bare node:http server answering every POST with the same bytes as ours: what the machine allows at best. */
const FLOOR = 'node:http floor'
type Server = typeof CACHED | typeof UNCACHED | typeof FLOOR | 'OpenReader'
const PROJECT_ROOT = path.resolve(__dirname, '..', '..')
const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1)

type Cleanup = (() => Promise<void>)[]

// ---------------------------------------------------------------------------------------------------------------
// autocannon (no bundled types): only what is used here.

interface Histogram {
  average: number
  mean: number
  p50: number
  p99: number
  total: number
}
interface AutocannonResult {
  latency: Histogram
  requests: Histogram
  errors: number
  timeouts: number
  mismatches: number
  non2xx: number
  duration: number
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>
const autocannon = require('autocannon') as Autocannon

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = Date.now()
  const duration = arg('duration', 10)
  const connections = arg('connections', 50)
  const cleanup: Cleanup = []
  let apiErrors = 0
  try {
    const given = strArg('database-url')
    let dbUrl: string
    if (given) {
      dbUrl = given
      console.log(`using the prepared database given by --database-url (not dropped)`)
      const applied = await applyMigrations(dbUrl)
      if (applied.length > 0) console.log(`applied pending migrations to it: ${applied.join(', ')}`)
    } else {
      dbUrl = await prepareDatabase(cleanup)
    }
    const params = await pickParameters(dbUrl, arg('metric-points', 1000))
    await vacuumAnalyze(dbUrl)
    console.log(
      `data: ${params.events.toLocaleString('en-US')} audit events, indexed height ${params.head}; token ${params.token}; ` +
        `proposal ${params.proposal} (${params.voteCount} votes); metric series ${params.metric.metric}/${params.metric.distribution}/` +
        `${params.metric.scopeKind}/${params.metric.scopeId} (${params.metric.points} points, ${params.metric.synthetic} synthetic); ` +
        `audit-trail address ${params.trailAddress} (${params.trailEvents} transfers out); voting-power history of ` +
        `${params.vpDelegate} (${params.vpChanges} changes); atBlock ${params.atBlock}`,
    )

    const config = loadConfig()
    const startOurs = async (cacheMb: number) => {
      const api = await startApiServer({
        config: {...config, API_HOST: '127.0.0.1', API_PORT: 0, API_RESPONSE_CACHE_MB: cacheMb},
        databaseUrl: dbUrl,
        logError: (message, error) => {
          // Masked errors reach autocannon as mismatches; print the first few causes, count the rest.
          if (++apiErrors <= 3) console.error(`  api error: ${message}: ${String(error).split('\n')[0]}`)
        },
      })
      cleanup.push(() => api.close())
      return api.url
    }
    const cacheMb = config.API_RESPONSE_CACHE_MB > 0 ? config.API_RESPONSE_CACHE_MB : 64
    const oursBase = await startOurs(cacheMb)
    const ours = `${oursBase}/graphql`
    const oursNoCache = `${await startOurs(0)}/graphql`
    const openReader = await startOpenReader(dbUrl, cleanup)
    await waitForGraphql(ours, 'ours')
    await waitForGraphql(oursNoCache, 'ours (no cache)')
    await waitForGraphql(openReader.url, 'OpenReader')
    console.log(
      `servers: ours ${ours} (response cache ${cacheMb} MiB), ours ${oursNoCache} (no cache), OpenReader ${openReader.url} ` +
        `(all answering after ${secs(t0)} s)`,
    )

    const queries = buildQueries(params)
    const encodings = encodingArg()
    const byteExact = writeByteExactBodies(cleanup)
    const rows: Row[] = []
    for (const q of queries) {
      if (q.openReader) await checkEquivalent(q, ours, openReader.url)
      for (const encoding of encodings) {
        const headers: Record<string, string> = {'content-type': 'application/json', ...(encoding === 'gzip' ? {'accept-encoding': 'gzip'} : {})}
        let oursAnswer: Wire | undefined
        for (const [server, target, query] of [
          [CACHED, ours, q.ours] as const,
          [UNCACHED, oursNoCache, q.ours] as const,
          [FLOOR, undefined, q.ours] as const,
          ['OpenReader', openReader.url, q.openReader] as const,
        ]) {
          if (!query) continue
          const body = JSON.stringify({query: query.query, variables: query.variables})
          const url = target ?? (await startFloorServer(oursAnswer!, cleanup))
          const first = await firstAnswer(url, body, headers, `${q.name} (${server}, ${encoding})`, query.nonEmpty)
          // The cache must not change a byte of the answer (gzip is deterministic: the same bytes, compressed once
          // for the cache, on the fly without it).
          if (server === CACHED) oursAnswer = first
          if (server === UNCACHED && !first.wire.equals(oursAnswer!.wire)) {
            throw new Error(`${q.name} (${encoding}): the answers with and without the response cache differ`)
          }
          const cacheBefore = server === CACHED ? await cacheCounts(oursBase) : undefined
          const r = await autocannon({
            url,
            method: 'POST',
            headers,
            body,
            connections,
            duration,
            workers: 1,
            // Every response must be these very bytes (read byte for byte: see writeByteExactBodies).
            expectBody: first.wire.toString('latin1'),
            setupClient: byteExact,
          })
          const hitRatio = cacheBefore ? hitRatioSince(cacheBefore, await cacheCounts(oursBase)) : undefined
          rows.push({query: q.name, server, encoding, answer: first, r, hitRatio})
          await drain(dbUrl)
          console.log(
            `  measured ${q.name} on ${server} (${encoding}): p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${r.requests.average.toFixed(0)} req/s` +
              ` (${r.requests.total} requests, errors ${r.errors}, non-2xx ${r.non2xx}, mismatches ${r.mismatches}` +
              `${hitRatio ? `; cache hits ${hitRatio.hits}/${hitRatio.operations}, ${hitRatio.fast} by the fast path` : ''})`,
          )
        }
      }
    }
    printTable(rows, queries, encodings, connections, duration)
    if (apiErrors > 0) console.log(`our API logged ${apiErrors} errors (masked for the client) during the run`)
    console.log(`total wall time ${secs(t0)} s`)
  } finally {
    for (const step of cleanup.reverse()) await step().catch((e) => console.error('cleanup:', e))
  }
}

/**
 * A node:http server answering every request with `answer`'s bytes as they came over the wire (gzipped if ours were,
 * with the same Content-Encoding) as application/json; closed at cleanup.
 */
async function startFloorServer(answer: Wire, cleanup: Cleanup): Promise<string> {
  const bytes = answer.wire
  const headers: Record<string, string | number> = {'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length}
  if (answer.contentEncoding) headers['content-encoding'] = answer.contentEncoding
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, headers)
      res.end(bytes)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`
}

type Encoding = 'gzip' | 'identity'

/** `--encoding gzip` (default: what browsers, fetch and curl --compressed send), `identity`, or `gzip,identity`. */
function encodingArg(): Encoding[] {
  const given = (strArg('encoding') ?? 'gzip').split(',').map((e) => e.trim())
  const out = given.filter((e): e is Encoding => e === 'gzip' || e === 'identity')
  if (out.length !== given.length || out.length === 0) throw new Error(`--encoding takes gzip, identity or gzip,identity, got ${strArg('encoding')}`)
  return [...new Set(out)]
}

/**
 * autocannon (8.0.0) collects a response body as `body += chunk`, i.e. decodes each chunk as UTF-8 on its own: a gzip
 * body split between two reads at a multi-byte sequence would decode differently from the same bytes in one piece,
 * and count as a mismatch. This module, loaded in autocannon's worker as its `setupClient`, makes it collect bodies as
 * latin1 (one character per byte), so `expectBody` (the expected bytes as latin1) compares every byte exactly.
 */
function writeByteExactBodies(cleanup: Cleanup): string {
  const queue = require.resolve('autocannon/lib/pipelinedRequestsQueue.js')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deai-bench-autocannon-'))
  cleanup.push(async () => rmSync(dir, {recursive: true, force: true}))
  const file = path.join(dir, 'byte-exact-bodies.js')
  writeFileSync(
    file,
    `const Queue = require(${JSON.stringify(queue)})
if (typeof Queue.prototype.addBody !== 'function' || typeof Queue.prototype.peek !== 'function') {
  throw new Error('autocannon internals changed: PipelinedRequestsQueue.addBody / peek not found')
}
Queue.prototype.addBody = function (data) {
  const req = this.peek()
  if (req) req.body += data.toString('latin1')
}
module.exports = () => {}
`,
  )
  return file
}

// ---------------------------------------------------------------------------------------------------------------
// Data

async function prepareDatabase(cleanup: Cleanup): Promise<string> {
  const events = arg('events', 1_000_000)
  const accounts = arg('accounts', 5_000)
  const perBlock = arg('per-block', 100)
  const seed = arg('seed', 42)
  const adminUrl = await postgresForBench(cleanup)
  const anvil = await startAnvil()
  cleanup.push(() => anvil.stop())
  const deployment = await deployProtocol(anvil.rpcUrl)
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-bench-api-'))
  cleanup.push(async () => rmSync(tmp, {recursive: true, force: true}))
  const contractsFile = path.join(tmp, 'contracts.json')
  writeContractsConfig(deployment, contractsFile)

  let t = Date.now()
  const scenario = await runScenario(anvil.rpcUrl, deployment, {seed, accounts, events, perBlock})
  console.log(
    `scenario: ${scenario.logCount.toLocaleString('en-US')} events in blocks ${scenario.fromBlock}..${scenario.toBlock} ` +
      `(${accounts} accounts, ~${perBlock} txs/block, seed ${seed}) in ${secs(t)} s`,
  )

  const db = await createRandomDatabase(adminUrl, 'deai_bench_api')
  if (flag('keep-database')) console.log(`keeping database ${db.name} (--keep-database): reuse it with --database-url`)
  else cleanup.push(() => db.drop())
  await applyMigrations(db.url)
  t = Date.now()
  const proc = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
  try {
    await proc.waitForHeight(scenario.toBlock, 600_000)
  } finally {
    await proc.stop()
  }
  console.log(`indexed to block ${scenario.toBlock} by the processor in ${secs(t)} s`)
  // Nothing writes during the measurements: anvil is idle and the processor stopped.

  t = Date.now()
  const duckDb = await openAnalyticsDb(IN_MEMORY)
  const pg = new Pool({connectionString: db.url, max: 4})
  try {
    const run = await refreshAnalytics({
      duck: await duckDb.connect(),
      pg,
      contracts: parseContractsConfig(contractsConfig(deployment)),
    })
    console.log(`analytics: ${run.metricValues} metric values at block(s) ${run.blocks.join(', ')} in ${secs(t)} s`)
  } finally {
    duckDb.close()
    await pg.end()
  }
  return db.url
}

/**
 * VACUUM (ANALYZE) the whole database before measuring. Right after a bulk ingest, autovacuum has not run yet:
 * token_holder, updated in place by every transfer, carries ~35 dead index entries per live row, and no table has
 * planner statistics. A deployed index is vacuumed by autovacuum within minutes; both servers read the same tables.
 */
async function vacuumAnalyze(url: string): Promise<void> {
  const t = Date.now()
  const c = new Client({connectionString: url})
  await c.connect()
  try {
    await c.query('VACUUM (ANALYZE)')
  } finally {
    await c.end()
  }
  console.log(`VACUUM (ANALYZE) in ${secs(t)} s`)
}

/**
 * autocannon stops counting at the deadline, but requests still queued in a server keep their statements running;
 * wait until no other session of the database is active so they do not weigh on the next measurement.
 */
async function drain(url: string): Promise<void> {
  const c = new Client({connectionString: url})
  await c.connect()
  try {
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      const {rows} = await c.query(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`,
      )
      if (Number(rows[0].n) === 0) return
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    await c.end()
  }
}

interface Params {
  events: number
  head: number
  token: string
  proposal: string
  voteCount: number
  metric: {metric: string; distribution: string; scopeKind: string; scopeId: string; points: number; synthetic: number}
  trailAddress: string
  trailEvents: number
  vpDelegate: string
  vpChanges: number
  atBlock: number
}

/** Chooses the queries' arguments from the data, and pads the metric series with synthetic points (see the header). */
async function pickParameters(url: string, metricPoints: number): Promise<Params> {
  const c = new Client({connectionString: url})
  await c.connect()
  try {
    const one = async (sql: string, values: unknown[] = []) => {
      const r = (await c.query(sql, values)).rows[0]
      if (!r) throw new Error(`no data for: ${sql}`)
      return r
    }
    const {height: head} = await readIndexStatus(c)
    const events = Number((await one(`SELECT count(*) AS n FROM audit_event`)).n)
    const token = (await one(`SELECT id FROM token ORDER BY transfer_count DESC LIMIT 1`)).id as string
    const prop = await one(`SELECT proposal_id AS id, count(*) AS n FROM vote GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`)
    // The busiest voting-power history: the delegate the dashboards show first.
    const vp = await one(`SELECT delegate, count(*) AS n FROM voting_power_change GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`)
    // An ordinary active account, not a whale nor a contract: the median sender among addresses with ≥ 20 transfers out
    // that emitted no event themselves (a contract's trail also holds its own events, which OpenReader's by-argument
    // query cannot find, so the two answers would differ).
    const trail = await one(
      `WITH s AS (SELECT "from" AS a, count(*) AS n FROM transfer WHERE "from" <> '0x0000000000000000000000000000000000000000'
                    AND "from" NOT IN (SELECT DISTINCT contract FROM audit_event)
                  GROUP BY 1 HAVING count(*) >= 20)
       SELECT a, n FROM s ORDER BY n, a OFFSET (SELECT count(*) / 2 FROM s) LIMIT 1`,
    )
    const series = await one(
      `SELECT metric, distribution, scope_kind, scope_id FROM metric_value WHERE scope_kind = 'token' AND distribution = 'balances'
       ORDER BY (metric = 'concentration.gini') DESC, metric LIMIT 1`,
    )
    const key = [series.metric, series.distribution, series.scope_kind, series.scope_id]
    const where = `metric = $1 AND distribution = $2 AND scope_kind = $3 AND scope_id = $4`
    const have = Number((await one(`SELECT count(*) AS n FROM metric_value WHERE ${where}`, key)).n)
    let synthetic = Number((await one(`SELECT count(*) AS n FROM metric_value WHERE ${where} AND job_version = 'bench-synthetic'`, key)).n)
    if (have < metricPoints) {
      const added = await c.query(
        `INSERT INTO metric_value (id, metric, distribution, scope_kind, scope_id, as_of_block, value, value_exact,
           input_from_block, input_to_block, input_row_count, input_digest, sql_digest, job_version, computed_at)
         SELECT m.metric || '/' || m.distribution || '/' || m.scope_kind || '/' || m.scope_id || '/' || b, m.metric, m.distribution,
           m.scope_kind, m.scope_id, b, m.value, m.value_exact, m.input_from_block, b, m.input_row_count, m.input_digest,
           m.sql_digest, 'bench-synthetic', m.computed_at
         FROM (SELECT * FROM metric_value WHERE ${where} ORDER BY as_of_block DESC LIMIT 1) m
         CROSS JOIN LATERAL (
           SELECT b FROM generate_series(m.as_of_block - 1, 0, -1) AS b
           WHERE NOT EXISTS (SELECT 1 FROM metric_value x WHERE x.metric = m.metric AND x.distribution = m.distribution
                             AND x.scope_kind = m.scope_kind AND x.scope_id = m.scope_id AND x.as_of_block = b)
           LIMIT $5) g`,
        [...key, metricPoints - have],
      )
      synthetic += added.rowCount ?? 0
    }
    const points = Number((await one(`SELECT count(*) AS n FROM metric_value WHERE ${where}`, key)).n)
    if (points < metricPoints) throw new Error(`metric series has only ${points} points (head block too low?)`)
    return {
      events,
      head,
      token,
      proposal: prop.id,
      voteCount: Number(prop.n),
      metric: {metric: series.metric, distribution: series.distribution, scopeKind: series.scope_kind, scopeId: series.scope_id, points, synthetic},
      trailAddress: trail.a,
      trailEvents: Number(trail.n),
      vpDelegate: vp.delegate,
      vpChanges: Number(vp.n),
      atBlock: Math.floor(head / 2),
    }
  } finally {
    await c.end()
  }
}


// ---------------------------------------------------------------------------------------------------------------
// OpenReader

/**
 * @subsquid/graphql-server depends on graphql 15 (installed nested under it and under @subsquid/openreader), while
 * the @graphql-tools packages it uses are hoisted next to our graphql 16: as installed, it fails at start-up with
 * "Cannot use GraphQLObjectType "Query" from another module or realm". In a squid of its own graphql 15 is the only
 * copy; this preload gives the child process exactly that, resolving every `graphql` import to graphql-server's copy.
 */
const GRAPHQL15_PRELOAD = `
const Module = require('module')
const dir = process.env.OPENREADER_GRAPHQL_DIR
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (request === 'graphql' || request.startsWith('graphql/')) request = dir + request.slice('graphql'.length)
  return resolve.call(this, request, ...rest)
}
`

async function startOpenReader(dbUrl: string, cleanup: Cleanup): Promise<{url: string}> {
  const pkg = require.resolve('@subsquid/graphql-server/package.json')
  const bin = path.join(path.dirname(pkg), 'bin', 'run.js')
  const graphql15 = path.dirname(require.resolve('graphql/package.json', {paths: [path.dirname(pkg)]}))
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-bench-openreader-'))
  cleanup.push(async () => rmSync(tmp, {recursive: true, force: true}))
  const preload = path.join(tmp, 'graphql15.js')
  writeFileSync(preload, GRAPHQL15_PRELOAD)
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {...process.env, DB_URL: dbUrl, GQL_PORT: String(port), GQL_DB_CONNECTION_POOL_SIZE: '10', OPENREADER_GRAPHQL_DIR: graphql15}
  for (const name of ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASS', 'GRAPHQL_SERVER_PORT']) delete env[name]
  // cwd = the project: OpenReader reads ./schema.graphql.
  const child: ChildProcess = spawn(process.execPath, ['-r', preload, bin], {cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)))
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  cleanup.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  })
  const url = `http://127.0.0.1:${port}/graphql`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`OpenReader exited during start-up:\n${out}`)
    try {
      const r = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"query":"{ __typename }"}'})
      if (r.ok) return {url}
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`OpenReader did not answer within 30 s:\n${out}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function waitForGraphql(url: string, name: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      const r = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"query":"{ __typename }"}'})
      if (r.ok) return
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer at ${url}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** An answer as received: the bytes on the wire, their Content-Encoding, and the JSON text they decode to. */
interface Wire {
  wire: Buffer
  contentEncoding?: string
  text: string
}


/**
 * The first answer of a query: must be HTTP 200, no `errors`, and `nonEmpty(data)` true (a benchmark of error
 * responses, or of empty lists, measures nothing). Returns its bytes, which every measured response must equal.
 */
async function firstAnswer(url: string, body: string, headers: Record<string, string>, what: string, nonEmpty: (data: any) => number): Promise<Wire> {
  const r = await rawRequest(url, 'POST', headers, body)
  const contentEncoding = typeof r.headers['content-encoding'] === 'string' ? r.headers['content-encoding'] : undefined
  if (contentEncoding !== undefined && contentEncoding !== 'gzip') throw new Error(`${what}: answered with Content-Encoding ${contentEncoding}`)
  const text = (contentEncoding === 'gzip' ? gunzipSync(r.body) : r.body).toString('utf8')
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error(`${what}: HTTP ${r.status}, not JSON: ${text.slice(0, 500)}`)
  }
  if (r.status !== 200 || json.errors || !json.data) throw new Error(`${what}: HTTP ${r.status}: ${text.slice(0, 1000)}`)
  const n = nonEmpty(json.data)
  if (!(n > 0)) throw new Error(`${what}: empty answer: ${text.slice(0, 500)}`)
  console.log(`  checked ${what}: ${n} items, ${wireSize({wire: r.body, contentEncoding, text})}`)
  return {wire: r.body, contentEncoding, text}
}

/** "29,600 bytes gzip (323,707 as JSON)" or "323,707 bytes". */
function wireSize(a: Wire): string {
  const n = (x: number) => x.toLocaleString('en-US')
  return a.contentEncoding ? `${n(a.wire.length)} bytes ${a.contentEncoding} (${n(Buffer.byteLength(a.text))} as JSON)` : `${n(a.wire.length)} bytes`
}

/** Both servers' first answers to a query hold the same rows in the same order (see ServerQuery.rows). */
async function checkEquivalent(q: Query, ours: string, openReader: string): Promise<void> {
  const rowsOf = async (url: string, sq: ServerQuery) => {
    const r = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({query: sq.query, variables: sq.variables})})
    const json = (await r.json()) as {data?: unknown}
    return sq.rows!(json.data)
  }
  const [a, b] = await Promise.all([rowsOf(ours, q.ours), rowsOf(openReader, q.openReader!)])
  const firstDiff = a.findIndex((row, i) => row !== b[i])
  if (a.length !== b.length || firstDiff >= 0) {
    throw new Error(`${q.name}: the servers' answers differ (ours ${a.length} rows, OpenReader ${b.length}; first difference at ${firstDiff}: ${a[firstDiff]} vs ${b[firstDiff]})`)
  }
  console.log(`  equivalent: ${q.name}: both servers return the same ${a.length} rows in the same order`)
}

// ---------------------------------------------------------------------------------------------------------------
// Queries: the same information from each server, in that server's own schema.

interface ServerQuery {
  query: string
  variables: Record<string, unknown>
  /** Number of items of the answer's main list (must be > 0). */
  nonEmpty: (data: any) => number
  /** The answer's rows as comparable text (ids and values, addresses lowercased), in order: the equivalent queries of
   *  both servers must give the same list, or the comparison would measure different work. */
  rows?: (data: any) => string[]
}
interface Query {
  name: string
  ours: ServerQuery
  /** Absent: OpenReader has no equivalent (printed without a ratio). */
  openReader?: ServerQuery
  note?: string
}

function buildQueries(p: Params): Query[] {
  const votes = Math.min(p.voteCount, 1000)
  const vpPage = Math.min(p.vpChanges, 1000)
  const trailPage = 50
  const low = (v: string | null | undefined) => (v ?? '').toLowerCase()
  const topHoldersOurs = `query($token: Address!, $atBlock: Int) {
    topHolders(token: $token, by: BALANCE, atBlock: $atBlock, first: 100) {
      asOfBlock total
      edges { node { address balance votes delegate share } }
    }
  }`
  return [
    {
      name: 'top-100 holders (head)',
      ours: {
        query: topHoldersOurs,
        variables: {token: p.token, atBlock: null},
        nonEmpty: (d) => d.topHolders.edges.length,
        rows: (d) => d.topHolders.edges.map((e: any) => `${low(e.node.address)} ${e.node.balance} ${e.node.votes} ${low(e.node.delegate)}`),
      },
      // Ties by id DESC = by account DESC within one token: our order (balance, address) DESC.
      openReader: {
        query: `query($token: String!) {
          tokenHolders(where: {token: {id_eq: $token}, balance_gt: "0"}, orderBy: [balance_DESC, id_DESC], limit: 100) {
            account { id } balance votes delegate
          }
        }`,
        variables: {token: p.token},
        nonEmpty: (d) => d.tokenHolders.length,
        rows: (d) => d.tokenHolders.map((h: any) => `${low(h.account.id)} ${h.balance} ${h.votes} ${low(h.delegate)}`),
      },
    },
    {
      name: `proposal + all ${votes} votes`,
      ours: {
        query: `query($id: ID!, $n: Int!) {
          proposal(id: $id) {
            id proposalId proposer description state
            tallies { forVotes againstVotes abstainVotes voteCount }
            votes(orderBy: WEIGHT_DESC, first: $n) { edges { node { id voter support weight reason blockNumber txHash } } }
          }
        }`,
        variables: {id: p.proposal, n: votes},
        nonEmpty: (d) => d.proposal?.votes.edges.length ?? 0,
        rows: (d) => [
          `${d.proposal.id} ${d.proposal.tallies.forVotes} ${d.proposal.tallies.againstVotes} ${d.proposal.tallies.abstainVotes}`,
          ...d.proposal.votes.edges.map((e: any) => `${e.node.id} ${low(e.node.voter)} ${e.node.weight} ${e.node.blockNumber}`),
        ],
      },
      openReader: {
        // schema.graphql declares no Proposal.votes (@derivedFrom): the votes are a second root field.
        query: `query($id: String!, $n: Int!) {
          proposalById(id: $id) { id proposalId proposer description state forVotes againstVotes abstainVotes voteCount }
          votes(where: {proposal: {id_eq: $id}}, orderBy: [weight_DESC, id_DESC], limit: $n) {
            id voter support weight reason blockNumber txHash
          }
        }`,
        variables: {id: p.proposal, n: votes},
        nonEmpty: (d) => (d.proposalById ? d.votes.length : 0),
        rows: (d) => [
          `${d.proposalById.id} ${d.proposalById.forVotes} ${d.proposalById.againstVotes} ${d.proposalById.abstainVotes}`,
          ...d.votes.map((v: any) => `${v.id} ${low(v.voter)} ${v.weight} ${v.blockNumber}`),
        ],
      },
    },
    {
      name: `metric series, 1000 points`,
      ours: {
        query: `query($w: MetricFilter!) {
          metricValues(where: $w, first: 1000) {
            edges { node { id asOfBlock value valueExact inputFromBlock inputToBlock inputRowCount inputDigest jobVersion } }
          }
        }`,
        variables: {w: {metric: p.metric.metric, distribution: p.metric.distribution, scopeKind: p.metric.scopeKind, scopeId: p.metric.scopeId}},
        nonEmpty: (d) => d.metricValues.edges.length,
        rows: (d) => d.metricValues.edges.map((e: any) => `${e.node.id} ${e.node.asOfBlock} ${e.node.valueExact} ${e.node.inputDigest}`),
      },
      openReader: {
        query: `query($m: String!, $d: String!, $k: String!, $s: String!) {
          metricValues(where: {metric_eq: $m, distribution_eq: $d, scopeKind_eq: $k, scopeId_eq: $s},
                       orderBy: [asOfBlock_ASC, id_ASC], limit: 1000) {
            id asOfBlock value valueExact inputFromBlock inputToBlock inputRowCount inputDigest jobVersion
          }
        }`,
        variables: {m: p.metric.metric, d: p.metric.distribution, k: p.metric.scopeKind, s: p.metric.scopeId},
        nonEmpty: (d) => d.metricValues.length,
        rows: (d) => d.metricValues.map((m: any) => `${m.id} ${m.asOfBlock} ${m.valueExact} ${m.inputDigest}`),
      },
    },
    {
      name: `audit trail page (${trailPage})`,
      ours: {
        query: `query($a: Address!, $n: Int!) {
          auditTrail(address: $a, first: $n) {
            edges { node { id blockNumber txHash logIndex contract eventName args } }
            pageInfo { hasNextPage endCursor }
          }
        }`,
        variables: {a: p.trailAddress, n: trailPage},
        nonEmpty: (d) => d.auditTrail.edges.length,
        rows: (d) => d.auditTrail.edges.map((e: any) => `${e.node.id} ${e.node.eventName} ${e.node.txHash}`),
      },
      // OpenReader's only way to find an address's events in the audit log: the decoded args, by the same argument
      // names the typed tables cover (audit-sql.ts), in chain order.
      openReader: {
        query: `query($where: [AuditEventWhereInput!], $n: Int!) {
          auditEvents(where: {OR: $where}, orderBy: id_ASC, limit: $n) {
            id blockNumber txHash logIndex contract eventName args
          }
        }`,
        variables: {
          where: ['from', 'to', 'delegator', 'fromDelegate', 'toDelegate', 'delegate', 'voter', 'proposer', 'owner', 'publisher', 'contributor', 'validator', 'funder', 'recipient'].map(
            (k) => ({args_jsonContains: {[k]: p.trailAddress}}),
          ),
          n: trailPage,
        },
        nonEmpty: (d) => d.auditEvents.length,
        rows: (d) => d.auditEvents.map((e: any) => `${e.id} ${e.eventName} ${e.txHash}`),
      },
    },
    {
      name: `voting-power history (${vpPage})`,
      ours: {
        query: `query($a: Address!, $n: Int!) {
          account(address: $a) {
            votingPowerHistory(first: $n) { edges { node { id token previousVotes newVotes blockNumber txHash } } }
          }
        }`,
        variables: {a: p.vpDelegate, n: vpPage},
        nonEmpty: (d) => d.account.votingPowerHistory.edges.length,
        rows: (d) => d.account.votingPowerHistory.edges.map((e: any) => `${e.node.id} ${low(e.node.token)} ${e.node.previousVotes} ${e.node.newVotes}`),
      },
      openReader: {
        query: `query($a: String!, $n: Int!) {
          votingPowerChanges(where: {delegate_eq: $a}, orderBy: [blockNumber_ASC, id_ASC], limit: $n) {
            id token previousVotes newVotes blockNumber txHash
          }
        }`,
        variables: {a: p.vpDelegate, n: vpPage},
        nonEmpty: (d) => d.votingPowerChanges.length,
        rows: (d) => d.votingPowerChanges.map((v: any) => `${v.id} ${low(v.token)} ${v.previousVotes} ${v.newVotes}`),
      },
    },
    {
      name: `top-100 holders atBlock ${p.atBlock}`,
      ours: {query: topHoldersOurs, variables: {token: p.token, atBlock: p.atBlock}, nonEmpty: (d) => d.topHolders.edges.length},
      note: 'no OpenReader equivalent (no time travel)',
    },
  ]
}

// ---------------------------------------------------------------------------------------------------------------
// Report

interface Row {
  query: string
  server: Server
  /** What the requests asked for (Accept-Encoding: gzip, or none). */
  encoding: Encoding
  /** The answer every measured response had to equal, byte for byte. */
  answer: Wire
  r: AutocannonResult
  /** Response-cache outcomes during the run (ours with the cache only); `fast` of the hits without yoga. */
  hitRatio?: {hits: number; fast: number; operations: number}
}

type CacheCounts = Record<'fast' | 'hit' | 'coalesced' | 'miss' | 'bypassed' | 'version_unavailable', number>

/** The response cache's operation counts, from our server's /metrics (deai_api_response_cache_operations_total). */
async function cacheCounts(baseUrl: string): Promise<CacheCounts> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text()
  const counts: CacheCounts = {fast: 0, hit: 0, coalesced: 0, miss: 0, bypassed: 0, version_unavailable: 0}
  for (const m of text.matchAll(/^deai_api_response_cache_operations_total\{outcome="(\w+)"\} (\d+)$/gm)) {
    if (m[1]! in counts) counts[m[1] as keyof CacheCounts] = Number(m[2])
  }
  return counts
}

function hitRatioSince(before: CacheCounts, after: CacheCounts): {hits: number; fast: number; operations: number} {
  const delta = (k: keyof CacheCounts) => after[k] - before[k]
  // Coalesced answers ran no resolver either: they count as hits; so do the fast path's (no yoga at all).
  const hits = delta('fast') + delta('hit') + delta('coalesced')
  return {hits, fast: delta('fast'), operations: hits + delta('miss') + delta('bypassed') + delta('version_unavailable')}
}

const percent = (part: number, whole: number) => `${((100 * part) / Math.max(1, whole)).toFixed(2)} %`

function printTable(rows: Row[], queries: Query[], encodings: Encoding[], connections: number, duration: number): void {
  const header = ['query', 'encoding', 'server', 'wire bytes', 'p50 ms', 'p99 ms', 'req/s', 'errors/non-2xx/mismatch', 'cache hits (fast path)', 'req/s vs OpenReader']
  const numeric = new Set([3, 4, 5, 6])
  const lines: string[][] = []
  const verdicts = new Map<Encoding, string[]>()
  const pass = new Map<Encoding, boolean>()
  for (const q of queries) {
    for (const encoding of encodings) {
      const of = (server: Server) => rows.find((r) => r.query === q.name && r.encoding === encoding && r.server === server)
      const theirs = of('OpenReader')
      const ratioTo = (row: Row | undefined) => (row && theirs ? row.r.requests.average / theirs.r.requests.average : undefined)
      for (const row of [of(CACHED), of(UNCACHED), of(FLOOR), theirs]) {
        if (!row) continue
        const bad = row.r.errors + row.r.timeouts + row.r.non2xx + row.r.mismatches
        const ratio = ratioTo(row)
        lines.push([
          q.name,
          encoding,
          row.server,
          `${row.answer.wire.length.toLocaleString('en-US')}${row.answer.contentEncoding ? ` ${row.answer.contentEncoding}` : ''}`,
          String(row.r.latency.p50),
          String(row.r.latency.p99),
          row.r.requests.average.toFixed(0),
          `${row.r.errors + row.r.timeouts}/${row.r.non2xx}/${row.r.mismatches}${bad > 0 ? ' !' : ''}`,
          row.hitRatio ? `${percent(row.hitRatio.hits, row.hitRatio.operations)} (${percent(row.hitRatio.fast, row.hitRatio.operations)})` : '',
          row.server === 'OpenReader' || row.server === FLOOR ? '' : ratio !== undefined ? `${ratio.toFixed(2)}×` : (q.note ?? '–'),
        ])
      }
      // The verdict is for the server as served: with the response cache.
      const ours = of(CACHED)
      if (!ours) continue
      const ratio = ratioTo(ours)
      const clean = ours.r.errors + ours.r.timeouts + ours.r.non2xx + ours.r.mismatches === 0
      const p99ok = ours.r.latency.p99 < TARGET_P99_MS && clean
      const thrOk = ratio === undefined ? undefined : ratio >= 1
      pass.set(encoding, (pass.get(encoding) ?? true) && p99ok && thrOk !== false)
      const uncached = of(UNCACHED)
      const floor = of(FLOOR)
      if (!verdicts.has(encoding)) verdicts.set(encoding, [])
      verdicts.get(encoding)!.push(
        `${q.name} (${wireSize(ours.answer)}): p99 ${ours.r.latency.p99} ms ${p99ok ? 'PASS' : 'FAIL'}` +
          (thrOk === undefined ? '' : `, throughput ${ratio!.toFixed(2)}× OpenReader ${thrOk ? 'PASS' : 'FAIL'}`) +
          (clean ? '' : ' (errors or changed answers during the run)') +
          (uncached ? ` [no cache: p99 ${uncached.r.latency.p99} ms, ${uncached.r.requests.average.toFixed(0)} req/s]` : '') +
          (floor ? ` [node:http floor, same ${floor.answer.wire.length} bytes: p99 ${floor.r.latency.p99} ms, ${floor.r.requests.average.toFixed(0)} req/s]` : '') +
          (theirs ? ` [OpenReader sent ${wireSize(theirs.answer)}]` : ''),
      )
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const fmt = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')
  console.log(`\nautocannon: ${connections} connections, ${duration} s per query, encoding and server, POST JSON`)
  console.log(
    `"gzip" rows send Accept-Encoding: gzip (what browsers, fetch and curl --compressed send) to every server; "identity" rows send none. ` +
      `"wire bytes" is the body as sent (gzip: compressed). ` +
      `"${CACHED}" repeats one fixed query over unchanged data: after the first request every answer is a cache hit, almost ` +
      `all by the fast path before yoga, so it measures the hit path (polling dashboards); "${UNCACHED}" computes (and compresses) every answer; "${FLOOR}" is a bare node:http ` +
      `server sending our answer's bytes (no GraphQL, no database, no compression): the best any Node server can do on this machine.`,
  )
  console.log(fmt(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const l of lines) console.log(fmt(l))
  for (const encoding of encodings) {
    console.log(
      `\ntargets with ${encoding === 'gzip' ? 'Accept-Encoding: gzip' : 'no Accept-Encoding (identity)'} (server as served, cache on): ` +
        `p99 < ${TARGET_P99_MS} ms at ${connections} connections; req/s ≥ OpenReader's on every equivalent query`,
    )
    for (const v of verdicts.get(encoding) ?? []) console.log(`  ${v}`)
    console.log(`summary (${encoding}): ${pass.get(encoding) === false ? 'FAIL' : 'PASS'}`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
