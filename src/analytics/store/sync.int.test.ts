import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {DuckDBConnection} from '@duckdb/node-api'
import {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type AnvilInstance, startAnvil} from '../../devnet/anvil'
import {type Deployment, deployProtocol, writeContractsConfig} from '../../devnet/deploy'
import {runScenario} from '../../devnet/scenario'
import {type ProcessorProcess, spawnProcessor} from '../../processor/spawn'
import {readIndexStatus} from '../../processor/status'
import {type TestDatabase, withTestDatabase} from '../../test-support/pg'
import {mineTransfers, reorgWithTransfers} from '../../test-support/reorg'
import {chainClient} from '../../verify/chain-reader'
import {type AnalyticsDb, openAnalyticsDb} from '../duckdb'
import {mirrorDigest} from './digest'
import {compareMirrorWithPostgres, type ProtocolAddresses} from './mirror-vs-postgres'
import {MIRROR_TABLES, TYPED_TABLES} from './schema'
import {rebuildFromScratch, type SyncResult, syncFromPostgres} from './sync'

/**
 * End to end, no mocks: anvil + the seeded scenario, the compiled processor (run `npx tsc -p tsconfig.json` first)
 * indexing into a real Postgres, and the mirror synced from it step by step while indexing goes on: after every
 * step it must equal a from-scratch rebuild, and its input relations must equal the processor's own tables.
 */
describe('mirroring the indexed devnet scenario into DuckDB', () => {
  let anvil: AnvilInstance
  let deployment: Deployment
  let head: number
  let tmp: string
  let contractsFile: string
  let db: TestDatabase
  let pool: Pool
  let processor: ProcessorProcess | undefined
  let mirror: AnalyticsDb
  let conn: DuckDBConnection
  let protocol: ProtocolAddresses
  const timings: string[] = []

  beforeAll(async () => {
    anvil = await startAnvil()
    deployment = await deployProtocol(anvil.rpcUrl)
    await runScenario(anvil.rpcUrl, deployment, {seed: 11, accounts: 40, events: 1500})
    head = Number(await chainClient(anvil.rpcUrl).getBlockNumber())
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-mirror-'))
    contractsFile = path.join(tmp, 'contracts.json')
    writeContractsConfig(deployment, contractsFile)
    db = await withTestDatabase({prefix: 'mirror'})
    pool = new Pool({connectionString: db.url, max: 4})
    // The database is dropped WITH (FORCE) after the pool ends: a client still closing gets a FATAL, ignored here.
    pool.on('error', () => undefined)
    mirror = await openAnalyticsDb(':memory:')
    conn = await mirror.connect()
    const lower = (a: string) => a.toLowerCase()
    protocol = {
      token: lower(deployment.token),
      governor: lower(deployment.governor),
      modelRegistry: lower(deployment.modelRegistry),
      contributionRegistry: lower(deployment.contributionRegistry),
      rewardDistributor: lower(deployment.rewardDistributor),
    }
  })

  afterAll(async () => {
    await processor?.stop().catch(() => undefined)
    mirror?.close()
    await pool?.end().catch(() => undefined)
    await db?.drop().catch(() => undefined)
    await anvil?.stop()
    if (tmp) rmSync(tmp, {recursive: true, force: true})
    console.log(timings.join('\n'))
  })

  async function sync(label: string): Promise<SyncResult> {
    const r = await syncFromPostgres(conn, pool)
    timings.push(`${label}: ${r.pulled} rows in ${r.ms} ms (${Math.round((r.pulled * 1000) / Math.max(r.ms, 1))} rows/s), dropped ${r.droppedUnfinalized}, finalized ${r.finalizedHeight}, height ${r.height}`)
    return r
  }

  /** The incremental mirror must hold exactly the rows of a mirror rebuilt from scratch out of the same Postgres. */
  async function expectEqualsRebuild(): Promise<void> {
    const fresh = await openAnalyticsDb(':memory:')
    try {
      const r = await rebuildFromScratch(await fresh.connect(), pool)
      timings.push(`  full rebuild: ${r.pulled} rows in ${r.ms} ms`)
      const rebuilt = await mirrorDigest(await fresh.connect())
      expect(await mirrorDigest(conn)).toEqual(rebuilt)
    } finally {
      fresh.close()
    }
  }

  /** `complete`: the whole scenario is indexed, so every kind of relation must have compared something. */
  async function expectEqualsPostgres(complete: boolean): Promise<void> {
    const report = await compareMirrorWithPostgres(conn, pool, protocol)
    expect(report.mismatches).toEqual([])
    expect(report.checked.balances).toBeGreaterThanOrEqual(20)
    if (!complete) return
    expect(report.checked['voting power']).toBeGreaterThan(0)
    expect(report.checked['proposal quorum and tallies']).toBeGreaterThan(0)
    expect(report.checked['validated contribution']).toBeGreaterThan(0)
    expect(report.checked['rewards']).toBeGreaterThan(0)
    expect(report.checked['self-validations']).toBeGreaterThan(0)
  }

  it('syncs in steps while indexing; every step equals a full rebuild and the processor\'s tables', async () => {
    const mid = Math.floor((deployment.startBlock + head) / 2)
    const first = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe', env: {INDEX_TO_BLOCK: String(mid)}})
    expect(await first.exited).toBe(0)
    const r1 = await sync('sync 1 (to mid-chain)')
    expect(r1.pulled).toBeGreaterThan(0)
    expect(r1.height).toBe(mid)
    await expectEqualsRebuild()
    await expectEqualsPostgres(false)

    // Nothing new, and no reorg: the unfinalized rows stay (unfinalized-tail.ts), and nothing is pulled.
    const unfinalized = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM audit_event WHERE block_number > $f', {f: r1.finalizedHeight}))
      .getRowObjectsJson()[0]?.n)
    const empty = await sync('sync 2 (nothing new)')
    expect(empty).toMatchObject({pulled: 0, droppedUnfinalized: 0, keptUnfinalized: unfinalized})

    processor = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
    await processor.waitForHeight(head)
    const r3 = await sync('sync 3 (to the head)')
    expect(r3.height).toBe(head)
    // The head is inside the finality window: the mirror holds unfinalized rows, to be re-checked next time.
    expect(r3.finalizedHeight).toBeLessThan(head)
    expect(r3.fromId! > r1.toId!).toBe(true)
    await expectEqualsRebuild()
    await expectEqualsPostgres(true)
  })

  it('after a reorg inside the finality window, the orphaned blocks leave every mirror table', async () => {
    const receivers = ['0x00000000000000000000000000000000000000e1', '0x00000000000000000000000000000000000000e2']
    await mineTransfers(anvil.rpcUrl, deployment, receivers[0]!, 3)
    const before = Number(await chainClient(anvil.rpcUrl).getBlockNumber())
    processor ??= spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
    await processor.waitForHeight(before)
    await sync('sync 4 (3 blocks that will be orphaned)')
    const doomed = (await conn.runAndReadAll(`SELECT DISTINCT t.id, e.block_hash FROM token_transfer t JOIN audit_event e USING (id)
      WHERE t.to_addr = $to`, {to: receivers[0]!})).getRowObjectsJson()
    expect(doomed).toHaveLength(3)

    await reorgWithTransfers(anvil.rpcUrl, deployment, 3, receivers[1]!)
    head = Number(await chainClient(anvil.rpcUrl).getBlockNumber())
    await processor.waitForHeight(head)
    const block = await chainClient(anvil.rpcUrl).getBlock({blockNumber: BigInt(head)})
    for (let i = 0; i < 50 && (await readIndexStatus(pool)).hash !== block.hash; i++) await new Promise((r) => setTimeout(r, 100))
    await processor.stop()

    const r = await sync('sync 5 (after the reorg)')
    expect(r.droppedUnfinalized).toBeGreaterThan(0)
    const hashes = doomed.map((d) => String(d.block_hash))
    const orphanIds = doomed.map((d) => String(d.id))
    const left = await conn.runAndReadAll(`SELECT count(*) AS n FROM audit_event WHERE list_contains($hashes::VARCHAR[], block_hash)`, {hashes: `[${hashes.join(',')}]`})
    expect(Number(left.getRowObjectsJson()[0]?.n)).toBe(0)
    for (const table of MIRROR_TABLES) {
      const n = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${table} WHERE list_contains($ids::VARCHAR[], id)`, {ids: `[${orphanIds.join(',')}]`})
      expect(Number(n.getRowObjectsJson()[0]?.n), table).toBe(0)
    }
    // Every typed row still has its audit row: nothing orphaned survives in a typed table.
    for (const t of TYPED_TABLES) {
      const n = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${t.name} x ANTI JOIN audit_event e USING (id)`)
      expect(Number(n.getRowObjectsJson()[0]?.n), t.name).toBe(0)
    }
    const replaced = await conn.runAndReadAll(`SELECT count(*) AS n FROM token_transfer WHERE to_addr = $to`, {to: receivers[1]!})
    expect(Number(replaced.getRowObjectsJson()[0]?.n)).toBe(2)
    await expectEqualsRebuild()
    await expectEqualsPostgres(true)
  })
})
