import {promises as fs} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createDatabase} from '../db/databases'
import {type EmbeddedPostgres, startEmbeddedPostgres} from '../db/embedded'
import {applyMigrations} from '../db/migrate'
import {withDatabase} from '../db/url'
import {Rng} from '../devnet/prng'
import {readIndexStatus} from '../processor/status'
import {type SupervisedProcessor, superviseProcessor} from '../processor/supervise'
import {mineTokenActivity} from './activity'
import {type FaultDevnet, startFaultDevnet} from './fault-devnet'
import {expectIndexMatchesChain} from './invariant'

/**
 * Postgres stopped (fast shutdown: every connection cut) and started again while the processor ingests. The test
 * runs its own embedded Postgres on a free port so it can do that without touching anyone else's server.
 * Expected: the Subsquid process dies on the lost connection (its runner exits on any error) with the batch in
 * flight rolled back; the supervisor (src/processor/supervise.ts, the one npm start uses) logs each exit and
 * restarts it with growing delays, restarts fail while the database is down, and once it is back the processor
 * resumes from the last committed batch. The index then equals the chain.
 */
const SEED = 5151
const OUTAGE_MS = 2_500

describe('Postgres restart', () => {
  let devnet: FaultDevnet
  let tmp: string
  let pg: EmbeddedPostgres | undefined
  let dbUrl: string
  let pool: Pool
  let processor: SupervisedProcessor
  const rng = new Rng(SEED).fork('pg-restart')
  const supervisorLines: string[] = []

  beforeAll(async () => {
    devnet = await startFaultDevnet(SEED)
    // Enough blocks that catching up takes seconds, so the outage lands mid-ingestion.
    await mineTokenActivity(devnet.anvil.rpcUrl, devnet.deployment, devnet.scenario.accounts, rng, {blocks: 400, perBlock: 3})
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deai-faults-pg-'))
    pg = await startPostgres()
    await createDatabase(pg.url, 'faults_pg_restart')
    dbUrl = withDatabase(pg.url, 'faults_pg_restart')
    await applyMigrations(dbUrl)
    pool = new Pool({connectionString: dbUrl, max: 2})
    pool.on('error', () => undefined)
    processor = superviseProcessor({
      databaseUrl: dbUrl,
      rpcUrl: devnet.anvil.rpcUrl,
      contractsFile: devnet.contractsFile,
      stdio: 'pipe',
      restart: {initialDelayMs: 250, maxDelayMs: 2_000, maxFailuresInARow: 20},
      log: (m) => supervisorLines.push(m),
    })
  })
  afterAll(async () => {
    await processor?.stop()
    console.log(supervisorLines.map((l) => `[supervisor] ${l}`).join('\n'))
    await pool?.end().catch(() => undefined)
    await pg?.stop()
    if (tmp) await fs.rm(tmp, {recursive: true, force: true})
    await devnet?.close()
  })

  /** Same data directory and port every time, like a server restarted by its operator. */
  async function startPostgres(port?: number): Promise<EmbeddedPostgres> {
    return startEmbeddedPostgres({dataDir: path.join(tmp, 'data'), port, settings: {fsync: 'off'}, log: () => undefined})
  }

  async function outage(during: () => Promise<void> = async () => undefined): Promise<void> {
    const port = pg!.port
    await pg!.stop()
    pg = undefined
    await Promise.all([during(), new Promise((r) => setTimeout(r, OUTAGE_MS))])
    pg = await startPostgres(port)
  }

  it('trial 1: outage while catching up; restarted with backoff, resumes, index equals chain', async () => {
    const head = await devnet.head()
    const start = devnet.deployment.startBlock
    await processor.waitForHeight(start + Math.floor((head - start) / 4))
    const atOutage = (await readIndexStatus(pool)).height
    await outage()
    await processor.waitForHeight(head, 120_000)
    expect(atOutage, 'the outage must interrupt ingestion').toBeLessThan(head)
    expect(processor.restarts(), 'the processor died with the connection and was restarted').toBeGreaterThanOrEqual(1)
    expect(supervisorLines.some((l) => /exited unexpectedly \(1\).*restart \d+ in \d+ ms/.test(l))).toBe(true)
    await expectInvariant(head)
  })

  it('trial 2: outage while following the head, with new blocks mined during it; index equals chain', async () => {
    const restartsBefore = processor.restarts()
    await outage(() =>
      mineTokenActivity(devnet.anvil.rpcUrl, devnet.deployment, devnet.scenario.accounts, rng, {blocks: 20, perBlock: 4}),
    )
    const head = await devnet.head()
    await processor.waitForHeight(head, 120_000)
    console.log(`[pg-restart] trial 2: ${processor.restarts() - restartsBefore} restart(s)`)
    await expectInvariant(head)
  })

  async function expectInvariant(head: number): Promise<void> {
    await expectIndexMatchesChain({
      rpcUrl: devnet.anvil.rpcUrl,
      pool,
      contracts: devnet.contracts,
      head,
      atLeast: {accounts: devnet.scenario.accounts.length, auditRows: devnet.scenario.logCount, proposals: devnet.scenario.proposals.length},
    })
  }
})
