import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Rng} from '../devnet/prng'
import {superviseProcessor} from '../processor/supervise'
import {type RpcFault, type RpcFaultRates, startRpcFaultProxy} from '../test-support/rpc-fault-proxy'
import {mineTokenActivity} from './activity'
import {type FaultDevnet, startFaultDevnet} from './fault-devnet'
import {expectIndexMatchesChain} from './invariant'

/**
 * The processor reads the chain through a loopback proxy (src/test-support/rpc-fault-proxy.ts) that drops
 * connections, delays, answers with JSON-RPC errors and cuts bodies in half, seeded. Expected: Subsquid's RPC client
 * retries what it can; where it gives up, the processor exits and the supervisor restarts it with backoff; either
 * way nothing is committed from a failed fetch, so the index, read back and compared with the chain over a clean
 * connection, equals chain truth. Only slower.
 */
const SEED = 777

/**
 * Subsquid's RPC client retries connection failures (a dropped connection, HTTP 429/502/503/504, timeouts) in-process,
 * but not a JSON-RPC error reply or an unparsable body: those end the process, and the supervisor restarts it. The
 * two trials pin that down: the first must need no restart at all, the second recovers through restarts.
 */
const TRIALS: {name: string; seed: number; rates: RpcFaultRates; restarts: 'none' | 'some'}[] = [
  {name: '15 % dropped connections, 20 % delays: retried in-process', seed: SEED, rates: {drop: 0.15, delay: 0.2, error: 0, truncate: 0}, restarts: 'none'},
  {name: '5 % each of drops, JSON-RPC errors, truncated bodies, 10 % delays: recovered by restarts', seed: SEED + 1,
    rates: {drop: 0.05, delay: 0.1, error: 0.05, truncate: 0.05}, restarts: 'some'},
]

describe('RPC faults', () => {
  let devnet: FaultDevnet

  const injected: Record<RpcFault, number> = {drop: 0, delay: 0, error: 0, truncate: 0}

  beforeAll(async () => {
    devnet = await startFaultDevnet(SEED)
    // More blocks than the scenario alone, so ingestion takes enough requests for every fault kind to occur.
    await mineTokenActivity(devnet.anvil.rpcUrl, devnet.deployment, devnet.scenario.accounts, new Rng(SEED).fork('rpc'), {blocks: 80, perBlock: 4})
  })
  afterAll(async () => {
    await devnet?.close()
  })

  for (const trial of TRIALS) {
    it(`${trial.name}: slower, and the index equals the chain`, async () => {
      const {db, pool} = await devnet.freshDatabase('faults_rpc')
      const proxy = await startRpcFaultProxy(devnet.anvil.rpcUrl, {seed: trial.seed, rates: trial.rates, maxDelayMs: 250})
      const lines: string[] = []
      const processor = superviseProcessor({
        databaseUrl: db.url,
        rpcUrl: proxy.url,
        contractsFile: devnet.contractsFile,
        stdio: 'pipe',
        restart: {initialDelayMs: 100, maxDelayMs: 500, maxFailuresInARow: 10},
        log: (m) => lines.push(m),
      })
      const head = await devnet.head()
      const started = Date.now()
      try {
        await processor.waitForHeight(head, 150_000)
      } finally {
        await processor.stop()
        await proxy.close()
      }
      for (const kind of Object.keys(injected) as RpcFault[]) injected[kind] += proxy.counts[kind]
      console.log(`[rpc-faults] ${trial.name}: head ${head} in ${Date.now() - started} ms, requests ${JSON.stringify(proxy.counts)}, ` +
        `${processor.restarts()} restart(s)\n${lines.map((l) => `  [supervisor] ${l}`).join('\n')}`)
      // The faults really happened: this trial failed requests, and by the last trial every kind has occurred.
      expect(proxy.counts.drop + proxy.counts.error + proxy.counts.truncate, 'failed requests').toBeGreaterThan(0)
      if (trial.restarts === 'none') expect(processor.restarts(), 'connection faults are retried without a restart').toBe(0)
      else expect(processor.restarts(), 'error replies and broken bodies end the process; the supervisor restarts it').toBeGreaterThan(0)
      if (trial === TRIALS[TRIALS.length - 1]) for (const kind of Object.keys(injected) as RpcFault[]) expect(injected[kind], kind).toBeGreaterThan(0)
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
