import {Client, type Pool} from 'pg'
import type {MetricRecord} from '../analytics/jobs/measurement'
import {writeResults} from '../analytics/jobs/results'
import {testAdminUrl} from '../test-support/pg'
import type {ApiConfig, Api} from './yoga'

/** Test helpers for the API (used by the *.test.ts files beside it). */

/** `pool` with every query() counted in `counter.statements`: the same pool underneath, for tests that count statements. */
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
