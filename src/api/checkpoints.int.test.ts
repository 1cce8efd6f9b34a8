import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Pool} from 'pg'
import {type Address, getAddress} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {MIGRATIONS_DIR} from '../db/migrate'
import {type AnvilInstance, startAnvil} from '../devnet/anvil'
import {type Deployment, deployProtocol, writeContractsConfig} from '../devnet/deploy'
import {runScenario} from '../devnet/scenario'
import {spawnProcessor, type ProcessorProcess} from '../processor/spawn'
import {readIndexStatus} from '../processor/status'
import {type TestDatabase, withTestDatabase} from '../test-support/pg'
import {mineTransfers, reorgWithTransfers} from '../test-support/reorg'
import {chainClient, loadAbi} from '../verify/chain-reader'
import {createApiPool} from './db'
import {gqlOk, TEST_API_CONFIG} from './testing'
import {type Api, createApi} from './yoga'

/**
 * The balance checkpoints behind every `atBlock` balance (written by the processor, one row per account and block):
 * after a reorg inside the finality window the orphaned blocks' checkpoints are rolled back with them and the
 * re-mined blocks' written, so atBlock answers still equal balanceOf at every block of the reorged range; and the
 * migration's backfill (for databases indexed before checkpoints existed) computes exactly what the processor writes.
 */
describe('balance checkpoints', () => {
  let anvil: AnvilInstance
  let deployment: Deployment
  let tmp: string
  let db: TestDatabase
  let pool: Pool
  let apiPool: Pool
  let api: Api
  let proc: ProcessorProcess
  const orphanReceiver = '0x00000000000000000000000000000000000000c1'
  const newReceiver = '0x00000000000000000000000000000000000000c2'
  const abi = loadAbi('DeAIToken')

  beforeAll(async () => {
    anvil = await startAnvil()
    deployment = await deployProtocol(anvil.rpcUrl)
    await runScenario(anvil.rpcUrl, deployment, {seed: 5, accounts: 20, events: 400})
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-checkpoints-'))
    const contractsFile = path.join(tmp, 'contracts.json')
    writeContractsConfig(deployment, contractsFile)
    db = await withTestDatabase({prefix: 'checkpoints'})
    pool = new Pool({connectionString: db.url, max: 2})
    pool.on('error', () => undefined)
    apiPool = createApiPool(db.url, {statementTimeoutMs: 10_000})
    apiPool.on('error', () => undefined)
    api = createApi({pool: apiPool, config: TEST_API_CONFIG})
    proc = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
    await proc.waitForHeight(Number(await chainClient(anvil.rpcUrl).getBlockNumber()))
  })
  afterAll(async () => {
    await proc?.stop()
    await apiPool?.end()
    await pool?.end()
    await db?.drop()
    await anvil?.stop()
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  const checkpointsOf = async (account: string) =>
    (await pool.query(`SELECT count(*)::int AS n FROM balance_checkpoint WHERE account = $1`, [account])).rows[0].n as number

  const balanceOf = async (account: string, block: number) =>
    String(
      await chainClient(anvil.rpcUrl).readContract({
        address: deployment.token as Address,
        abi,
        functionName: 'balanceOf',
        args: [getAddress(account)],
        blockNumber: BigInt(block),
      }),
    )

  it('rolls back orphaned checkpoints in a reorg, and atBlock balances equal balanceOf across the reorged blocks', async () => {
    await mineTransfers(anvil.rpcUrl, deployment, orphanReceiver, 3)
    const client = chainClient(anvil.rpcUrl)
    const before = Number(await client.getBlockNumber())
    await proc.waitForHeight(before)
    expect(await checkpointsOf(orphanReceiver)).toBe(3)

    await reorgWithTransfers(anvil.rpcUrl, deployment, 3, newReceiver)
    const head = Number(await client.getBlockNumber())
    await proc.waitForHeight(head)
    const block = await client.getBlock({blockNumber: BigInt(head)})
    for (let i = 0; i < 50 && (await readIndexStatus(pool)).hash !== block.hash; i++) await new Promise((r) => setTimeout(r, 100))
    expect((await readIndexStatus(pool)).hash).toBe(block.hash)

    expect(await checkpointsOf(orphanReceiver)).toBe(0)
    expect(await checkpointsOf(newReceiver)).toBeGreaterThan(0)
    const accounts = [orphanReceiver, newReceiver, deployment.deployer.toLowerCase()]
    for (let b = before - 4; b <= head; b++) {
      for (const a of accounts) {
        const {account} = await gqlOk(api, `query($a: Address!, $b: Int) { account(address: $a, atBlock: $b) { holdings { balance } } }`, {a, b})
        expect({a, b, balance: account.holdings[0].balance}).toEqual({a, b, balance: await balanceOf(a, b)})
      }
      // The ranking as of the block reads the same checkpoints: its top holders' balances are balanceOf's.
      const {topHolders} = await gqlOk(
        api,
        `query($t: Address!, $b: Int) { topHolders(token: $t, atBlock: $b, first: 5) { edges { node { address balance } } } }`,
        {t: deployment.token, b},
      )
      expect(topHolders.edges.length).toBeGreaterThan(0)
      for (const {node} of topHolders.edges) expect(node.balance).toBe(await balanceOf(node.address, b))
    }
  })

  it('the migration backfill computes exactly the checkpoints the processor wrote', async () => {
    const {rows: counted} = await pool.query(`SELECT count(*)::int AS n FROM balance_checkpoint`)
    expect(counted[0].n).toBeGreaterThan(50)
    const Migration = require(path.join(MIGRATIONS_DIR, '1795620290926-BalanceCheckpoints.js'))
    const statements: string[] = []
    await new Migration().up({query: async (sql: string) => void statements.push(sql)})
    const backfill = statements.find((s) => s.trim().startsWith('INSERT INTO "balance_checkpoint"'))
    expect(backfill).toBeDefined()
    const c = await pool.connect()
    try {
      await c.query('BEGIN')
      await c.query(`CREATE TEMP TABLE written ON COMMIT DROP AS SELECT * FROM balance_checkpoint`)
      await c.query(`DELETE FROM balance_checkpoint`)
      await c.query(backfill!)
      const {rows} = await c.query(
        `SELECT (SELECT count(*) FROM (SELECT * FROM written EXCEPT SELECT * FROM balance_checkpoint) x)::int AS missing,
                (SELECT count(*) FROM (SELECT * FROM balance_checkpoint EXCEPT SELECT * FROM written) y)::int AS extra`,
      )
      expect(rows[0]).toEqual({missing: 0, extra: 0})
    } finally {
      await c.query('ROLLBACK')
      c.release()
    }
  })
})
