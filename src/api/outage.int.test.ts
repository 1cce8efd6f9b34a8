import {promises as fs} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {applyMigrations} from '../db/migrate'
import {type EmbeddedPostgres, startEmbeddedPostgres} from '../db/embedded'
import {DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable} from './outage'
import {type ApiServer, startApiServer} from './server'
import {TEST_API_CONFIG} from './testing'

/**
 * The API while its database restarts, over real HTTP against a real Postgres that this test stops and starts
 * (its own embedded cluster, not the shared test server). Clients keep querying all along. Expected: answers
 * while Postgres is up, HTTP 503 with DATABASE_UNAVAILABLE and Retry-After while it is down, answers again once it
 * is back, and never anything else (no 200 with a masked error, no 500, no hang, no crash).
 */
const QUERY = `{ proposals(first: 5) { totalCount edges { node { id } } } }`
const THROWAWAY = {fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off'}

interface Outcome {
  status: number
  code: string | null
  message: string | null
  retryAfter: string | null
  ok: boolean
}

async function ask(url: string): Promise<Outcome> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/graphql-response+json'},
    body: JSON.stringify({query: QUERY}),
    signal: AbortSignal.timeout(15_000),
  })
  const body = (await res.json()) as {data?: {proposals?: {totalCount: number}}; errors?: {message: string; extensions?: {code?: string}}[]}
  return {
    status: res.status,
    code: body.errors?.[0]?.extensions?.code ?? null,
    message: body.errors?.[0]?.message ?? null,
    retryAfter: res.headers.get('retry-after'),
    ok: body.errors === undefined && body.data?.proposals?.totalCount === 0,
  }
}

describe('API while Postgres restarts', () => {
  let dir: string
  let pg: EmbeddedPostgres | undefined
  let server: ApiServer | undefined
  const logged: unknown[] = []

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(tmpdir(), 'deai-lens-outage-'))
    pg = await startEmbeddedPostgres({dataDir: path.join(dir, 'data'), settings: THROWAWAY, log: () => undefined})
    await applyMigrations(pg.url)
    server = await startApiServer({
      config: {...TEST_API_CONFIG, API_HOST: '127.0.0.1', API_PORT: 0},
      databaseUrl: pg.url,
      logError: (_, e) => logged.push(e),
    })
  })
  afterAll(async () => {
    await server?.close()
    await pg?.stop()
    if (dir) await fs.rm(dir, {recursive: true, force: true})
  })

  it('answers, then 503 with a clear message while the database is down, then answers again, under load', async () => {
    const url = server!.url
    const port = pg!.port
    // A request is filed under the phase in which it was sent. Requests sent while Postgres was stopping or starting
    // may get either answer; the others must get exactly one.
    type Phase = 'up' | 'stopping' | 'down' | 'starting' | 'back'
    let phase: Phase = 'up'
    const seen: Record<Phase, Outcome[]> = {up: [], stopping: [], down: [], starting: [], back: []}
    let running = true
    // Eight clients querying back to back for the whole test: the outage happens under load.
    const clients = Array.from({length: 8}, async () => {
      while (running) {
        const sentIn = phase
        seen[sentIn].push(await ask(url))
      }
    })
    const waitFor = async (what: () => boolean, ms: number) => {
      const until = Date.now() + ms
      while (!what()) {
        if (Date.now() > until) throw new Error('timed out waiting')
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    try {
      await waitFor(() => seen.up.length >= 40, 20_000)
      phase = 'stopping'
      await pg!.stop()
      phase = 'down'
      await waitFor(() => seen.down.length >= 40, 20_000)
      phase = 'starting'
      pg = await startEmbeddedPostgres({dataDir: path.join(dir, 'data'), port, settings: THROWAWAY, log: () => undefined})
      phase = 'back'
      await waitFor(() => seen.back.length >= 40, 30_000)
    } finally {
      running = false
      await Promise.all(clients)
    }

    const outage = {status: 503, code: 'DATABASE_UNAVAILABLE', message: DATABASE_UNAVAILABLE_MESSAGE, retryAfter: '5', ok: false}
    const okOrOutage = (o: Outcome) => (o.status === 200 && o.ok) || (o.status === 503 && o.code === 'DATABASE_UNAVAILABLE')
    expect(seen.up.filter((o) => !(o.status === 200 && o.ok))).toEqual([])
    expect(seen.stopping.filter((o) => !okOrOutage(o))).toEqual([])
    expect(seen.down.length).toBeGreaterThanOrEqual(40)
    for (const o of seen.down) expect(o).toEqual(outage)
    expect(seen.starting.filter((o) => !okOrOutage(o))).toEqual([])
    // Once Postgres accepts connections again, every answer is whole: the pool replaced its broken connections.
    expect(seen.back.filter((o) => !(o.status === 200 && o.ok))).toEqual([])
    // The server logged the causes (for the operator), and each is an outage, not a query bug.
    expect(logged.length).toBeGreaterThan(0)
    expect(logged.every((e) => isDatabaseUnavailable(e))).toBe(true)

    const health = await fetch(`${url}/health`)
    expect(health.status).toBe(200)
  })

  it('tells outages (isDatabaseUnavailable) from query errors', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'}))).toBe(true)
    expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), {code: '57P01'}))).toBe(true)
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(isDatabaseUnavailable({originalError: {cause: {code: '08006'}}})).toBe(true)
    expect(isDatabaseUnavailable(new AggregateError([Object.assign(new Error('x'), {code: 'ECONNREFUSED'})]))).toBe(true)
    expect(isDatabaseUnavailable(Object.assign(new Error('canceling statement due to statement timeout'), {code: '57014'}))).toBe(false)
    expect(isDatabaseUnavailable(Object.assign(new Error('syntax error'), {code: '42601'}))).toBe(false)
    expect(isDatabaseUnavailable(null)).toBe(false)
  })
})
