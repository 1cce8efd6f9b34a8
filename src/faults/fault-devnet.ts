import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Pool} from 'pg'
import {type AnvilInstance, startAnvil} from '../devnet/anvil'
import {type Deployment, deployProtocol, writeContractsConfig} from '../devnet/deploy'
import {runScenario, type ScenarioOptions, type ScenarioResult} from '../devnet/scenario'
import {type ContractsConfig, loadContractsConfig} from '../processor/contracts-config'
import {type TestDatabase, withTestDatabase} from '../test-support/pg'
import {chainClient} from '../verify/chain-reader'

/**
 * A fault case's chain: a real anvil with the protocol deployed and the seeded scenario played (not yet indexed),
 * plus the databases it hands out. `close()` stops and removes everything it made, also after a failed test.
 */
export interface FaultDevnet {
  anvil: AnvilInstance
  deployment: Deployment
  scenario: ScenarioResult
  contractsFile: string
  contracts: ContractsConfig
  head(): Promise<number>
  /** A fresh migrated database on the test server, with a small pool; dropped by close(). */
  freshDatabase(prefix: string): Promise<{db: TestDatabase; pool: Pool}>
  close(): Promise<void>
}

/** Few transactions per block, so ingestion spans hundreds of blocks and many batches for faults to land in. */
export const FAULT_SCENARIO: Omit<ScenarioOptions, 'seed'> = {accounts: 30, events: 1200, perBlock: 8}

export async function startFaultDevnet(seed: number, scenario: Omit<ScenarioOptions, 'seed'> = FAULT_SCENARIO): Promise<FaultDevnet> {
  const cleanup: (() => Promise<void>)[] = []
  const close = async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined)
  }
  try {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const deployment = await deployProtocol(anvil.rpcUrl)
    const result = await runScenario(anvil.rpcUrl, deployment, {...scenario, seed})
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-faults-'))
    cleanup.push(async () => rmSync(tmp, {recursive: true, force: true}))
    const contractsFile = path.join(tmp, 'contracts.json')
    writeContractsConfig(deployment, contractsFile)
    const client = chainClient(anvil.rpcUrl)
    return {
      anvil,
      deployment,
      scenario: result,
      contractsFile,
      contracts: loadContractsConfig(contractsFile),
      head: async () => Number(await client.getBlockNumber()),
      async freshDatabase(prefix: string) {
        const db = await withTestDatabase({prefix})
        cleanup.push(() => db.drop())
        const pool = new Pool({connectionString: db.url, max: 4})
        // An idle connection that dies while the database is dropped at teardown must not crash the run.
        pool.on('error', () => undefined)
        cleanup.push(() => pool.end())
        return {db, pool}
      },
      close,
    }
  } catch (e) {
    await close()
    throw e
  }
}
