import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type AnalyticsFollower, followAnalytics} from '../analytics/follow'
import {spawnProcessor} from '../processor/spawn'
import {readIndexStatus} from '../processor/status'
import {type IndexedDevnet, startIndexedDevnet} from '../test-support/indexed-devnet'
import {mineTransfers} from '../test-support/reorg'
import {chainClient} from '../verify/chain-reader'
import {createApiPool} from './db'
import {TEST_API_CONFIG} from './testing'
import {type Api, createApi} from './yoga'

/**
 * Admin actions need the token from the environment. Against the indexed devnet with the analytics follower of
 * `npm start`: every refusal runs nothing (no metric value is written although new blocks wait to be measured),
 * and the right token runs the refresh, whose values then reach Postgres.
 */
const TOKEN = 'test-admin-token-0123456789abcdef-xyz'
const URL_REFRESH = 'http://api.test/admin/analytics/refresh'

describe('admin actions', () => {
  let net: IndexedDevnet
  let pool: Pool
  let follower: AnalyticsFollower
  let tmp: string
  const adminLog: string[] = []

  beforeAll(async () => {
    net = await startIndexedDevnet()
    pool = createApiPool(net.db.url, {statementTimeoutMs: 5000})
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-admin-'))
    follower = await followAnalytics({
      databaseUrl: net.db.url,
      analyticsDb: path.join(tmp, 'analytics.duckdb'),
      contracts: net.contracts,
      intervalMs: 3_600_000, // one round at start, then only what the admin asks for
      backfillEvery: 10,
      tablesEvery: 1000,
      tablesRefreshBlocks: 100,
      fresh: true,
      log: () => undefined,
    })
    await follower.refreshNow() // the state before the test: everything up to the head measured
  })
  afterAll(async () => {
    await follower?.stop()
    await pool?.end()
    await net?.close()
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  const apiWith = (admin: Parameters<typeof createApi>[0]['admin']): Api =>
    createApi({pool, config: TEST_API_CONFIG, admin: {log: (m) => adminLog.push(m), ...admin}})
  const post = (api: Api, headers: Record<string, string> = {}, method = 'POST') => api.fetch(URL_REFRESH, {method, headers})
  const measured = async () =>
    (await net.pool.query<{n: number; top: number}>(`SELECT count(*)::int AS n, max(as_of_block) AS top FROM metric_value`)).rows[0]!

  it('refuses without the token, with a wrong one, or when no token is configured, and runs nothing', async () => {
    // New blocks indexed but not yet measured: a refresh that slipped through would write values at the new head.
    await mineTransfers(net.anvil.rpcUrl, net.deployment, '0x000000000000000000000000000000000000dEaD', 3)
    const head = Number(await chainClient(net.anvil.rpcUrl).getBlockNumber())
    const proc = spawnProcessor({databaseUrl: net.db.url, rpcUrl: net.anvil.rpcUrl, contractsFile: net.contractsFile, stdio: 'pipe'})
    try {
      await proc.waitForHeight(head)
    } finally {
      await proc.stop()
    }
    // What a refresh measures is the index's height (the processor may have gone past `head` before it stopped).
    const indexed = (await readIndexStatus(net.pool)).height
    expect(indexed).toBeGreaterThanOrEqual(head)
    const before = await measured()
    expect(before.top).toBeLessThan(head)

    const guarded = apiWith({token: TOKEN, actions: {refreshAnalytics: () => follower.refreshNow()}})
    const refusals: [Response, number, RegExp][] = [
      [await post(guarded), 401, /missing or wrong bearer token/],
      [await post(guarded, {authorization: `Bearer ${TOKEN}x`}), 401, /missing or wrong bearer token/],
      [await post(guarded, {authorization: `Bearer ${TOKEN.slice(0, -1)}`}), 401, /missing or wrong bearer token/],
      [await post(guarded, {authorization: TOKEN}), 401, /missing or wrong bearer token/],
      [await post(guarded, {authorization: `Bearer ${TOKEN}`}, 'GET'), 405, /use POST/],
      [await post(apiWith({actions: {refreshAnalytics: () => follower.refreshNow()}}), {authorization: `Bearer ${TOKEN}`}), 403, /admin actions are disabled/],
      [await post(apiWith({}), {authorization: 'Bearer anything'}), 403, /set API_ADMIN_TOKEN/],
      [await post(apiWith({token: TOKEN}), {authorization: `Bearer ${TOKEN}`}), 501, /runs no analytics/],
    ]
    for (const [res, status, message] of refusals) {
      expect(res.status).toBe(status)
      expect(((await res.json()) as {error: string}).error).toMatch(message)
    }
    expect(refusals[0]![0].headers.get('www-authenticate')).toBe('Bearer')
    expect(await measured()).toEqual(before)
    // The log says what was refused, never the token.
    expect(adminLog.filter((l) => / 40[13]$/.test(l)).length).toBe(6)
    expect(adminLog.join('\n')).not.toContain(TOKEN.slice(0, 12))

    const ok = await post(guarded, {authorization: `Bearer ${TOKEN}`})
    expect(ok.status).toBe(200)
    const body = (await ok.json()) as {ok: boolean; metricValues: number; blocks: number[]}
    expect(body.ok).toBe(true)
    expect(body.blocks.at(-1)).toBe(indexed)
    expect(body.metricValues).toBeGreaterThan(0)
    const after = await measured()
    expect(after.top).toBe(indexed)
    expect(after.n).toBeGreaterThan(before.n)
  })

  it('the GraphQL endpoint cannot write either: mutations do not exist', async () => {
    const res = await apiWith({token: TOKEN}).fetch('http://api.test/graphql', {
      method: 'POST',
      headers: {'content-type': 'application/json', authorization: `Bearer ${TOKEN}`},
      body: JSON.stringify({query: 'mutation { refreshAnalytics }'}),
    })
    const body = (await res.json()) as {errors?: {message: string}[]}
    expect(body.errors?.[0]?.message).toMatch(/Schema is not configured to execute mutation operation|mutation/i)
  })
})
