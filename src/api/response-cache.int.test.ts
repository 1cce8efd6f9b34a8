import {randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Client, Pool} from 'pg'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {dropResultsAbove} from '../analytics/jobs/results'
import {startEmbeddedPostgres} from '../db/embedded'
import {applyMigrations} from '../db/migrate'
import {type TestDatabase, testAdminUrl, withTestDatabase} from '../test-support/pg'
import {createApiPool} from './db'
import {INDEX_STATUS_MAX_AGE_MS} from './index-status'
import {QUERY_LIMITS} from './limits'
import {ensureReadOnlyRole} from './readonly-role'
import {countingPool,
  gql,
  TEST_API_CONFIG,
  TEST_METRIC as METRIC,
  TEST_PROCESSOR_SCHEMA as PROCESSOR_SCHEMA,
  testMetric as metric,
  writeTestMetrics as write, dropTestRole, responseCacheCounters} from './testing'
import {type Api, createApi} from './yoga'

/**
 * The response cache (response-cache.ts, data-version.ts) against a real Postgres, served as the read-only role
 * (which must be able to read the data version). The status and version caches run on a clock the tests move by
 * hand, so "within the 1 s bound" and "after it" are exact rather than timing-dependent.
 */
const SERIES = `query Series($m: String!, $n: Int) {
  metricValues(where: {metric: $m}, first: $n) { totalCount edges { node { id asOfBlock value } } }
}`
/** An API over `url` whose every statement is counted, on a clock the test moves. */
function countedApi(url: string, cacheMb = TEST_API_CONFIG.API_RESPONSE_CACHE_MB) {
  const pool = createApiPool(url, {statementTimeoutMs: 5000})
  pool.on('error', () => undefined)
  const counter = {statements: 0, clock: 1_000_000}
  const api = createApi({pool: countingPool(pool, counter), config: {...TEST_API_CONFIG, API_RESPONSE_CACHE_MB: cacheMb}, now: () => counter.clock})
  return {api, pool, counter, age: () => void (counter.clock += INDEX_STATUS_MAX_AGE_MS)}
}

/** Statements run by `f`. */
async function statementsOf(counter: {statements: number}, f: () => unknown): Promise<number> {
  const before = counter.statements
  await f()
  return counter.statements - before
}

async function cacheMetrics(api: Api): Promise<Record<string, number>> {
  return responseCacheCounters(await (await api.fetch('http://api.test/metrics')).text())
}

describe('response cache', () => {
  let db: TestDatabase
  let admin: Pool
  let readOnlyUrl: string
  const role = `deai_ro_cache_${randomBytes(4).toString('hex')}`
  let t: ReturnType<typeof countedApi>

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'api_cache'})
    admin = new Pool({connectionString: db.url, max: 2})
    // The database is dropped WITH (FORCE) after the pool ends: a client still closing gets a FATAL, ignored here.
    admin.on('error', () => undefined)
    await admin.query(PROCESSOR_SCHEMA)
    await write(admin, metric(1, 0.1), metric(2, 0.2), metric(3, 0.3))
    readOnlyUrl = await ensureReadOnlyRole(testAdminUrl(), db.name, role, randomBytes(12).toString('hex'))
  })
  // A new API (empty cache, clock at its start) per test; the data carries over from test to test.
  beforeEach(() => {
    t = countedApi(readOnlyUrl)
  })
  afterEach(() => t.pool.end())
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
    await dropTestRole(role)
  })

  const series = async (api = t.api, variables: Record<string, unknown> = {m: METRIC}) => {
    const r = await gql(api, SERIES, variables)
    expect(r.errors).toBeUndefined()
    return r
  }
  const ids = (r: {data?: any}) => r.data.metricValues.edges.map((e: {node: {id: string}}) => e.node.id.split('/').pop())

  it('answers a repeated query from the cache: the identical body, and not one statement', async () => {
    const first = await series()
    expect(ids(first)).toEqual(['1', '2', '3'])
    let again: Awaited<ReturnType<typeof series>> | undefined
    expect(await statementsOf(t.counter, async () => (again = await series()))).toBe(0)
    expect(again!.raw).toBe(first.raw)
    expect(again!.status).toBe(200)
    // Once the version is a second old it is read again (one statement for all requests); unchanged: still a hit.
    t.age()
    expect(await statementsOf(t.counter, () => series())).toBe(1)
    expect(await statementsOf(t.counter, () => series())).toBe(0)
    expect(await cacheMetrics(t.api)).toMatchObject({hit: 3, miss: 1, stored_total: 1})
  })

  it('recomputes after a processor commit once the cached version is 1 s old, never later', async () => {
    expect(ids(await series())).toEqual(['1', '2', '3'])
    // A commit: data and status in one transaction, as the processor does (no analytics write, no version bump).
    await admin.query(`BEGIN;
      INSERT INTO metric_value (id, metric, distribution, scope_kind, scope_id, as_of_block, value, input_from_block, input_to_block,
        input_row_count, input_digest, sql_digest, job_version, computed_at)
      SELECT replace(id, '/3', '/4'), metric, distribution, scope_kind, scope_id, 4, 0.4, 0, 4, 1, 'd', 's', job_version, computed_at
      FROM metric_value WHERE metric = '${METRIC}' AND as_of_block = 3;
      UPDATE squid_processor.status SET height = 11, hash = '0x0b', nonce = nonce + 1;
      COMMIT`)
    // Within the bound the cached answer may still be served (that is the documented staleness) ...
    expect(ids(await series())).toEqual(['1', '2', '3'])
    t.age()
    // ... and not after it.
    expect(ids(await series())).toEqual(['1', '2', '3', '4'])
  })

  it('recomputes after a hot-block rollback at the same height (same height, other hash)', async () => {
    await admin.query(`INSERT INTO squid_processor.hot_block VALUES (12, '0x0c')`)
    t.age()
    const before = ids(await series())
    expect(before).toContain('4')
    // The fork's block 12 no longer holds what the old one wrote; the top hot block keeps its height.
    await admin.query(`BEGIN; DELETE FROM metric_value WHERE as_of_block = 4; UPDATE squid_processor.hot_block SET hash = '0x0d' WHERE height = 12; COMMIT`)
    expect(ids(await series())).toEqual(before)
    t.age()
    expect(ids(await series())).toEqual(['1', '2', '3'])
  })

  it('recomputes after writeResults and dropResultsAbove (the analytics version), with no processor commit', async () => {
    expect(ids(await series())).toEqual(['1', '2', '3'])
    await write(admin, metric(5, 0.5))
    t.age()
    expect(ids(await series())).toEqual(['1', '2', '3', '5'])
    await dropResultsAbove(admin, 3)
    t.age()
    expect(ids(await series())).toEqual(['1', '2', '3'])
    // The write bumped the counter in its own transaction, the drop after its deletes.
    const version = async () => Number((await admin.query(`SELECT version::int AS v FROM analytics_state`)).rows[0].v)
    const afterDrop = await version()
    expect(afterDrop).toBeGreaterThanOrEqual(3)
    // A drop that removes nothing (every refresh of a chain whose head is final) leaves the cached answers valid.
    await dropResultsAbove(admin, 3)
    expect(await version()).toBe(afterDrop)
  })

  it('computes identical requests arriving together once; the others wait for its answer', async () => {
    const alone = countedApi(readOnlyUrl)
    let once: number
    try {
      once = await statementsOf(alone.counter, () => series(alone.api))
    } finally {
      await alone.pool.end()
    }
    expect(once).toBeGreaterThan(1) // the version read and the page
    let answers: Awaited<ReturnType<typeof series>>[] = []
    expect(await statementsOf(t.counter, async () => (answers = await Promise.all(Array.from({length: 8}, () => series()))))).toBe(once)
    expect(new Set(answers.map((a) => a.raw)).size).toBe(1)
    const m = await cacheMetrics(t.api)
    expect(m.miss).toBe(1)
    expect(m.coalesced! + m.hit!).toBe(7)
  })

  it('never caches an answer with errors', async () => {
    const partial = `query($m: String!) { ok: metricValues(where: {metric: $m}, first: 10) { totalCount } bad: lorenzCurve(distribution: "balances", scopeKind: "token", scopeId: "x", atBlock: -1) { __typename } }`
    for (let i = 0; i < 2; i++) {
      let r: Awaited<ReturnType<typeof gql>> | undefined
      // Every time, the good half is computed again (SQL runs): the answer with an error was not stored.
      expect(await statementsOf(t.counter, async () => (r = await gql(t.api, partial, {m: METRIC})))).toBeGreaterThan(0)
      expect(r!.data).toEqual({ok: {totalCount: 3}, bad: null})
      expect(r!.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    }
    expect(await cacheMetrics(t.api)).toMatchObject({miss: 2, stored_total: 0})
  })

  it('never caches indexStatus, alone or beside other fields', async () => {
    expect((await gql(t.api, `{ indexStatus { height } }`)).data.indexStatus.height).toBe(12)
    await admin.query(`DELETE FROM squid_processor.hot_block`)
    // No clock move: indexStatus reads afresh.
    expect((await gql(t.api, `{ indexStatus { height } }`)).data.indexStatus.height).toBe(11)
    const mixed = `query($m: String!) { indexStatus { height } metricValues(where: {metric: $m}) { totalCount } }`
    await gql(t.api, mixed, {m: METRIC})
    expect(await statementsOf(t.counter, () => gql(t.api, mixed, {m: METRIC}))).toBeGreaterThan(0)
    // Through a fragment too.
    const viaFragment = `query { ...F } fragment F on Query { indexStatus { hash } }`
    await gql(t.api, viaFragment)
    expect(await statementsOf(t.counter, () => gql(t.api, viaFragment))).toBeGreaterThan(0)
    expect(await cacheMetrics(t.api)).toMatchObject({bypassed: 6, stored_total: 0})
  })

  it('keys by variables (in any key order) and operationName', async () => {
    await write(admin, metric(1, 9, 'other.metric'))
    t.age()
    const a = await series(t.api, {m: METRIC, n: 2})
    const b = await series(t.api, {m: 'other.metric', n: 2})
    expect(ids(a)).toEqual(['1', '2'])
    expect(ids(b)).toEqual(['1'])
    expect(b.data.metricValues.edges[0].node.value).toBe(9)
    // The same variables in another order: the same entry.
    expect(await statementsOf(t.counter, async () => expect((await series(t.api, {n: 2, m: METRIC})).raw).toBe(a.raw))).toBe(0)

    const two = `query A { metricValues(where: {metric: "${METRIC}"}) { totalCount } } query B { metricValues(where: {metric: "other.metric"}) { totalCount } }`
    const post = async (operationName: string) =>
      (await t.api.fetch('http://api.test/graphql', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({query: two, operationName})})).json()
    expect(await post('A')).toEqual({data: {metricValues: {totalCount: 3}}})
    expect(await post('B')).toEqual({data: {metricValues: {totalCount: 1}}})
    expect(await post('A')).toEqual({data: {metricValues: {totalCount: 3}}})
  })

  it('holds at most API_RESPONSE_CACHE_MB: the least recently used answers are evicted, large ones not stored', async () => {
    // ~0.3 KB per entry (key at 2 bytes per character, UTF-8 body): 16 KB holds a few dozen, not 100.
    const small = countedApi(readOnlyUrl, 16 / 1024)
    try {
      const q = `query($m: String!, $n: Int) { metricValues(where: {metric: $m}, first: $n) { totalCount } }`
      for (let n = 1; n <= 100; n++) await gql(small.api, q, {m: METRIC, n})
      const m = await cacheMetrics(small.api)
      expect(m.stored_total).toBe(100)
      expect(m.bytes).toBeGreaterThan(8 * 1024)
      expect(m.bytes).toBeLessThanOrEqual(16 * 1024)
      // The most recent is there, the oldest was evicted.
      expect(await statementsOf(small.counter, () => gql(small.api, q, {m: METRIC, n: 100}))).toBe(0)
      expect(await statementsOf(small.counter, () => gql(small.api, q, {m: METRIC, n: 1}))).toBeGreaterThan(0)
      // An answer over the per-entry cap (1/16 of the cache, 1 KB here) is served but never stored.
      const big = `query($m: String!) { metricValues(where: {metric: $m}) { edges { node {
        id metric distribution scopeKind scopeId asOfBlock value valueExact inputFromBlock inputToBlock inputRowCount inputDigest sqlDigest jobVersion computedAt } } } }`
      expect((await gql(small.api, big, {m: METRIC})).raw.length).toBeGreaterThan(1024)
      expect(await statementsOf(small.counter, () => gql(small.api, big, {m: METRIC}))).toBeGreaterThan(0)
    } finally {
      await small.pool.end()
    }
  })

  it('sends a hit with the same status, Content-Type and bytes as without a cache, whatever the Accept header', async () => {
    const off = countedApi(readOnlyUrl, 0)
    try {
      const ask = async (api: Api, accept: string | undefined) => {
        const headers: Record<string, string> = {'content-type': 'application/json'}
        if (accept !== undefined) headers.accept = accept
        const res = await api.fetch('http://api.test/graphql', {method: 'POST', headers, body: JSON.stringify({query: SERIES, variables: {m: METRIC}})})
        return {status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()).toString('hex')}
      }
      await ask(t.api, undefined) // stored
      for (const accept of [undefined, '', '*/*', 'application/json', 'application/graphql-response+json', 'application/graphql-response+json, application/json;q=0.9', 'text/html, */*']) {
        let hit: Awaited<ReturnType<typeof ask>> | undefined
        expect(await statementsOf(t.counter, async () => (hit = await ask(t.api, accept)))).toBe(0)
        expect({accept, ...hit}).toEqual({accept, ...(await ask(off.api, accept))})
      }
    } finally {
      await off.pool.end()
    }
  })

  it('is off with API_RESPONSE_CACHE_MB=0', async () => {
    const off = countedApi(readOnlyUrl, 0)
    try {
      const first = await series(off.api)
      expect(await statementsOf(off.counter, async () => expect((await series(off.api)).raw).toBe(first.raw))).toBeGreaterThan(0)
      expect(await cacheMetrics(off.api)).toEqual({})
    } finally {
      await off.pool.end()
    }
  })

  it('refuses hostile operations exactly as without a cache, also when made of cached parts', async () => {
    const post = async (body: unknown) =>
      await t.api.fetch('http://api.test/graphql', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
    const messages = async (res: Response) => {
      const body = (await res.json()) as {errors?: {message: string}[]} | {errors?: {message: string}[]}[]
      return (Array.isArray(body) ? body.flatMap((b) => b.errors ?? []) : (body.errors ?? [])).map((e) => e.message).join('\n')
    }
    const op = {query: SERIES, variables: {m: METRIC}}
    await post(op) // cached from here on
    expect(await statementsOf(t.counter, () => post(Array.from({length: QUERY_LIMITS.maxBatch}, () => op)))).toBe(0)
    const tooMany = await post(Array.from({length: QUERY_LIMITS.maxBatch + 1}, () => op))
    expect(await tooMany.text()).toMatch(/Batching is limited to 5 operations per request/)

    const deep = `{ proposals { edges { node { votes { edges { node { proposal { votes { edges { node { id } } } } } } } } } } }`
    const aliases = `{ ${Array.from({length: QUERY_LIMITS.maxAliases + 1}, (_, i) => `a${i}: metricValues(where: {metric: "${METRIC}"}) { totalCount }`).join(' ')} }`
    const cost = `{ proposals(first: 100) { edges { node { votes(first: 42) { totalCount } } } } }`
    for (let i = 0; i < 2; i++) {
      expect(await messages(await post({query: deep}))).toMatch(/depth limit of 10 exceeded/)
      expect(await messages(await post({query: aliases}))).toMatch(/Aliases limit of 15 exceeded/)
      expect(await messages(await post({query: cost}))).toMatch(/Cost limit of 50000 exceeded/)
    }
  })

  it('does not cache while the data version cannot be read, and answers as without a cache', async () => {
    await admin.query(`ALTER TABLE analytics_state RENAME TO analytics_state_away`)
    try {
      t.age()
      const first = await series()
      expect(await statementsOf(t.counter, async () => expect((await series()).raw).toBe(first.raw))).toBeGreaterThan(1)
      expect((await cacheMetrics(t.api)).version_unavailable).toBe(2)
    } finally {
      await admin.query(`ALTER TABLE analytics_state_away RENAME TO analytics_state`)
    }
  })
})

/**
 * While Postgres is down, cached answers stop being served as soon as the last version read is 1 s old: requests
 * then fail with DATABASE_UNAVAILABLE as without a cache (a stopped server of its own, as in outage.int.test.ts).
 */
describe('response cache while Postgres is down', () => {
  it('serves no cached answer once the version is 1 s old: 503 DATABASE_UNAVAILABLE', async () => {
    const dir = await fs.mkdtemp(path.join(tmpdir(), 'deai-lens-cache-outage-'))
    const settings = {fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off'}
    const pg = await startEmbeddedPostgres({dataDir: path.join(dir, 'data'), settings, log: () => undefined})
    let t: ReturnType<typeof countedApi> | undefined
    try {
      await applyMigrations(pg.url)
      const c = new Client({connectionString: pg.url})
      await c.connect()
      await c.query(PROCESSOR_SCHEMA)
      await c.end()
      t = countedApi(pg.url)
      const ask = () => gql(t!.api, SERIES, {m: METRIC})
      const up = await ask()
      expect(up.errors).toBeUndefined()
      expect((await ask()).raw).toBe(up.raw) // a hit
      await pg.stop()
      // Within the bound a cached answer is still served (it is at most 1 s old) ...
      expect((await ask()).raw).toBe(up.raw)
      // ... and not after it.
      t.age()
      const down = await ask()
      expect(down.status).toBe(503)
      expect(down.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE')
    } finally {
      await t?.pool.end().catch(() => undefined)
      await pg.stop().catch(() => undefined)
      await fs.rm(dir, {recursive: true, force: true})
    }
  })
})
