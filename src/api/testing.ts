import {Client, type Pool} from 'pg'
import type {MetricRecord} from '../analytics/jobs/measurement'
import {writeResults} from '../analytics/jobs/results'
import {testAdminUrl} from '../test-support/pg'
import {createApiPool} from './db'
import {INDEX_STATUS_MAX_AGE_MS} from './index-status'
import {type ApiServer, startApiServer} from './server'
import type {ApiConfig, Api} from './yoga'

/** Test helpers for the API (used by the *.test.ts files beside it). */

/** Drops a read-only role a test made with ensureReadOnlyRole (after the databases it was granted on are gone). */
export async function dropTestRole(role: string): Promise<void> {
  const c = new Client({connectionString: testAdminUrl()})
  await c.connect()
  try {
    await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`)
  } finally {
    await c.end()
  }
}

/** `pool` with every query() counted in `counter.statements`: the same pool underneath, for tests that count statements. */
export function countingPool(pool: Pool, counter: {statements: number}): Pool {
  const counting = Object.create(pool) as Pool
  counting.query = ((...args: Parameters<Pool['query']>) => {
    counter.statements++
    return (pool.query as (...a: unknown[]) => unknown)(...args)
  }) as Pool['query']
  return counting
}

export const TEST_API_CONFIG: ApiConfig = {
  API_DEFAULT_PAGE: 50,
  API_MAX_PAGE: 1000,
  API_STATEMENT_TIMEOUT_MS: 5000,
  API_CORS_ORIGINS: [],
  API_RESPONSE_CACHE_MB: 64,
  API_COMPRESSION_MIN_BYTES: 1024,
}

export interface GqlError {
  message: string
  extensions?: {code?: string; [k: string]: unknown}
}

export interface GqlResponse<T = any> {
  status: number
  data?: T
  errors?: GqlError[]
  raw: string
}

/** POSTs one operation to /graphql through yoga.fetch (no port). */
export async function gql<T = any>(api: Api, query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>> {
  const res = await api.fetch('http://api.test/graphql', {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/graphql-response+json, application/json'},
    body: JSON.stringify({query, variables}),
  })
  const raw = await res.text()
  const body = JSON.parse(raw) as {data?: T; errors?: GqlError[]}
  return {status: res.status, data: body.data, errors: body.errors, raw}
}

/** Like gql, but fails the test with the errors when there are any. */
export async function gqlOk<T = any>(api: Api, query: string, variables?: Record<string, unknown>): Promise<T> {
  const r = await gql<T>(api, query, variables)
  if (r.errors?.length || r.data === undefined) throw new Error(`GraphQL errors: ${r.raw}`)
  return r.data
}

/** The processor's status tables as the response cache's data version reads them (no processor run needed). */
export const TEST_PROCESSOR_SCHEMA = `CREATE SCHEMA squid_processor;
  CREATE TABLE squid_processor.status (id int PRIMARY KEY, height int NOT NULL, hash text NOT NULL, nonce int NOT NULL DEFAULT 0);
  CREATE TABLE squid_processor.hot_block (height int PRIMARY KEY, hash text NOT NULL);
  INSERT INTO squid_processor.status VALUES (0, 10, '0x0a', 1);`

export const TEST_METRIC = 'test.metric'

/** A metric value of a token scope, with made-up provenance. */
export function testMetric(asOfBlock: number, value: number, name = TEST_METRIC): MetricRecord {
  return {
    metric: name, value, exact: null, distribution: 'balances', scopeKind: 'token', scopeId: '0x00000000000000000000000000000000000000aa',
    asOfBlock, inputFromBlock: 0, inputToBlock: asOfBlock, inputRowCount: 1, inputDigest: 'd', sqlDigest: 's',
  }
}

/** Writes metric values as the analytics do (which bumps the data version). */
export const writeTestMetrics = (pool: Pool, ...metrics: MetricRecord[]) =>
  writeResults(pool, {metrics, lorenz: [], fairness: []}, new Date('2026-01-01T00:00:00Z'))

/** An API server on a loopback port whose every statement is counted, on a clock the test moves. */
export interface CountedServer {
  server: ApiServer
  /** Statements run so far, and the time in ms the server reads. */
  counter: {statements: number; clock: number}
  /** Moves the clock past the index status's maximum age. */
  age(): void
  /** Statements run by `f`, and its result. */
  counted<T>(f: () => Promise<T>): Promise<[number, T]>
  close(): Promise<void>
}

/** Starts a CountedServer over `readOnlyUrl` with TEST_API_CONFIG and `config` over it. */
export async function startCountedServer(readOnlyUrl: string, config: Partial<ApiConfig> = {}): Promise<CountedServer> {
  const pool = createApiPool(readOnlyUrl, {statementTimeoutMs: 5000})
  pool.on('error', () => undefined)
  const counter = {statements: 0, clock: 1_000_000}
  const server = await startApiServer({
    pool: countingPool(pool, counter),
    config: {...TEST_API_CONFIG, ...config, API_HOST: '127.0.0.1', API_PORT: 0},
    now: () => counter.clock,
  })
  return {
    server,
    counter,
    age: () => void (counter.clock += INDEX_STATUS_MAX_AGE_MS),
    counted: async (f) => {
      const before = counter.statements
      const out = await f()
      return [counter.statements - before, out]
    },
    close: async () => {
      await server.close()
      await pool.end()
    },
  }
}

/** The response cache's counters in a /metrics text, keyed by outcome (hit, miss, ...) or by name (stored_total, ...). */
export function responseCacheCounters(metricsText: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of metricsText.matchAll(/^deai_api_response_cache_(\w+?)(?:\{outcome="(\w+)"\})? (\d+)$/gm)) out[m[2] ?? m[1]!] = Number(m[3])
  return out
}

/** responseCacheCounters plus graphql_post_200: the count of 200 answers to POST /graphql in the same text. */
export function cacheAndGraphqlCounters(metricsText: string): Record<string, number> {
  const requests = /^deai_api_http_requests_total\{route="\/graphql",method="POST",status="200"\} (\d+)$/m.exec(metricsText)
  return {...responseCacheCounters(metricsText), graphql_post_200: Number(requests?.[1] ?? 0)}
}
