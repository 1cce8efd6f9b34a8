import {randomBytes} from 'node:crypto'
import {request as httpRequest} from 'node:http'
import {Pool} from 'pg'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {type TestDatabase, testAdminUrl, withTestDatabase} from '../test-support/pg'
import {QUERY_LIMITS} from './limits'
import {ensureReadOnlyRole} from './readonly-role'
import {cacheAndGraphqlCounters, type CountedServer, startCountedServer, TEST_API_CONFIG, TEST_METRIC, TEST_PROCESSOR_SCHEMA, testMetric, writeTestMetrics, dropTestRole} from './testing'

/**
 * The fast path (http/fast-path.ts) on a real listening server, as the read-only role, with every statement counted
 * and the data version's clock moved by hand: a repeated POST is answered without yoga with the same status, headers
 * and bytes; the key covers the headers that shape the answer; a new generation, refusals, errors, batches, GET and
 * an unreadable version never get an answer from it.
 */
const SERIES = `query Series($m: String!, $n: Int) {
  metricValues(where: {metric: $m}, first: $n) { totalCount edges { node { id asOfBlock value } } }
}`
const DASH = 'https://dash.example'
const OTHER = 'https://other.example'
const series = (variables: Record<string, unknown> = {m: TEST_METRIC}) => JSON.stringify({query: SERIES, variables})

interface Answer {
  status: number
  /** Every header but Date, names lowercased. */
  headers: Record<string, string>
  body: string
}

describe('HTTP fast path', () => {
  let db: TestDatabase
  let admin: Pool
  let readOnlyUrl: string
  const role = `deai_ro_fast_${randomBytes(4).toString('hex')}`
  let t: CountedServer

  const countedServer = (cacheMb = TEST_API_CONFIG.API_RESPONSE_CACHE_MB) =>
    startCountedServer(readOnlyUrl, {API_CORS_ORIGINS: [DASH, OTHER], API_RESPONSE_CACHE_MB: cacheMb})

  const post = async (body: string, headers: Record<string, string> = {}, server = t.server): Promise<Answer> => {
    const res = await fetch(`${server.url}/graphql`, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body})
    const all = Object.fromEntries([...res.headers].filter(([name]) => name !== 'date'))
    return {status: res.status, headers: all, body: await res.text()}
  }

  const metrics = async (server = t.server) => cacheAndGraphqlCounters(await (await fetch(`${server.url}/metrics`)).text())

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'api_fast'})
    admin = new Pool({connectionString: db.url, max: 2})
    await admin.query(TEST_PROCESSOR_SCHEMA)
    await writeTestMetrics(admin, testMetric(1, 0.1), testMetric(2, 0.2), testMetric(3, 0.3))
    readOnlyUrl = await ensureReadOnlyRole(testAdminUrl(), db.name, role, randomBytes(12).toString('hex'))
  })
  // A new server (empty cache, clock at its start) per test; the data carries over from test to test.
  beforeEach(async () => {
    t = await countedServer()
  })
  afterEach(() => t.close())
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
    await dropTestRole(role)
  })

  it('answers a repeated POST without yoga: the same status, headers (CORS included) and bytes, no statement', async () => {
    const headers = {origin: DASH, accept: 'application/json'}
    const first = await post(series(), headers)
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body).data.metricValues.totalCount).toBe(3)
    expect(first.headers).toMatchObject({'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': DASH})
    expect(await metrics()).toMatchObject({fast: 0, hit: 0, miss: 1, fast_stored_total: 1})
    for (let i = 1; i <= 3; i++) {
      const [statements, again] = await t.counted(() => post(series(), headers))
      expect(statements).toBe(0)
      expect(again).toEqual(first)
      // Answered before yoga: neither a hit nor a miss of the operation cache, but counted as a request.
      expect(await metrics()).toMatchObject({fast: i, hit: 0, miss: 1, graphql_post_200: 1 + i})
    }
    // Once the version is a second old it is read again (one statement for all requests); unchanged: still served.
    t.age()
    const [statements, aged] = await t.counted(() => post(series(), headers))
    expect(statements).toBe(1)
    expect(aged).toEqual(first)
    expect((await metrics()).fast).toBe(4)
  })

  it('keys by Origin, Accept, CORS request headers and body: none is served another one’s answer', async () => {
    const dash = await post(series(), {origin: DASH})
    const fast = async (body: string, headers: Record<string, string>) => {
      const before = (await metrics()).fast!
      const answer = await post(body, headers)
      return {answer, fast: (await metrics()).fast! - before}
    }
    // Each variant is first answered by yoga (an operation-cache hit: same query and variables), then by the fast path.
    const variants: [string, Record<string, string>, (a: Answer) => void][] = [
      [series(), {origin: OTHER}, (a) => expect(a.headers['access-control-allow-origin']).toBe(OTHER)],
      [series(), {origin: 'https://evil.example'}, (a) => expect(a.headers['access-control-allow-origin']).toBeUndefined()],
      [series(), {}, (a) => expect(a.headers['access-control-allow-origin']).toBeUndefined()],
      [series(), {origin: DASH, accept: 'application/graphql-response+json'}, (a) =>
        expect(a.headers['content-type']).toBe('application/graphql-response+json; charset=utf-8')],
      [series(), {origin: DASH, 'access-control-request-headers': 'x-dashboard'}, (a) =>
        expect(a.headers['access-control-allow-headers']).toBe('x-dashboard')],
      [series({m: TEST_METRIC, n: 2}), {origin: DASH}, (a) => expect(JSON.parse(a.body).data.metricValues.edges).toHaveLength(2)],
    ]
    for (const [body, headers, check] of variants) {
      const first = await fast(body, headers)
      expect(first.fast, JSON.stringify(headers)).toBe(0)
      check(first.answer)
      const second = await fast(body, headers)
      expect(second.fast, JSON.stringify(headers)).toBe(1)
      expect(second.answer).toEqual(first.answer)
    }
    // The first one's entry is still its own.
    expect(await fast(series(), {origin: DASH})).toEqual({answer: dash, fast: 1})
  })

  it('never serves an answer of an older data generation once the version is 1 s old', async () => {
    const ids = (a: Answer) => JSON.parse(a.body).data.metricValues.edges.map((e: {node: {id: string}}) => e.node.id.split('/').pop())
    expect(ids(await post(series()))).toEqual(['1', '2', '3'])
    expect(ids(await post(series()))).toEqual(['1', '2', '3'])
    expect((await metrics()).fast).toBe(1)
    await writeTestMetrics(admin, testMetric(4, 0.4))
    // Within the bound the stored answer may still be served (the documented staleness) ...
    expect(ids(await post(series()))).toEqual(['1', '2', '3'])
    t.age()
    // ... and not after it: computed again, then stored for the new generation.
    expect(ids(await post(series()))).toEqual(['1', '2', '3', '4'])
    expect(await metrics()).toMatchObject({fast: 2, miss: 2})
    expect(ids(await post(series()))).toEqual(['1', '2', '3', '4'])
    expect((await metrics()).fast).toBe(3)
    await admin.query(`DELETE FROM metric_value WHERE as_of_block = 4; UPDATE analytics_state SET version = version + 1`)
    t.age()
    expect(ids(await post(series()))).toEqual(['1', '2', '3'])
  })

  it('never stores refused, failing, partial or indexStatus answers: each is answered by yoga every time', async () => {
    const deep = JSON.stringify({query: `{ proposals { edges { node { votes { edges { node { proposal { votes { edges { node { id } } } } } } } } } } }`})
    const aliases = JSON.stringify({
      query: `{ ${Array.from({length: QUERY_LIMITS.maxAliases + 1}, (_, i) => `a${i}: metricValues(where: {metric: "${TEST_METRIC}"}) { totalCount }`).join(' ')} }`,
    })
    const partial = JSON.stringify({
      query: `query($m: String!) { ok: metricValues(where: {metric: $m}, first: 10) { totalCount } bad: lorenzCurve(distribution: "balances", scopeKind: "token", scopeId: "x", atBlock: -1) { __typename } }`,
      variables: {m: TEST_METRIC},
    })
    const status = JSON.stringify({query: `{ indexStatus { height } }`})
    for (let i = 0; i < 2; i++) {
      expect((await post(deep)).body).toMatch(/depth limit of 10 exceeded/)
      expect((await post(aliases)).body).toMatch(/Aliases limit of 15 exceeded/)
      expect(await post('{"query": "{ metricValues(', {origin: DASH})).toMatchObject({status: 400})
      expect((await post('not json')).status).toBe(400)
      expect((await post(JSON.stringify({query: '{ nope }'}))).body).toMatch(/Cannot query field/)
      const [statements, answer] = await t.counted(() => post(partial))
      expect(statements).toBeGreaterThan(0)
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_USER_INPUT')
      expect(JSON.parse((await post(status)).body).data.indexStatus.height).toBe(10)
    }
    // indexStatus reads afresh, also the second time (no clock move).
    await admin.query(`UPDATE squid_processor.status SET height = 11`)
    expect(JSON.parse((await post(status)).body).data.indexStatus.height).toBe(11)
    await admin.query(`UPDATE squid_processor.status SET height = 10`)
    expect(await metrics()).toMatchObject({fast: 0, fast_stored_total: 0})
  })

  it('lets batched requests and GET requests through to yoga every time', async () => {
    const op = {query: SERIES, variables: {m: TEST_METRIC}}
    const batch = JSON.stringify([op, op])
    const first = await post(batch)
    expect(JSON.parse(first.body)).toHaveLength(2)
    for (const body of [batch, ` \n${batch}`]) {
      const again = await post(body)
      expect(again.body).toBe(first.body)
    }
    const get = async () => {
      const res = await fetch(`${t.server.url}/graphql?query=${encodeURIComponent(SERIES)}&variables=${encodeURIComponent(JSON.stringify({m: TEST_METRIC}))}`, {
        headers: {accept: 'application/json'},
      })
      return {status: res.status, body: await res.text()}
    }
    const g = await get()
    expect(g.status).toBe(200)
    expect(await get()).toEqual(g)
    const m = await metrics()
    // The batch's operations were cache hits inside yoga; nothing was answered or stored by the fast path.
    expect(m).toMatchObject({fast: 0, fast_stored_total: 0})
    expect(m.hit).toBeGreaterThanOrEqual(5)
  })

  it('still refuses an oversized body (413) and a body without Content-Length (411)', async () => {
    const big = JSON.stringify({query: `{ __typename }`, variables: {pad: 'x'.repeat(QUERY_LIMITS.maxBodyBytes)}})
    for (let i = 0; i < 2; i++) expect((await post(big)).status).toBe(413)
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${t.server.url}/graphql`, {method: 'POST', headers: {'content-type': 'application/json', 'transfer-encoding': 'chunked'}}, (res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      req.on('error', reject)
      req.end(series())
    })
    expect(chunked).toBe(411)
    // The same request with a length is answered.
    expect((await post(series())).status).toBe(200)
  })

  it('serves nothing from it while the data version cannot be read', async () => {
    expect((await post(series())).status).toBe(200)
    await admin.query(`ALTER TABLE analytics_state RENAME TO analytics_state_away`)
    try {
      t.age()
      for (let i = 0; i < 2; i++) {
        const [statements, answer] = await t.counted(() => post(series()))
        expect(answer.status).toBe(200)
        expect(statements).toBeGreaterThan(1) // the failed version read (once) and the page
      }
      expect(await metrics()).toMatchObject({fast: 0, version_unavailable: 2})
    } finally {
      await admin.query(`ALTER TABLE analytics_state_away RENAME TO analytics_state`)
    }
  })

  it('keeps its answers within API_RESPONSE_CACHE_MB, shared with the operation answers', async () => {
    const small = await countedServer(16 / 1024)
    try {
      // ~0.7 KB per HTTP answer (key, headers and body), ~0.3 KB per operation answer: 16 KB holds a dozen or so.
      const count = `query($m: String!, $n: Int) { metricValues(where: {metric: $m}, first: $n) { totalCount } }`
      const ask = (n: number) => post(JSON.stringify({query: count, variables: {m: TEST_METRIC, n}}), {origin: DASH}, small.server)
      for (let n = 1; n <= 60; n++) expect((await ask(n)).status).toBe(200)
      const m = await metrics(small.server)
      expect(m.fast_stored_total).toBe(60)
      expect(m.bytes).toBeGreaterThan(8 * 1024)
      expect(m.bytes).toBeLessThanOrEqual(16 * 1024)
      // The most recent is served by the fast path; the oldest was evicted (and its operation answer too: computed).
      await ask(60)
      expect((await metrics(small.server)).fast).toBe(1)
      const before = small.counter.statements
      await ask(1)
      expect(small.counter.statements - before).toBeGreaterThan(0)
      expect((await metrics(small.server)).fast).toBe(1)
    } finally {
      await small.close()
    }
  })

  it('is off with API_RESPONSE_CACHE_MB=0', async () => {
    const off = await countedServer(0)
    try {
      const first = await post(series(), {origin: DASH}, off.server)
      const before = off.counter.statements
      expect(await post(series(), {origin: DASH}, off.server)).toEqual(first)
      // Computed again: the page's statements ran.
      expect(off.counter.statements - before).toBeGreaterThan(0)
      const m = await metrics(off.server)
      expect(Object.keys(m)).toEqual(['graphql_post_200'])
    } finally {
      await off.close()
    }
  })
})
