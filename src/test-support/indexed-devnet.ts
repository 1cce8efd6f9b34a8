import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Pool} from 'pg'
import {type AnvilInstance, startAnvil} from '../devnet/anvil'
import {type Deployment, deployProtocol, writeContractsConfig} from '../devnet/deploy'
import {runScenario, type ScenarioOptions, type ScenarioResult} from '../devnet/scenario'
import {type ContractsConfig, loadContractsConfig} from '../processor/contracts-config'
import {spawnProcessor} from '../processor/spawn'
import {chainClient} from '../verify/chain-reader'
import {type TestDatabase, withTestDatabase} from './pg'

/**
 * A real anvil with the protocol deployed and the seeded scenario played, indexed to its head by the compiled
 * processor into a fresh test database. `close()` stops and removes everything, also after a failed test.
 */
export interface IndexedDevnet {
  anvil: AnvilInstance
  deployment: Deployment
  scenario: ScenarioResult
  head: number
  contractsFile: string
  contracts: ContractsConfig
  db: TestDatabase
  pool: Pool
  close(): Promise<void>
}

export async function startIndexedDevnet(
  scenario: Omit<ScenarioOptions, 'seed'> & {seed?: number} = {accounts: 40, events: 1500},
): Promise<IndexedDevnet> {
  const cleanup: (() => Promise<void>)[] = []
  const close = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined)
  }
  try {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const deployment = await deployProtocol(anvil.rpcUrl)
    const result = await runScenario(anvil.rpcUrl, deployment, {seed: 11, ...scenario})
    const head = Number(await chainClient(anvil.rpcUrl).getBlockNumber())
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-devnet-'))
    cleanup.push(async () => rmSync(tmp, {recursive: true, force: true}))
    const contractsFile = path.join(tmp, 'contracts.json')
    writeContractsConfig(deployment, contractsFile)
    const db = await withTestDatabase({prefix: 'devnet'})
    cleanup.push(() => db.drop())
    const pool = new Pool({connectionString: db.url, max: 4})
    // An idle connection that dies while the database is dropped at teardown must not crash the run.
    pool.on('error', () => undefined)
    cleanup.push(() => pool.end())
    const proc = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
    try {
      await proc.waitForHeight(head)
    } finally {
      await proc.stop()
    }
    return {anvil, deployment, scenario: result, head, contractsFile, contracts: loadContractsConfig(contractsFile), db, pool, close}
  } catch (e) {
    await close()
    throw e
  }
}
