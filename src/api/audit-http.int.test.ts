import {getAddress} from 'viem'
import type {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type IndexedDevnet, startIndexedDevnet} from '../test-support/indexed-devnet'
import {createApiPool} from './db'
import {startApiServer} from './server'
import {countingPool, gqlOk, TEST_API_CONFIG} from './testing'
import {type Api, createApi} from './yoga'

/**
 * auditTrail against a brute-force scan of the audit log (the API finds the same events through the typed tables,
 * minus the documented evidence-only events), batching (no N+1), and the HTTP surface: /health, /metrics, GraphiQL,
 * a real listening server.
 */
describe('audit trail, batching and HTTP', () => {
  let net: IndexedDevnet
  let pool: Pool
  let api: Api
  const counter = {statements: 0}

  beforeAll(async () => {
    net = await startIndexedDevnet()
    net.pool.on('error', () => undefined) // see governance.int.test.ts
    pool = createApiPool(net.db.url, {statementTimeoutMs: 10_000})
    // Without the response cache: its data-version read (one statement, at most once a second) would land in one
    // count and not the other depending on timing; the counts here are about the resolvers' batching.
    // Counts the statements the API sends, to show that nested lists are batched.
    api = createApi({pool: countingPool(pool, counter), config: {...TEST_API_CONFIG, API_RESPONSE_CACHE_MB: 0}})
  })
  afterAll(async () => {
    await pool?.end()
    await net?.close()
  })

  const ids = async (sql: string, params: unknown[]) => (await net.pool.query<{id: string}>(sql, params)).rows.map((r) => r.id)

  async function trail(arg: 'address' | 'proposalId' | 'modelId', value: string): Promise<string[]> {
    const out: string[] = []
    let after: string | null = null
    for (;;) {
      const q = `query($v: ${arg === 'address' ? 'Address' : 'ID'}, $after: String) { auditTrail(${arg}: $v, first: 7, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id blockNumber txHash logIndex contract eventName args } } } }`
      const {auditTrail: page}: {auditTrail: any} = await gqlOk(api, q, {v: value, after})
      out.push(...page.edges.map((e: {node: {id: string}}) => e.node.id))
      if (!page.pageInfo.hasNextPage) {
        expect(page.totalCount).toBe(out.length)
        return out
      }
      after = page.pageInfo.endCursor
    }
  }

  // Events with no typed table, found only by scanning args: documented as not found by address (audit-sql.ts).
  const EVIDENCE_ONLY = ['Approval', 'ModelOwnershipTransferred', 'ValidatorUpdated', 'OwnershipTransferred', 'RoleGranted', 'RoleRevoked',
    'RoleAdminChanged', 'CallScheduled', 'CallExecuted', 'CallSalt', 'Cancelled', 'MinDelayChange', 'TimelockChange', 'Unknown']

  it('finds every event touching an address, in chain order, as a full scan of the audit log does', async () => {
    const d = net.deployment
    const [owner] = await ids(`SELECT owner AS id FROM model ORDER BY event_id LIMIT 1`, [])
    const s = net.scenario
    const addresses = [s.delegates[0]!, s.insiders.at(-1)!, s.underRewarded[0]!, s.validators[0]!, owner!, d.token, d.governor, d.rewardDistributor, d.contributionRegistry]
    for (const a of addresses.map((x) => x.toLowerCase())) {
      const expected = await ids(
        `SELECT id FROM audit_event WHERE contract = $1
           OR (event_name <> ALL($2::text[]) AND jsonb_path_exists(args, '$.** ? (@ == $a)', jsonb_build_object('a', $1::text)))
         ORDER BY id`,
        [a, EVIDENCE_ONLY],
      )
      expect(expected.length, a).toBeGreaterThan(0)
      expect(await trail('address', getAddress(a)), a).toEqual(expected)
    }
  })

  it('finds every event of a proposal and of a model', async () => {
    for (const {id, governor_id, proposal_id} of (await net.pool.query(`SELECT id, governor_id, proposal_id::text FROM proposal`)).rows) {
      const expected = await ids(`SELECT id FROM audit_event WHERE contract = $1 AND args->>'proposalId' = $2 ORDER BY id`, [governor_id, proposal_id])
      expect(await trail('proposalId', id)).toEqual(expected)
    }
    const d = net.deployment
    for (const {id, model_id} of (await net.pool.query(`SELECT id, model_id::text FROM model`)).rows) {
      const expected = await ids(
        `SELECT id FROM audit_event WHERE
            (contract = $1 AND args->>'modelId' = $2 AND event_name <> 'ModelOwnershipTransferred')
         OR (contract = $3 AND event_name = 'ContributionSubmitted' AND args->>'modelId' = $2)
         OR (contract = $3 AND event_name = 'ContributionValidated' AND args->>'contributionId' IN
               (SELECT contribution_id::text FROM contribution WHERE model_id = $5))
         OR (contract = $4 AND event_name = 'EpochOpened' AND args->>'modelId' = $2)
         OR (contract = $4 AND event_name <> 'EpochOpened' AND args->>'epochId' IN (SELECT epoch_id::text FROM reward_epoch WHERE model_id = $5))
         ORDER BY id`,
        [d.modelRegistry.toLowerCase(), model_id, d.contributionRegistry.toLowerCase(), d.rewardDistributor.toLowerCase(), id],
      )
      expect(await trail('modelId', id)).toEqual(expected)
    }
  })

  it('batches nested lists: the statement count does not grow with the number of parents', async () => {
    const q = (n: number) => `{ proposals(first: ${n}) { edges { node { id governor { address } event { txHash }
      votes(first: 5) { totalCount edges { node { voter proposal { id } event { logIndex } } } } } } } }`
    const counted = async (n: number) => {
      counter.statements = 0
      await gqlOk(api, q(n))
      return counter.statements
    }
    const one = await counted(1)
    const all = await counted(50)
    expect((await net.pool.query(`SELECT count(*)::int AS n FROM proposal`)).rows[0].n).toBeGreaterThan(3)
    expect(all).toBe(one)
    expect(all).toBeLessThanOrEqual(8)
  })

  it('serves /health, /metrics and /live', async () => {
    await gqlOk(api, '{ indexStatus { height } }')
    const health = await api.fetch('http://api.test/health')
    expect(health.status).toBe(200)
    const body = await health.json()
    const [last] = (await net.pool.query(`SELECT block_number FROM audit_event ORDER BY id DESC LIMIT 1`)).rows
    expect(body).toMatchObject({status: 'ok', database: 'ok', height: net.head, lastEventBlock: last.block_number})
    expect(body.secondsSinceLastEvent).toBeGreaterThanOrEqual(0)
    const metrics = await (await api.fetch('http://api.test/metrics')).text()
    expect(metrics).toContain(`deai_index_height ${net.head}`)
    expect(metrics).toMatch(/deai_api_http_requests_total\{route="\/graphql",method="POST",status="200"\} [1-9]/)
    expect(metrics).toMatch(/deai_api_http_request_duration_seconds_count\{route="\/health"\} 1/)
    expect((await api.fetch('http://api.test/live')).status).toBe(200)
  })

  it('listens over HTTP with GraphiQL on /graphql', async () => {
    const server = await startApiServer({pool, config: {...TEST_API_CONFIG, API_HOST: '127.0.0.1', API_PORT: 0}})
    try {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({query: '{ indexStatus { height } }'}),
      })
      expect(await res.json()).toEqual({data: {indexStatus: {height: net.head}}})
      const page = await fetch(`${server.url}/graphql`, {headers: {accept: 'text/html'}})
      expect(page.status).toBe(200)
      expect(await page.text()).toMatch(/graphiql/i)
    } finally {
      await server.close()
    }
    await expect(fetch(`${server.url}/graphql`)).rejects.toThrow()
  })
})
