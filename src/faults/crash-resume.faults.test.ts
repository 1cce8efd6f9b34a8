import type {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Rng} from '../devnet/prng'
import {spawnProcessor} from '../processor/spawn'
import {readIndexStatus} from '../processor/status'
import {mineTokenActivity} from './activity'
import {type FaultDevnet, startFaultDevnet} from './fault-devnet'
import {expectIndexMatchesChain} from './invariant'

/**
 * SIGKILL at seeded random points while the processor ingests, then a restart on the SAME database.
 *
 * One devnet and one database for all trials, each trial resuming what the previous ones left: trial 1 ingests the
 * whole scenario, every later trial first mines 15–40 new blocks of seeded token activity, so every kill lands in
 * real ingestion work (fetching, decoding, a batch write, a hot-block commit or the startup before the first batch).
 * Expected: each batch commits atomically with the processor's status row, so the restarted processor resumes after
 * the last committed block and the index equals the chain with no duplicate and no gap.
 */
const SEED = 20_261_125
const TRIALS = 20

describe('SIGKILL and resume', () => {
  let devnet: FaultDevnet
  let pool: Pool
  let dbUrl: string
  const rng = new Rng(SEED).fork('sigkill')
  const killedBeforeHead: boolean[] = []

  beforeAll(async () => {
    devnet = await startFaultDevnet(SEED)
    const fresh = await devnet.freshDatabase('faults_kill')
    pool = fresh.pool
    dbUrl = fresh.db.url
  })
  afterAll(async () => {
    // How many kills really interrupted ingestion (rather than a processor idling at the head).
    console.log(`[sigkill] ${killedBeforeHead.filter(Boolean).length} of ${killedBeforeHead.length} kills landed before the head`)
    await devnet?.close()
  })

  for (let trial = 1; trial <= TRIALS; trial++) {
    it(`trial ${trial}: killed mid-ingestion, restarted, index equals chain`, async () => {
      if (trial > 1) {
        await mineTokenActivity(devnet.anvil.rpcUrl, devnet.deployment, devnet.scenario.accounts, rng, {blocks: rng.int(15, 40), perBlock: 6})
      }
      const head = await devnet.head()
      const from = (await readIndexStatus(pool)).height
      // Three in four kills at a committed height between where we are and the head (plus jitter, to land inside
      // the next batch), the rest at a time after start (startup, first fetch, first write).
      const plan = rng.chance(0.75)
        ? {kind: 'height' as const, height: rng.int(from + 1, head - 1), jitterMs: rng.int(0, 60)}
        : {kind: 'time' as const, afterMs: rng.int(0, 700)}
      const first = spawnProcessor({databaseUrl: dbUrl, rpcUrl: devnet.anvil.rpcUrl, contractsFile: devnet.contractsFile, stdio: 'pipe'})
      try {
        if (plan.kind === 'height') await waitForCommittedHeight(pool, plan.height, first.exited)
        await sleep(plan.kind === 'height' ? plan.jitterMs : plan.afterMs)
      } finally {
        expect(await first.stop('SIGKILL')).toBe('SIGKILL')
      }
      const atKill = (await readIndexStatus(pool)).height
      killedBeforeHead.push(atKill < head)
      console.log(`[sigkill] trial ${trial}: ${JSON.stringify(plan)}, blocks ${from}..${head}, killed at committed height ${atKill}`)

      const second = spawnProcessor({databaseUrl: dbUrl, rpcUrl: devnet.anvil.rpcUrl, contractsFile: devnet.contractsFile, stdio: 'pipe'})
      try {
        await second.waitForHeight(head, 60_000)
      } finally {
        await second.stop()
      }
      await expectIndexMatchesChain({
        rpcUrl: devnet.anvil.rpcUrl,
        pool,
        contracts: devnet.contracts,
        head,
        atLeast: {accounts: devnet.scenario.accounts.length, auditRows: devnet.scenario.logCount, proposals: devnet.scenario.proposals.length},
      })
    })
  }
})

async function waitForCommittedHeight(pool: Pool, height: number, exited: Promise<unknown>): Promise<void> {
  let gone = false
  void exited.then(() => (gone = true))
  const deadline = Date.now() + 60_000
  while ((await readIndexStatus(pool)).height < height) {
    if (gone) throw new Error(`processor exited before committing block ${height}`)
    if (Date.now() > deadline) throw new Error(`processor did not commit block ${height} within 60 s`)
    await sleep(20)
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
