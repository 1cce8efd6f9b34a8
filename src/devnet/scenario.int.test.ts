/**
 * Plays the scenario on real anvil nodes and checks it from the outside (raw logs and on-chain state),
 * not through the generator's own bookkeeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPublicClient, decodeEventLog, http, zeroAddress, type Abi, type Address, type Hex } from 'viem'
import { compileContracts, type CompiledContracts } from '../contracts/compile'
import { startAnvil, type AnvilInstance } from './anvil'
import { deployProtocol, type Deployment } from './deploy'
import { Rpc } from './rpc'
import {
  PROPOSAL_STATES, runScenario, startLiveActivity, type ScenarioOptions, type ScenarioResult,
} from './scenario'

const FIXED_TIME = { genesisTimestamp: 1_767_225_600 } // reproducible block timestamps
const SMALL: ScenarioOptions = { seed: 42, accounts: 40, events: 1500, perBlock: 25 }

interface Decoded {
  address: Address
  block: number
  logIndex: number
  eventName: string
  args: Record<string, unknown>
}

async function decodedLogs(rpcUrl: string, d: Deployment, compiled: CompiledContracts): Promise<Decoded[]> {
  const abiOf = new Map<string, Abi>([
    [d.token, compiled.DeAIToken.abi], [d.governor, compiled.DeAIGovernor.abi],
    [d.timelock, compiled.DeAITimelock.abi], [d.modelRegistry, compiled.ModelRegistry.abi],
    [d.contributionRegistry, compiled.ContributionRegistry.abi], [d.rewardDistributor, compiled.RewardDistributor.abi],
  ])
  const logs = await new Rpc(rpcUrl).call<{ address: Address; topics: [Hex, ...Hex[]]; data: Hex; blockNumber: Hex; logIndex: Hex }[]>(
    'eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest' }])
  return logs.map((l) => {
    const abi = abiOf.get(l.address.toLowerCase())
    if (!abi) throw new Error(`log from unknown address ${l.address}`)
    const ev = decodeEventLog({ abi, topics: l.topics, data: l.data })
    return {
      address: l.address.toLowerCase() as Address, block: Number(l.blockNumber), logIndex: Number(l.logIndex),
      eventName: String(ev.eventName), args: { ...(ev.args as unknown as Record<string, unknown>) },
    }
  })
}

async function play(opts: ScenarioOptions): Promise<{ anvil: AnvilInstance; d: Deployment; r: ScenarioResult }> {
  const anvil = await startAnvil({ fixedTime: FIXED_TIME })
  try {
    const d = await deployProtocol(anvil.rpcUrl)
    return { anvil, d, r: await runScenario(anvil.rpcUrl, d, opts) }
  } catch (e) {
    await anvil.stop()
    throw e
  }
}

describe('devnet scenario', () => {
  let compiled: CompiledContracts
  let run: Awaited<ReturnType<typeof play>> | undefined
  let logs: Decoded[]
  const byName = (name: string): Decoded[] => logs.filter((l) => l.eventName === name)

  beforeAll(async () => {
    compiled = await compileContracts()
    run = await play(SMALL)
    logs = await decodedLogs(run.anvil.rpcUrl, run.d, compiled)
  }, 60_000)

  afterAll(async () => {
    await run?.anvil.stop()
  })

  it('leaves every proposal in the state it was steered to', async () => {
    const { anvil, d, r } = run!
    const client = createPublicClient({ transport: http(anvil.rpcUrl), cacheTime: 0, pollingInterval: 50 })
    expect(r.proposals.map((p) => p.expectedOutcome).sort()).toEqual(
      ['Active', 'Canceled', 'Defeated', 'Defeated', 'Executed', 'Queued', 'Succeeded'])
    for (const p of r.proposals) {
      const state = await client.readContract({
        address: d.governor, abi: compiled.DeAIGovernor.abi, functionName: 'state', args: [p.proposalId],
      })
      expect(`${p.case}: ${PROPOSAL_STATES[Number(state)]}`).toBe(`${p.case}: ${p.expectedOutcome}`)
    }
  })

  it('emits at least the requested number of logs, all within the reported blocks', () => {
    const { r, d } = run!
    const scenarioLogs = logs.filter((l) => l.block >= r.fromBlock && l.block <= r.toBlock)
    expect(logs.length).toBeGreaterThanOrEqual(SMALL.events)
    expect(scenarioLogs.length).toBe(r.logCount)
    expect(logs.every((l) => l.block >= d.startBlock && l.block <= r.toBlock)).toBe(true)
  })

  it('covers the edge cases the indexer and the analytics must handle', () => {
    const { r } = run!
    expect(new Set(byName('ContributionSubmitted').map((l) => l.args.kind))).toEqual(new Set([0, 1, 2, 3, 4]))
    const contributorOf = new Map(byName('ContributionSubmitted').map((l) => [l.args.contributionId, l.args.contributor]))
    expect(byName('ContributionValidated').some((l) => contributorOf.get(l.args.contributionId) === l.args.validator)).toBe(true)
    expect(byName('ContributionValidated').some((l) => l.args.accepted === false)).toBe(true)
    expect(byName('ValidatorUpdated').some((l) => l.args.active === false)).toBe(true)
    expect(byName('ModelOwnershipTransferred')).toHaveLength(1)
    expect(byName('ModelVersionPublished').some((l) => (l.args.parentVersionId as bigint) > 0n)).toBe(true)
    const changes = byName('DelegateChanged')
    expect(changes.some((l) => l.args.fromDelegate !== zeroAddress)).toBe(true)
    const edges = new Set(changes.map((l) => `${l.args.delegator}>${l.args.toDelegate}`))
    expect(changes.some((l) => l.args.delegator !== l.args.toDelegate &&
      edges.has(`${l.args.toDelegate}>${l.args.delegator}`))).toBe(true)
    expect(byName('VoteCast').some((l) => l.args.weight === 0n)).toBe(true)
    expect(byName('VoteCastWithParams')).not.toHaveLength(0)
    for (const support of [0, 1, 2]) {
      expect(byName('VoteCast').some((l) => l.args.support === support && (l.args.reason as string).length > 0)).toBe(true)
    }
    expect(byName('VoteCast').some((l) => l.args.reason === '')).toBe(true)
    expect(byName('ProposalExecuted')).toHaveLength(1)
    expect(byName('EpochOpened').some((l) => l.args.modelId === 0n)).toBe(true)
    expect(byName('EpochClosed').length).toBe(byName('EpochOpened').length - 1)
    expect(r.insiders).toHaveLength(2)
    for (const a of r.insiders) expect(r.delegates).toContain(a)
  })

  it('pays insiders several times their validated share and the under-rewarded less than half', () => {
    const { r } = run!
    const lower = (a: unknown): string => String(a).toLowerCase()
    const submitted = new Map(byName('ContributionSubmitted').map((l) => [l.args.contributionId, l]))
    for (const epoch of byName('EpochOpened')) {
      const paid = byName('RewardPaid').filter((l) => l.args.epochId === epoch.args.epochId)
      if (paid.length === 0) continue
      const payBlock = paid[0]!.block
      // Fair weights from events alone: accepted validations before the payout, units × score.
      const fair = new Map<string, bigint>()
      for (const v of byName('ContributionValidated')) {
        const c = submitted.get(v.args.contributionId)!
        if (v.block >= payBlock || !v.args.accepted) continue
        if (epoch.args.modelId !== 0n && c.args.modelId !== epoch.args.modelId) continue
        const who = lower(c.args.contributor)
        fair.set(who, (fair.get(who) ?? 0n) + (c.args.units as bigint) * BigInt(v.args.score as number))
      }
      const paidTo = new Map(paid.map((l) => [lower(l.args.recipient), l.args.amount as bigint]))
      const W = Number([...fair.values()].reduce((s, x) => s + x, 0n))
      const P = Number([...paidTo.values()].reduce((s, x) => s + x, 0n))
      const ratio = (a: string): number => (Number(paidTo.get(a) ?? 0n) / P) / (Number(fair.get(a) ?? 0n) / W)
      for (const a of r.insiders) if (fair.has(a)) expect(ratio(a)).toBeGreaterThan(2)
      for (const a of r.underRewarded) if (fair.has(a)) expect(ratio(a)).toBeLessThan(0.5)
    }
  })

  // Last in this block: it mines more blocks, which moves the 'activeAtEnd' proposal on.
  it('keeps a live trickle of blocks with activity going until stopped', async () => {
    const { anvil, d, r } = run!
    const errors: unknown[] = []
    const live = startLiveActivity(anvil.rpcUrl, d, { seed: 99, intervalMs: 10, onError: (e) => errors.push(e) })
    const rpc = new Rpc(anvil.rpcUrl)
    try {
      const deadline = Date.now() + 20_000
      while (Number(await rpc.call<Hex>('eth_blockNumber')) < r.toBlock + 25 && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 50))
      }
    } finally {
      await live.stop()
    }
    expect(errors).toEqual([])
    const after = (await decodedLogs(anvil.rpcUrl, d, compiled)).filter((l) => l.block > r.toBlock)
    const names = new Set(after.map((l) => l.eventName))
    for (const n of ['Transfer', 'ContributionSubmitted', 'ContributionValidated', 'ProposalCreated', 'VoteCast']) {
      expect(names).toContain(n)
    }
    // Mining is handed back to the node: a plain transaction gets mined on its own.
    const head = Number(await rpc.call<Hex>('eth_blockNumber'))
    await rpc.call('eth_sendTransaction', [{ from: d.deployer, to: d.deployer, value: '0x1' }])
    await new Promise((res) => setTimeout(res, 100))
    expect(Number(await rpc.call<Hex>('eth_blockNumber'))).toBe(head + 1)
  }, 30_000)
})

describe('devnet scenario determinism', () => {
  it('replays the same seed to the same log sequence on fresh nodes', async () => {
    const compiled = await compileContracts()
    const opts: ScenarioOptions = { seed: 7, accounts: 30, events: 800, perBlock: 20 }
    const runs = await Promise.allSettled([play(opts), play(opts), play({ ...opts, seed: 8 })])
    try {
      const [a, b, c] = runs.map((x) => {
        if (x.status === 'rejected') throw x.reason
        return x.value
      }) as [Awaited<ReturnType<typeof play>>, Awaited<ReturnType<typeof play>>, Awaited<ReturnType<typeof play>>]
      const [la, lb, lc] = await Promise.all([a, b, c].map((x) => decodedLogs(x.anvil.rpcUrl, x.d, compiled)))
      expect(la!.length).toBeGreaterThanOrEqual(opts.events)
      expect(lb).toEqual(la)
      expect(b.r).toEqual(a.r)
      expect(lc!.map((l) => l.args)).not.toEqual(la!.map((l) => l.args))
    } finally {
      await Promise.all(runs.map((x) => (x.status === 'fulfilled' ? x.value.anvil.stop() : undefined)))
    }
  }, 60_000)
})
