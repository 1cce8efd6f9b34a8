import {randomBytes} from 'node:crypto'
import zlib from 'node:zlib'
import {Pool} from 'pg'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest'
import {type TestDatabase, testAdminUrl, withTestDatabase} from '../test-support/pg'
import {rawRequest, type RawResponse as Raw} from '../test-support/raw-http'
import {ensureReadOnlyRole} from './readonly-role'
import {cacheAndGraphqlCounters, type CountedServer, startCountedServer, TEST_PROCESSOR_SCHEMA, testMetric, writeTestMetrics, dropTestRole} from './testing'
import type {ApiConfig} from './yoga'

/**
 * Response compression (http/compression.ts) on a real listening server, read with node:http so the bytes on the
 * wire are seen as sent (fetch would gunzip them): a large answer is gzipped for a client that accepts gzip and
 * gunzips to exactly the identity answer; small answers and clients that do not accept gzip get identity; Vary is
 * set; the response cache keeps one compressed body per answer and the fast path serves it only to requests that
 * negotiate gzip.
 */
const BIG = 'test.big'
const POINTS = 60
const SERIES = `query Series($m: String!, $n: Int) {
  metricValues(where: {metric: $m}, first: $n) { totalCount edges { node { id asOfBlock value inputDigest } } }
}`
const DASH = 'https://dash.example'
const OTHER = 'https://othr.example'
const big = JSON.stringify({query: SERIES, variables: {m: BIG}})
const small = JSON.stringify({query: SERIES, variables: {m: BIG, n: 1}})

const raw = rawRequest

const vary = (r: Raw) => String(r.headers.vary ?? '').split(',').map((v) => v.trim().toLowerCase())
/** Every header but Date. */
const sameAnswer = (r: Raw) => ({status: r.status, headers: {...r.headers, date: undefined}, body: r.body.toString('latin1')})

describe('response compression', () => {
  let db: TestDatabase
  let admin: Pool
  let readOnlyUrl: string
  const role = `deai_ro_gzip_${randomBytes(4).toString('hex')}`
  let t: CountedServer

  const countedServer = (config: Partial<ApiConfig> = {}) => startCountedServer(readOnlyUrl, {API_CORS_ORIGINS: [DASH, OTHER], ...config})

  const post = (body: string, headers: Record<string, string> = {}, server = t.server) =>
    raw(`${server.url}/graphql`, 'POST', {'content-type': 'application/json', ...headers}, body)

  const metrics = async (server = t.server) => cacheAndGraphqlCounters((await raw(`${server.url}/metrics`, 'GET', {})).body.toString())

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'api_gzip'})
    admin = new Pool({connectionString: db.url, max: 2})
    // The database is dropped WITH (FORCE) after the pool ends: a client still closing gets a FATAL, ignored here.
    admin.on('error', () => undefined)
    await admin.query(TEST_PROCESSOR_SCHEMA)
    await writeTestMetrics(admin, ...Array.from({length: POINTS}, (_, i) => testMetric(i + 1, (i + 1) / 1000, BIG)))
    readOnlyUrl = await ensureReadOnlyRole(testAdminUrl(), db.name, role, randomBytes(12).toString('hex'))
  })
  beforeEach(async () => {
    t = await countedServer()
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    await t.close()
  })
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
    await dropTestRole(role)
  })

  it('gzips a large answer for a client that accepts gzip: it gunzips to exactly the identity answer’s bytes', async () => {
    const identity = await post(big)
    expect(identity.status).toBe(200)
    expect(identity.headers['content-encoding']).toBeUndefined()
    expect(JSON.parse(identity.body.toString()).data.metricValues.totalCount).toBe(POINTS)
    expect(identity.body.length).toBeGreaterThan(4096)
    expect(Number(identity.headers['content-length'])).toBe(identity.body.length)
    expect(vary(identity)).toContain('accept-encoding')

    const gz = await post(big, {'accept-encoding': 'gzip'})
    expect(gz.status).toBe(200)
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gz.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length)
    expect(gz.headers['transfer-encoding']).toBeUndefined()
    expect(vary(gz)).toContain('accept-encoding')
    expect(zlib.gunzipSync(gz.body).equals(identity.body)).toBe(true)
    expect(gz.body.length).toBeLessThan(identity.body.length / 3)
  })

  it('sends small answers, and answers to clients that do not accept gzip, as they are', async () => {
    const identity = await post(big)
    const smallIdentity = await post(small)
    expect(smallIdentity.body.length).toBeLessThan(1024)
    for (const ae of ['gzip', 'gzip, deflate, br']) {
      const r = await post(small, {'accept-encoding': ae})
      expect(r.headers['content-encoding'], ae).toBeUndefined()
      expect(r.body.equals(smallIdentity.body), ae).toBe(true)
      // Vary all the same: whether this URL's answers are compressed depends on the header.
      expect(vary(r), ae).toContain('accept-encoding')
    }
    for (const ae of ['gzip;q=0', 'identity', 'br', 'identity;q=1, gzip;q=0.5', '*;q=0', '']) {
      const r = await post(big, {'accept-encoding': ae})
      expect(r.headers['content-encoding'], ae).toBeUndefined()
      expect(r.body.equals(identity.body), ae).toBe(true)
      expect(vary(r), ae).toContain('accept-encoding')
    }
    for (const ae of ['GZIP', 'gzip, deflate, br, zstd', 'deflate, gzip;q=0.5', '*']) {
      const r = await post(big, {'accept-encoding': ae})
      expect(r.headers['content-encoding'], ae).toBe('gzip')
      expect(zlib.gunzipSync(r.body).equals(identity.body), ae).toBe(true)
    }
  })

  it('fast path: keeps the gzipped answer, serves it only to requests negotiating gzip, and counts each as fast', async () => {
    const gzip = {origin: DASH, 'accept-encoding': 'gzip'}
    const first = await post(big, gzip)
    expect(first.headers['content-encoding']).toBe('gzip')
    expect(first.headers['access-control-allow-origin']).toBe(DASH)
    expect(vary(first)).toContain('accept-encoding')
    expect(await metrics()).toMatchObject({fast: 0, miss: 1, fast_stored_total: 1})
    const [statements, again] = await t.counted(() => post(big, gzip))
    expect(statements).toBe(0)
    expect(sameAnswer(again)).toEqual(sameAnswer(first))
    expect(await metrics()).toMatchObject({fast: 1, hit: 0, miss: 1, graphql_post_200: 2})

    // The same request without Accept-Encoding is not served the gzipped answer: yoga answers it (an operation-cache
    // hit) in identity, and from then on the fast path does, in identity.
    const identity = await post(big, {origin: DASH})
    expect(identity.headers['content-encoding']).toBeUndefined()
    expect(identity.body.equals(zlib.gunzipSync(first.body))).toBe(true)
    expect(await metrics()).toMatchObject({fast: 1, hit: 1, fast_stored_total: 2})
    for (const ae of [undefined, 'gzip;q=0', 'identity']) {
      const r = await post(big, ae === undefined ? {origin: DASH} : {origin: DASH, 'accept-encoding': ae})
      expect(r.headers['content-encoding'], ae).toBeUndefined()
      expect(r.body.equals(identity.body), ae).toBe(true)
    }
    expect(await metrics()).toMatchObject({fast: 4, hit: 1, fast_stored_total: 2})
    // And the gzipped entry is still served to any header that negotiates gzip.
    for (const ae of ['gzip', 'gzip, deflate, br']) {
      const r = await post(big, {origin: DASH, 'accept-encoding': ae})
      expect(r.headers['content-encoding'], ae).toBe('gzip')
      expect(r.body.equals(first.body), ae).toBe(true)
    }
    expect(await metrics()).toMatchObject({fast: 6, hit: 1, miss: 1, fast_stored_total: 2, graphql_post_200: 8})
  })

  it('compresses a cached answer once, and counts its compressed body in the cache’s bytes', async () => {
    const gzip = vi.spyOn(zlib, 'gzip')
    const identity = await post(big, {origin: DASH})
    const bytes0 = (await metrics()).bytes!
    expect(gzip).not.toHaveBeenCalled()
    // An operation-cache hit in yoga (the answer is stored), gzipped once: the answer's entry keeps the gzipped body,
    // and the fast path stores it again with its key and headers.
    const first = await post(big, {origin: DASH, 'accept-encoding': 'gzip'})
    expect(first.headers['content-encoding']).toBe('gzip')
    expect(gzip).toHaveBeenCalledTimes(1)
    const bytes1 = (await metrics()).bytes!
    // Another origin of the same length: another fast-path entry of the same size, from the body already gzipped.
    const other = await post(big, {origin: OTHER, 'accept-encoding': 'gzip'})
    expect(other.body.equals(first.body)).toBe(true)
    expect(other.headers['access-control-allow-origin']).toBe(OTHER)
    expect(gzip).toHaveBeenCalledTimes(1)
    const bytes2 = (await metrics()).bytes!
    expect(await metrics()).toMatchObject({miss: 1, hit: 2, fast: 0, fast_stored_total: 3})
    // The first gzip request added the gzipped body to the answer's entry besides its fast-path entry.
    expect(bytes1 - bytes0 - (bytes2 - bytes1)).toBe(first.body.length)
    // And the fast path's hits send it as stored.
    for (let i = 0; i < 3; i++) expect((await post(big, {origin: OTHER, 'accept-encoding': 'gzip'})).body.equals(first.body)).toBe(true)
    expect(await metrics()).toMatchObject({fast: 3})
    expect(gzip).toHaveBeenCalledTimes(1)
    expect(zlib.gunzipSync(first.body).equals(identity.body)).toBe(true)
  })

  it('compresses on the fly with the cache off; API_COMPRESSION_MIN_BYTES=0 never compresses', async () => {
    const off = await countedServer({API_RESPONSE_CACHE_MB: 0})
    try {
      const identity = await post(big, {}, off.server)
      const gzip = vi.spyOn(zlib, 'gzip')
      for (let i = 1; i <= 2; i++) {
        const gz = await post(big, {'accept-encoding': 'gzip'}, off.server)
        expect(gz.headers['content-encoding']).toBe('gzip')
        expect(zlib.gunzipSync(gz.body).equals(identity.body)).toBe(true)
        expect(gzip).toHaveBeenCalledTimes(i)
      }
    } finally {
      await off.close()
    }
    const never = await countedServer({API_COMPRESSION_MIN_BYTES: 0})
    try {
      const identity = await post(big, {}, never.server)
      for (let i = 0; i < 2; i++) {
        const r = await post(big, {'accept-encoding': 'gzip'}, never.server)
        expect(r.headers['content-encoding']).toBeUndefined()
        expect(r.headers.vary).toBeUndefined()
        expect(r.body.equals(identity.body)).toBe(true)
      }
    } finally {
      await never.close()
    }
  })

  it('keeps errors masked and CORS; compresses /metrics; leaves HEAD and small /health answers alone', async () => {
    // An error answer stays what it was (small: identity), with its CORS headers.
    const bad = await post(JSON.stringify({query: `{ lorenzCurve(distribution: "balances", scopeKind: "token", scopeId: "x", atBlock: -1) { __typename } }`}), {
      origin: DASH,
      'accept-encoding': 'gzip',
    })
    expect(bad.headers['access-control-allow-origin']).toBe(DASH)
    expect(JSON.parse(bad.body.toString()).errors[0].extensions.code).toBe('BAD_USER_INPUT')
    // /metrics is text of a few KB: gzipped for a scraper that accepts it.
    await post(big)
    const m = await raw(`${t.server.url}/metrics`, 'GET', {'accept-encoding': 'gzip'})
    expect(m.headers['content-encoding']).toBe('gzip')
    expect(zlib.gunzipSync(m.body).toString()).toMatch(/^deai_api_http_requests_total\{route="\/graphql",method="POST",status="200"\} 2$/m)
    const health = await raw(`${t.server.url}/health`, 'GET', {'accept-encoding': 'gzip'})
    expect(health.headers['content-encoding']).toBeUndefined()
    expect(JSON.parse(health.body.toString()).status).toBe('ok')
    const head = await raw(`${t.server.url}/metrics`, 'HEAD', {'accept-encoding': 'gzip'})
    expect(head.headers['content-encoding']).toBeUndefined()
    expect(head.body.length).toBe(0)
  })
})
