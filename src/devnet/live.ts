/**
 * A trickle of activity for a live indexer to follow: one block per interval with a few transfers, a
 * contribution and its validation, and now and then a proposal that its actors vote on.
 *
 * Self-contained: it works on any deployment of the protocol, scenario or not. Its actors are derived from
 * its own seed and funded by the operator (the deployer, who owns the token and the registries) at start.
 */
import {
  encodeAbiParameters, hexToBigInt, keccak256, parseAbiParameters, stringToHex, type Address, type Hex,
} from 'viem'
import { Chain } from './chain'
import type { Deployment } from './deploy'
import { Rng, tokens } from './prng'
import { Protocol } from './protocol'
import { deriveAccount } from './scenario/roles'
import { fakeHash } from './scenario/models'

export interface LiveOptions {
  seed: number
  intervalMs: number
  /** Number of live actors (default 10). */
  accounts?: number
  /** Called with errors of a tick (default: console.error); a failing tick does not stop the trickle. */
  onError?: (e: unknown) => void
}

export interface LiveActivity {
  stop(): Promise<void>
}

interface LiveState {
  p: Protocol
  rng: Rng
  actors: Address[]
  balances: Map<Address, bigint>
  modelId: bigint
  nextContribution: bigint
  toValidate: bigint[]
  /** The live proposal being voted on: voters cast one vote per tick from tick `votesFrom` to `votesUntil`. */
  proposal?: { id: bigint; voters: Address[]; votesFrom: number; votesUntil: number }
  tick: number
  /** Block the trickle started at: makes proposal descriptions (hence ids) unique across restarts. */
  origin: number
}

const PROPOSAL_EVERY = 15

async function setUp(rpcUrl: string, d: Deployment, opts: LiveOptions): Promise<LiveState> {
  const rng = new Rng(opts.seed).fork('live')
  const actors = Array.from({ length: Math.max(4, opts.accounts ?? 10) }, (_, i) => deriveAccount(opts.seed, 1_000_000 + i))
  const chain = new Chain(rpcUrl, 100)
  const p = await Protocol.load(chain, d)
  chain.errorAbi = p.errorAbi
  await chain.prepare([...actors, d.deployer])
  const amounts = actors.map(() => tokens(Math.round(rng.pareto(1.2, 1000, 1e6))))
  p.tx(d.deployer, 'token', 'mintBatch', [actors, amounts])
  // Two live validators; everyone delegates to the first actor or to themselves, so votes carry weight.
  for (const v of actors.slice(0, 2)) p.tx(d.deployer, 'contributionRegistry', 'setValidator', [v, true])
  actors.forEach((a, i) => p.tx(a, 'token', 'delegate', [i % 2 === 0 ? (actors[0] as Address) : a]))
  let modelId = await p.read<bigint>('modelRegistry', 'modelCount')
  if (modelId === 0n) {
    p.tx(actors[0] as Address, 'modelRegistry', 'registerModel', ['live-model', 'ipfs://live'])
    modelId = 1n
  }
  await chain.mine()
  return {
    p, rng, actors, modelId, tick: 0, toValidate: [], origin: chain.lastBlock,
    balances: new Map(actors.map((a, i) => [a, amounts[i] as bigint])),
    nextContribution: (await p.read<bigint>('contributionRegistry', 'contributionCount')) + 1n,
  }
}

async function tick(s: LiveState, d: Deployment): Promise<void> {
  const { p, rng, actors } = s
  s.tick++
  for (let i = rng.int(2, 4); i > 0; i--) {
    const from = rng.pick(actors)
    const to = rng.pick(actors)
    const amount = ((s.balances.get(from) ?? 0n) * BigInt(rng.int(1, 50))) / 1000n
    if (from === to || amount === 0n) continue
    p.tx(from, 'token', 'transfer', [to, amount])
    s.balances.set(from, (s.balances.get(from) ?? 0n) - amount)
    s.balances.set(to, (s.balances.get(to) ?? 0n) + amount)
  }
  for (const id of s.toValidate.splice(0)) {
    const accepted = rng.chance(0.8)
    p.tx(rng.pick(actors.slice(0, 2)), 'contributionRegistry', 'validate',
      [id, accepted, accepted ? rng.int(3000, 10_000) : 0, fakeHash(s.rng.seed, `live-report/${id}`)])
  }
  const id = s.nextContribution++
  p.tx(rng.pick(actors), 'contributionRegistry', 'submitContribution',
    [rng.int(1, Number(s.modelId)), rng.int(0, 4), BigInt(rng.int(1, 500)), fakeHash(s.rng.seed, `live/${id}`)])
  s.toValidate.push(id)

  governanceStep(s, d)
  await p.chain.mine()
}

/** Every PROPOSAL_EVERY ticks a zero-amount grant is proposed; three actors then vote, one per tick. */
function governanceStep(s: LiveState, d: Deployment): void {
  const { p, rng, actors } = s
  const pr = s.proposal
  if (pr) {
    // One tick = one block, so ticks measure the governor's block clock.
    if (s.tick >= pr.votesFrom && s.tick <= pr.votesUntil && pr.voters.length > 0) {
      p.tx(pr.voters.shift() as Address, 'governor', 'castVoteWithReason', [pr.id, rng.int(0, 2), 'live vote'])
    }
    if (pr.voters.length === 0 || s.tick > pr.votesUntil) s.proposal = undefined
    return
  }
  if (s.tick % PROPOSAL_EVERY !== 0) return
  const description = `Live grant ${s.origin}-${s.tick}`
  const args = [[d.token], [0n], [p.encode('token', 'transfer', [actors[1], 0n])]] as const
  p.tx(actors[0] as Address, 'governor', 'propose', [...args, description])
  const { votingDelay, votingPeriod } = d.governorSettings
  s.proposal = {
    id: proposalId(args[0], args[1], args[2], keccak256(stringToHex(description))),
    voters: rng.shuffle(actors).slice(0, 3),
    votesFrom: s.tick + votingDelay + 1,
    votesUntil: s.tick + votingDelay + votingPeriod,
  }
}

/** OZ Governor.hashProposal, computed locally (no RPC in the tick's planning). */
function proposalId(targets: readonly Address[], values: readonly bigint[], calldatas: readonly Hex[], descriptionHash: Hex): bigint {
  return hexToBigInt(keccak256(encodeAbiParameters(
    parseAbiParameters('address[], uint256[], bytes[], bytes32'),
    [targets, values, calldatas, descriptionHash],
  )))
}

export function startLiveActivity(rpcUrl: string, deployment: Deployment, opts: LiveOptions): LiveActivity {
  const onError = opts.onError ?? ((e: unknown) => console.error('[devnet live]', e instanceof Error ? e.message : e))
  let stopped = false
  let running: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  const state = setUp(rpcUrl, deployment, opts)
  // A failed set-up ends the trickle (reported once) instead of failing again at every tick.
  state.catch((e: unknown) => {
    stopped = true
    onError(e)
  })
  const loop = (): void => {
    if (stopped) return
    running = state
      .then((s) => tick(s, deployment))
      .catch((e: unknown) => {
        if (!stopped) onError(e)
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, opts.intervalMs)
      })
  }
  loop()
  return {
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
      // Give mining back to the node so manual transactions still get mined.
      await new Chain(rpcUrl, 1).release().catch(() => undefined)
    },
  }
}
