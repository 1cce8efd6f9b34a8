import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type AnvilInstance, startAnvil} from '../devnet/anvil'
import {type Deployment, deployProtocol, writeContractsConfig} from '../devnet/deploy'
import {runScenario, type ScenarioResult} from '../devnet/scenario'
import {loadContractsConfig} from '../processor/contracts-config'
import {spawnProcessor} from '../processor/spawn'
import {readIndexStatus} from '../processor/status'
import {type TestDatabase, withTestDatabase} from '../test-support/pg'
import {mineTransfers, reorgWithTransfers} from '../test-support/reorg'
import {chainClient} from '../verify/chain-reader'
import {compareIndexWithChain} from '../verify/compare'

/**
 * End to end, no mocks: a real anvil, the real contracts, the seeded scenario, the compiled processor as its own
 * process, a real Postgres. The index is compared with chain truth read independently over RPC.
 */
describe('indexing the devnet scenario', () => {
  let anvil: AnvilInstance
  let deployment: Deployment
  let scenario: ScenarioResult
  let head: number
  let tmp: string
  let contractsFile: string
  const databases: TestDatabase[] = []
  const pools: Pool[] = []

  beforeAll(async () => {
    anvil = await startAnvil()
    deployment = await deployProtocol(anvil.rpcUrl)
    scenario = await runScenario(anvil.rpcUrl, deployment, {seed: 11, accounts: 40, events: 1500})
    head = Number(await chainClient(anvil.rpcUrl).getBlockNumber())
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-e2e-'))
    contractsFile = path.join(tmp, 'contracts.json')
    writeContractsConfig(deployment, contractsFile)
  })

  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => undefined)
    for (const db of databases) await db.drop().catch(() => undefined)
    await anvil?.stop()
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  async function freshDatabase(): Promise<{db: TestDatabase; pool: Pool}> {
    const db = await withTestDatabase({prefix: 'e2e'})
    databases.push(db)
    const pool = new Pool({connectionString: db.url, max: 4})
    // afterAll ends this pool and then drops the database WITH (FORCE): a client still closing gets a FATAL
    // "terminating connection" that, without a listener, surfaces as an unhandled error of the test file.
    pool.on('error', () => undefined)
    pools.push(pool)
    return {db, pool}
  }

  async function expectIndexEqualsChain(pool: Pool): Promise<void> {
    const report = await compareIndexWithChain({
      rpcUrl: anvil.rpcUrl,
      db: pool,
      contracts: loadContractsConfig(contractsFile),
      block: head,
    })
    expect(report.mismatches).toEqual([])
    // The comparison must have compared something real, or an empty index would pass.
    expect(report.checked.accounts).toBeGreaterThanOrEqual(40)
    expect(report.checked.proposals).toBe(scenario.proposals.length)
    expect(report.checked['audit rows']).toBeGreaterThanOrEqual(scenario.logCount)
  }

  it('indexes to the head and equals chain truth: balances, votes, supply, proposals, event counts', async () => {
    const {db, pool} = await freshDatabase()
    const proc = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
    try {
      await proc.waitForHeight(head)
    } finally {
      await proc.stop()
    }
    await expectIndexEqualsChain(pool)
  })

  it('resumes after a clean stop mid-way and after SIGKILL, with no duplicate and no gap', async () => {
    const {db, pool} = await freshDatabase()
    const mid = Math.floor((deployment.startBlock + head) / 2)
    // First run ends by itself at `mid`: a deterministic stop half-way through the chain.
    const first = spawnProcessor({
      databaseUrl: db.url,
      rpcUrl: anvil.rpcUrl,
      contractsFile,
      stdio: 'pipe',
      env: {INDEX_TO_BLOCK: String(mid)},
    })
    expect(await first.exited).toBe(0)
    expect((await readIndexStatus(pool)).height).toBe(mid)

    // Second run is killed without warning as soon as it has committed anything past `mid`.
    const second = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
    try {
      await second.waitForHeight(mid + 1)
    } finally {
      await second.stop('SIGKILL')
    }

    const third = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
    try {
      await third.waitForHeight(head)
    } finally {
      await third.stop()
    }
    await expectIndexEqualsChain(pool)
  })

  it('rolls back a reorg inside the finality window: the re-mined blocks replace the orphaned rows', async () => {
    const {db, pool} = await freshDatabase()
    const receivers = ['0x00000000000000000000000000000000000000e1', '0x00000000000000000000000000000000000000e2']
    // Three blocks with transfers that the reorg will orphan.
    await mineTransfers(anvil.rpcUrl, deployment, receivers[0]!, 3)
    const before = Number(await chainClient(anvil.rpcUrl).getBlockNumber())
    const proc = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
    try {
      await proc.waitForHeight(before)
      const orphaned = await pool.query(`SELECT count(*)::int AS n FROM transfer WHERE "to" = $1`, [receivers[0]])
      expect(orphaned.rows[0].n).toBe(3)
      await reorgWithTransfers(anvil.rpcUrl, deployment, 3, receivers[1]!)
      head = Number(await chainClient(anvil.rpcUrl).getBlockNumber())
      await proc.waitForHeight(head)
      // waitForHeight sees the height; give the status row and the new hash a moment to agree with the chain.
      const block = await chainClient(anvil.rpcUrl).getBlock({blockNumber: BigInt(head)})
      for (let i = 0; i < 50 && (await readIndexStatus(pool)).hash !== block.hash; i++) await new Promise((r) => setTimeout(r, 100))
    } finally {
      await proc.stop()
    }
    const gone = await pool.query(`SELECT count(*)::int AS n FROM transfer WHERE "to" = $1`, [receivers[0]])
    expect(gone.rows[0].n).toBe(0)
    await expectIndexEqualsChain(pool)
  })
})
