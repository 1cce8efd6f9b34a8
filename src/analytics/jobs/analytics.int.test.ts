import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {DuckDBConnection} from '@duckdb/node-api'
import {getAddress, type Address} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type IndexedDevnet, startIndexedDevnet} from '../../test-support/indexed-devnet'
import {chainClient, loadAbi} from '../../verify/chain-reader'
import {type AnalyticsDb, openAnalyticsDb} from '../duckdb'
import {concentrationRef} from '../metrics/reference'
import {exportForReproduction, parseMetricValueId} from './reproduce'
import {readSyncState} from '../store/sync'
import {queryOne} from '../metrics/sql-values'
import {forgetKeptFairness} from './kept-fairness'
import type {SuiteResults} from './results'
import {refreshAnalytics} from './run'
import {computeSuite} from './suite'

/**
 * End to end: the scenario indexed into Postgres, mirrored into DuckDB, the suite computed and written back. The
 * concentration figures must equal those computed from chain truth (balanceOf / getVotes over RPC for every
 * account, outside DuckDB, by the TypeScript reference), and the scenario's unfair epochs must be flagged.
 */
describe('analytics over the indexed devnet scenario', () => {
  let net: IndexedDevnet
  let mirror: AnalyticsDb
  let duck: DuckDBConnection

  beforeAll(async () => {
    net = await startIndexedDevnet()
    mirror = await openAnalyticsDb(':memory:')
    duck = await mirror.connect()
  })
  afterAll(async () => {
    mirror?.close()
    await net?.close()
  })

  const metric = async (metricId: string, distribution: string, scopeKind: string, scopeId: string) => {
    const r = await net.pool.query(
      `SELECT value::float8 AS value, value_exact, input_row_count, input_digest, as_of_block FROM metric_value
       WHERE metric = $1 AND distribution = $2 AND scope_kind = $3 AND scope_id = $4 ORDER BY as_of_block DESC LIMIT 1`,
      [metricId, distribution, scopeKind, scopeId],
    )
    expect(r.rowCount, `${metricId} ${distribution} ${scopeKind} ${scopeId}`).toBe(1)
    return r.rows[0] as {value: number | null; value_exact: string | null; input_row_count: number; input_digest: string; as_of_block: number}
  }

  it('computes concentration equal to chain truth read over RPC, with provenance', async () => {
    const run = await refreshAnalytics({duck, pg: net.pool, contracts: net.contracts, backfillEvery: 10})
    expect(run.blocks.at(-1)).toBe(net.head)
    expect(run.metricValues).toBeGreaterThan(100)

    const client = chainClient(net.anvil.rpcUrl)
    const token = net.deployment.token as Address
    const abi = loadAbi('DeAIToken')
    const holders = (await net.pool.query<{a: string}>(`SELECT account_id AS a FROM token_holder`)).rows.map((r) => r.a)
    const read = (fn: string, a: string) =>
      client.readContract({address: token, abi, functionName: fn, args: [getAddress(a)], blockNumber: BigInt(net.head)}) as Promise<bigint>
    const balances = await Promise.all(holders.map((a) => read('balanceOf', a)))
    const votes = await Promise.all(holders.map((a) => read('getVotes', a)))

    for (const [distribution, weights] of [['balances', balances], ['voting_power', votes]] as const) {
      const expected = concentrationRef(weights.filter((w) => w > 0n))
      const scope = token.toLowerCase()
      const close = (id: string, want: number | null) => async () => {
        const got = (await metric(`concentration.${id}`, distribution, 'token', scope)).value
        if (want === null) expect(got).toBeNull()
        else expect(Math.abs(got! - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)))
      }
      await close('gini', expected.gini)()
      await close('hhi', expected.hhi)()
      await close('entropy', expected.entropy)()
      await close('theil', expected.theil)()
      await close('top1_share', expected.top1Share)()
      await close('top10_share', expected.top10Share)()
      const count = await metric('concentration.count', distribution, 'token', scope)
      expect(Number(count.value_exact)).toBe(expected.count)
      expect(count.input_row_count).toBe(expected.count)
      // The input digest, recomputed from chain truth outside DuckDB (input-digest.ts: the sum of the rows' md5
      // numbers mod 2^128, each row rendered as DuckDB renders it).
      const rows = holders.flatMap((a, i) => (weights[i]! > 0n ? [`{'entity': ${a.toLowerCase()}, 'w': ${weights[i]!.toString()}}`] : []))
      expect(count.input_digest).toBe(inputDigestOf(rows))
      expect((await metric('concentration.nakamoto_50', distribution, 'token', scope)).value_exact).toBe(String(expected.nakamoto50))
      expect((await metric('concentration.total', distribution, 'token', scope)).value_exact).toBe(
        weights.reduce((a, b) => a + b, 0n).toString(),
      )
    }
  })

  it('flags the deliberately unfair reward epochs', async () => {
    const verdicts = await net.pool.query<{contributor: string; verdict: string}>(
      `SELECT contributor, verdict FROM fairness_entry WHERE scope_kind = 'protocol' AND as_of_block = $1`,
      [net.head],
    )
    const byAddress = new Map(verdicts.rows.map((r) => [r.contributor, r.verdict]))
    expect(net.scenario.insiders.length).toBeGreaterThan(0)
    for (const insider of net.scenario.insiders) expect(byAddress.get(insider.toLowerCase())).toBe('over_rewarded')
    for (const under of net.scenario.underRewarded) expect(byAddress.get(under.toLowerCase())).toBe('under_rewarded')
    const over = await metric('fairness.over_rewarded', 'contributions_vs_rewards', 'protocol', 'protocol')
    expect(Number(over.value_exact)).toBeGreaterThanOrEqual(net.scenario.insiders.length)
    const tvd = await metric('fairness.tvd', 'contributions_vs_rewards', 'protocol', 'protocol')
    expect(tvd.value).toBeGreaterThan(0.05)
  })

  it('measures delegate activity: delegates with voting power who voted at least once', async () => {
    const expected = await net.pool.query<{delegates: number; active: number}>(
      `SELECT count(*)::int AS delegates,
              count(*) FILTER (WHERE h.account_id IN (SELECT voter FROM vote))::int AS active
       FROM token_holder h WHERE h.votes > 0`,
    )
    const governor = net.deployment.governor.toLowerCase()
    const delegates = await metric('participation.delegates', 'delegates', 'governor', governor)
    const active = await metric('participation.active_delegates', 'delegates', 'governor', governor)
    expect(Number(delegates.value_exact)).toBe(expected.rows[0]!.delegates)
    expect(Number(active.value_exact)).toBe(expected.rows[0]!.active)
    expect(expected.rows[0]!.active).toBeGreaterThan(0)
  })

  it('keeps a time series: backfill points every 10 blocks up to the finalized height, and the head', async () => {
    const points = await net.pool.query<{b: number}>(
      `SELECT DISTINCT as_of_block AS b FROM metric_value WHERE metric = 'concentration.gini' AND distribution = 'balances' ORDER BY 1`,
    )
    const blocks = points.rows.map((r) => Number(r.b))
    expect(blocks.at(-1)).toBe(net.head)
    expect(blocks.filter((b) => b % 10 === 0).length).toBeGreaterThanOrEqual(Math.floor((net.head - 10) / 10) - 1)
    // A refresh with nothing new computes only the head again, and the series keeps its points.
    const again = await refreshAnalytics({duck, pg: net.pool, contracts: net.contracts, backfillEvery: 10})
    expect(again.blocks).toEqual([net.head])
  })

  it("computes a follower's suite (fairness from kept amounts) exactly as a one-off suite", async () => {
    const head = (await readSyncState(duck))!.height
    const fromBlock = Math.min(...net.contracts.contracts.map((c) => c.startBlock))
    const oneOff = await computeSuite(duck, net.contracts, head, fromBlock)
    await forgetKeptFairness(duck)
    // The first builds the kept amounts from the inputs, the second follows inputs that did not change.
    for (let run = 0; run < 2; run++) {
      const follower = await computeSuite(duck, net.contracts, head, fromBlock, {keepState: true})
      const fairness = (r: SuiteResults) => r.metrics.filter((m) => m.distribution === 'contributions_vs_rewards')
      expect(fairness(follower).length).toBeGreaterThan(0)
      expect(follower.metrics).toEqual(oneOff.metrics)
      expect(follower.fairness).toEqual(oneOff.fairness)
      expect(follower.lorenz).toEqual(oneOff.lorenz)
      // The fairness rows did come from the kept amounts: the copy holds the scenario's contributions.
      expect(Number((await queryOne(duck, `SELECT count(*) AS n FROM fairness_kept_contrib`)).n)).toBeGreaterThan(0)
    }
  })
})

describe('reproducing a stored value with stock DuckDB', () => {
  let net: IndexedDevnet
  let mirror: AnalyticsDb
  let duck: DuckDBConnection
  let dir: string

  beforeAll(async () => {
    net = await startIndexedDevnet({accounts: 30, events: 800, seed: 5})
    mirror = await openAnalyticsDb(':memory:')
    duck = await mirror.connect()
    await refreshAnalytics({duck, pg: net.pool, contracts: net.contracts})
    dir = mkdtempSync(path.join(os.tmpdir(), 'deai-reproduce-'))
  })
  afterAll(async () => {
    mirror?.close()
    await net?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  for (const [metricId, distribution, scopeKind] of [
    ['concentration.gini', 'balances', 'token'],
    ['concentration.nakamoto_quorum', 'voting_power', 'token'],
    ['fairness.tvd', 'contributions_vs_rewards', 'protocol'],
  ] as const) {
    it(`exports inputs (Parquet, CSV) and SQL that recompute ${metricId} of ${distribution}`, async () => {
      const scopeId = scopeKind === 'token' ? net.deployment.token.toLowerCase() : 'protocol'
      const id = `${metricId}/${distribution}/${scopeKind}/${scopeId}/${net.head}`
      const stored = await net.pool.query(`SELECT value::float8 AS value, value_exact, input_digest FROM metric_value WHERE id = $1`, [id])
      expect(stored.rowCount).toBe(1)
      const out = await exportForReproduction(duck, net.contracts, parseMetricValueId(id), path.join(dir, metricId))
      for (const f of out.files) expect(existsSync(path.join(out.dir, f))).toBe(true)
      if (stored.rows[0].value_exact != null) expect(String(out.recomputed)).toBe(stored.rows[0].value_exact)
      else {
        // Floating sums (entropy, TVD) may be added in another order by DuckDB's parallel aggregation: equal to
        // within a few units in the last place, not necessarily bit for bit.
        const want = Number(stored.rows[0].value)
        expect(Math.abs(Number(out.recomputed) - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)))
      }
      if (distribution !== 'contributions_vs_rewards') expect(out.inputDigest).toBe(stored.rows[0].input_digest)
    })
  }
})

/**
 * INPUT_DIGEST_SQL without DuckDB: per row, md5 of its text read as DuckDB's md5_number_upper (the first 8 bytes,
 * little-endian) and md5_number_lower (the last 8); the digest is Σ (upper·2^64 + lower) mod 2^128 in hex.
 */
function inputDigestOf(rowTexts: readonly string[]): string {
  let sum = 0n
  for (const text of rowTexts) {
    const h = createHash('md5').update(text, 'utf8').digest()
    sum += (h.readBigUInt64LE(0) << 64n) + h.readBigUInt64LE(8)
  }
  return (sum % 2n ** 128n).toString(16).padStart(32, '0')
}
