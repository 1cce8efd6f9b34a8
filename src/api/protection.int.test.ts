import {randomBytes} from 'node:crypto'
import {getIntrospectionQuery} from 'graphql'
import {Client, Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {type TestDatabase, testAdminUrl, withTestDatabase} from '../test-support/pg'
import {createApiPool} from './db'
import {QUERY_LIMITS} from './limits'
import {ensureReadOnlyRole} from './readonly-role'
import {gql, TEST_API_CONFIG} from './testing'
import {type Api, createApi} from './yoga'

/**
 * One test per protection, each at its limit (passes) and just past it (fails), against an empty migrated database:
 * the limits act before or regardless of data.
 */
describe('API protections', () => {
  let db: TestDatabase
  let pool: Pool
  let api: Api
  const logged: unknown[] = []

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'api_guard'})
    pool = createApiPool(db.url, {statementTimeoutMs: 300})
    api = createApi({pool, config: {...TEST_API_CONFIG, API_STATEMENT_TIMEOUT_MS: 300}, logError: (_, e) => logged.push(e)})
  })
  const roles: string[] = []
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
    // Roles are cluster-wide: drop the ones made here once the database holding their grants is gone.
    const admin = new Client({connectionString: testAdminUrl()})
    await admin.connect()
    for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(role)}`)
    await admin.end()
  })

  const rejected = (r: {status: number; errors?: {message: string}[]}, pattern: RegExp) => {
    expect(r.errors?.map((e) => e.message).join('\n')).toMatch(pattern)
  }

  it('limits query depth', async () => {
    const deep = (leaf: string) =>
      `{ proposals { edges { node { votes { edges { node { proposal { votes { edges { ${leaf} } } } } } } } } } }`
    expect(QUERY_LIMITS.maxDepth).toBe(10)
    expect((await gql(api, deep('cursor'))).errors).toBeUndefined() // depth 10
    rejected(await gql(api, deep('node { id }')), /depth limit of 10 exceeded, found 11/)
  })

  it('limits query cost, counting literal `first` as a multiplier', async () => {
    // cost = (9.5 + 11.8125·B)·100 with objectCost 2, scalarCost 1, depth factor 1.5: B = 41 → 49,381; B = 42 → 50,562.
    const q = (b: number) => `{ proposals(first: 100) { edges { node { votes(first: ${b}) { totalCount } } } } }`
    expect((await gql(api, q(41))).errors).toBeUndefined()
    rejected(await gql(api, q(42)), /Cost limit of 50000 exceeded/)
  })

  it('limits aliases', async () => {
    const q = (n: number) => `{ ${Array.from({length: n}, (_, i) => `a${i}: indexStatus { height }`).join(' ')} }`
    expect((await gql(api, q(QUERY_LIMITS.maxAliases))).errors).toBeUndefined()
    rejected(await gql(api, q(QUERY_LIMITS.maxAliases + 1)), /Aliases limit of 15 exceeded/)
  })

  it('limits tokens', async () => {
    // `{ aN: indexStatus { height … } … }`: 2 tokens, plus 5 per aliased block, plus one per repeated field. Spread
    // over 13 blocks because graphql-js's own overlap check gives up on thousands of same-named siblings.
    const q = (tokens: number) => {
      const blocks = 13
      const fields = tokens - 2 - 5 * blocks
      const sizes = Array.from({length: blocks}, (_, i) => Math.floor(fields / blocks) + (i < fields % blocks ? 1 : 0))
      return `{ ${sizes.map((n, i) => `a${i}: indexStatus { ${'height '.repeat(n)}}`).join(' ')} }`
    }
    expect((await gql(api, q(QUERY_LIMITS.maxTokens))).errors).toBeUndefined()
    rejected(await gql(api, q(QUERY_LIMITS.maxTokens + 1)), /Token limit of 2000 exceeded/)
  })

  it('limits directives', async () => {
    const q = (n: number) => `{ indexStatus { ${'height @include(if: true) '.repeat(n)}} }`
    expect((await gql(api, q(QUERY_LIMITS.maxDirectives))).errors).toBeUndefined()
    rejected(await gql(api, q(QUERY_LIMITS.maxDirectives + 1)), /Directives limit of 20 exceeded/)
  })

  it("lets GraphiQL's introspection query through every limit", async () => {
    const r = await gql(api, getIntrospectionQuery({descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true}))
    expect(r.errors).toBeUndefined()
    expect(r.data.__schema.queryType.name).toBe('Query')
  })

  it('caps batched operations per request', async () => {
    const batch = (n: number) =>
      api.fetch('http://api.test/graphql', {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify(Array.from({length: n}, () => ({query: '{ indexStatus { height } }'}))),
      })
    const ok = await batch(QUERY_LIMITS.maxBatch)
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as unknown[]).length).toBe(QUERY_LIMITS.maxBatch)
    const tooMany = await batch(QUERY_LIMITS.maxBatch + 1)
    expect(tooMany.status).toBe(413)
    expect(await tooMany.text()).toMatch(/Batching is limited to 5 operations per request/)
  })

  it('caps the rows one request may ask for, also through variables and defaults', async () => {
    const small = createApi({pool, config: {...TEST_API_CONFIG, API_MAX_PAGE: 10, API_DEFAULT_PAGE: 10}})
    // Budget: rowBudgetPages × API_MAX_PAGE = 100 rows; each alias asks for a default page of 10.
    const q = (n: number) => `{ ${Array.from({length: n}, (_, i) => `m${i}: metricValues(where: {}) { totalCount }`).join(' ')} }`
    expect((await gql(small, q(QUERY_LIMITS.rowBudgetPages))).errors).toBeUndefined()
    const over = await gql(small, q(QUERY_LIMITS.rowBudgetPages + 1))
    expect(over.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    rejected(over, /too many rows/)
  })

  it('answers invalid arguments with BAD_USER_INPUT and a clear message', async () => {
    const cases: [string, RegExp][] = [
      [`{ account(address: "0x123") { address } }`, /Address must be 0x followed by 40 hex digits/],
      [`{ account(address: "0x${'a'.repeat(40)}", atBlock: -1) { address } }`, /atBlock must be ≥ 0/],
      [`{ account(address: "0x${'a'.repeat(40)}", atBlock: 5) { address } }`, /atBlock 5 is above the indexed height -1/],
      [`{ metricValues(where: {}, first: 0) { totalCount } }`, /first must be between 1 and 1000, got 0/],
      [`{ metricValues(where: {}, first: 1001) { totalCount } }`, /first must be between 1 and 1000, got 1001/],
      [`{ metricValues(where: {}, after: "bm90IGEgY3Vyc29y") { totalCount } }`, /invalid cursor/],
      [`{ proposal(id: "42") { id } }`, /Proposal id must look like 0x<contract address>-<decimal id>/],
      [`{ auditTrail { totalCount } }`, /exactly one of address, proposalId or modelId/],
    ]
    for (const [query, message] of cases) {
      const r = await gql(api, query)
      expect(r.errors?.[0]?.message, query).toMatch(message)
      expect(r.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT')
    }
    // Variables go through the same scalar parsing.
    const v = await gql(api, `query($a: Address!) { account(address: $a) { address } }`, {a: 'not an address'})
    expect(v.errors?.[0]?.message).toMatch(/Address must be 0x followed by 40 hex digits/)
    expect(v.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
  })

  it('masks unexpected errors (here a statement timeout) and logs them server-side', async () => {
    const locker = new Client({connectionString: db.url})
    await locker.connect()
    try {
      // Holding a lock makes the API's query wait until its 300 ms statement_timeout cancels it.
      await locker.query('BEGIN; LOCK TABLE token IN ACCESS EXCLUSIVE MODE')
      const t0 = Date.now()
      const r = await gql(api, '{ protocol { tokens { address } } }')
      expect(Date.now() - t0).toBeLessThan(3_000)
      expect(r.errors?.[0]?.message).toBe('Unexpected error.')
      expect(r.raw).not.toMatch(/statement|timeout|SELECT|FROM|\.ts:|node_modules/i)
      expect(r.errors?.[0]?.extensions ?? {}).not.toHaveProperty('originalError')
      expect(String(logged.at(-1))).toMatch(/statement timeout/)
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined)
      await locker.end()
    }
  })

  it('opens read-only, time-boxed sessions', async () => {
    const rows = (await pool.query(`SELECT current_setting('statement_timeout') AS t, current_setting('default_transaction_read_only') AS ro`)).rows
    expect(rows[0]).toEqual({t: '300ms', ro: 'on'})
    await expect(pool.query(`INSERT INTO account (id, first_seen_block) VALUES ('x', 1)`)).rejects.toThrow(/read-only transaction/)
  })

  it('reads through a read-only role that cannot write, even in a read-write transaction', async () => {
    const role = `api_ro_${randomBytes(4).toString('hex')}`
    roles.push(role)
    // A password, because servers with password authentication (the embedded one) refuse a role without one.
    const password = randomBytes(12).toString('hex')
    const url = await ensureReadOnlyRole(testAdminUrl(), db.name, role, password)
    expect(await ensureReadOnlyRole(testAdminUrl(), db.name, role, password)).toBe(url) // idempotent
    const ro = new Pool({connectionString: url, max: 1})
    // The database is dropped WITH (FORCE) after the pool ends: a client still closing gets a FATAL, ignored here.
    ro.on('error', () => undefined)
    try {
      expect((await ro.query('SELECT count(*)::int AS n FROM token')).rows[0]).toEqual({n: 0})
      expect((await ro.query('SELECT current_user AS u')).rows[0]).toEqual({u: role})
      const denied = async (sql: string) => {
        const c = await ro.connect()
        try {
          await c.query('BEGIN READ WRITE')
          await expect(c.query(sql)).rejects.toMatchObject({code: '42501'}) // insufficient_privilege
        } finally {
          await c.query('ROLLBACK')
          c.release()
        }
      }
      await denied(`INSERT INTO token (id, total_supply, holder_count, transfer_count, updated_at_block) VALUES ('x', 0, 0, 0, 0)`)
      await denied(`UPDATE proposal SET state = 'EXECUTED'`)
      await denied(`DELETE FROM audit_event`)
      await denied(`CREATE TABLE evil (id int)`)
      await expect(ro.query(`INSERT INTO account (id, first_seen_block) VALUES ('x', 1)`)).rejects.toThrow(/read-only transaction/)
    } finally {
      await ro.end()
    }
  })
})

describe('CORS', () => {
  const preflight = (api: Api, origin: string) =>
    api.fetch('http://api.test/graphql', {
      method: 'OPTIONS',
      headers: {origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type'},
    })
  const pool = new Pool({connectionString: 'postgres://nobody@127.0.0.1:1/none'})
  afterAll(() => pool.end())

  it('allows only the configured origins', async () => {
    const api = createApi({pool, config: {...TEST_API_CONFIG, API_CORS_ORIGINS: ['https://dash.example']}})
    expect((await preflight(api, 'https://dash.example')).headers.get('access-control-allow-origin')).toBe('https://dash.example')
    expect((await preflight(api, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull()
  })

  it('allows no cross-origin access by default', async () => {
    const api = createApi({pool, config: TEST_API_CONFIG})
    expect((await preflight(api, 'https://dash.example')).headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('/health without a database', () => {
  it('answers 503 with a clear JSON message', async () => {
    const pool = createApiPool('postgres://nobody@127.0.0.1:1/none', {statementTimeoutMs: 1000})
    const logError = vi.fn()
    const api = createApi({pool, config: TEST_API_CONFIG, logError})
    try {
      const res = await api.fetch('http://api.test/health')
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({status: 'unavailable', database: 'unreachable', message: 'the index database cannot be queried'})
    } finally {
      await pool.end()
    }
  })
})
