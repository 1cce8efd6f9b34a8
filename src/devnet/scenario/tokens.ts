/**
 * Token phase: heavy-tailed genesis distribution, delegation, everyday transfers and a few re-delegations.
 */
import type { Address } from 'viem'
import { tokens, type Rng } from '../prng'
import type { ScenarioContext } from './context'

const MINT_CHUNK = 200

/** Mints the genesis distribution with mintBatch: Pareto(1.2) holdings, whales for insiders, a treasury. */
export async function distribute(ctx: ScenarioContext): Promise<void> {
  const { roles, ledger, p, operator, d } = ctx
  const rng = ctx.rng.fork('distribution')
  const delegateSet = new Set(roles.delegates)
  const amounts = new Map<Address, number>()
  for (const a of roles.accounts) {
    const base = rng.pareto(1.2, 100, 2_000_000)
    amounts.set(a, delegateSet.has(a) ? base * 3 : base)
  }
  const others = [...amounts.values()].reduce((s, x) => s + x, 0)
  // Insiders are whales: each holds about a tenth of everyone else's tokens.
  for (const a of roles.insiders) amounts.set(a, others * (0.1 + rng.next() * 0.04))
  const holders = [...amounts.values()].reduce((s, x) => s + x, 0)
  // The treasury ends near 10% and the operator near 5% of the supply.
  amounts.set(d.timelock, (holders * 0.1) / 0.85)
  amounts.set(operator, (holders * 0.05) / 0.85)

  const entries = [...amounts.entries()].map(([a, x]) => [a, tokens(x)] as const)
  for (let i = 0; i < entries.length; i += MINT_CHUNK) {
    const chunk = entries.slice(i, i + MINT_CHUNK)
    p.tx(operator, 'token', 'mintBatch', [chunk.map(([a]) => a), chunk.map(([, x]) => x)])
    for (const [a, x] of chunk) ledger.mint(a, x)
  }
  await ctx.chain.mine()
}

/** Delegation with preferential attachment: popular delegates attract more delegators. */
export async function delegateVotes(ctx: ScenarioContext): Promise<void> {
  const { roles, ledger, p } = ctx
  const rng = ctx.rng.fork('delegation')
  const delegate = (from: Address, to: Address): void => {
    p.tx(from, 'token', 'delegate', [to])
    ledger.setDelegate(from, to)
  }
  for (const d of roles.delegates) delegate(d, d)
  // Insiders start ahead, so they end up the largest voting blocs.
  const weights: number[] = roles.delegates.map((_, i) => (i < 2 ? 3 : 1))
  const [a, b] = roles.loopPair
  delegate(a, b)
  delegate(b, a)
  const rest = roles.accounts.filter(
    (x) => !roles.delegates.includes(x) && !roles.loopPair.includes(x) && x !== roles.neverDelegates,
  )
  for (const x of rest) {
    const r = rng.next()
    if (r < 0.7) {
      const i = rng.weightedIndex(weights)
      weights[i] = (weights[i] as number) + 1
      delegate(x, roles.delegates[i] as Address)
    } else if (r < 0.88) {
      delegate(x, x)
    } // else: never delegates
  }
  await ctx.chain.mine()
}

/** Queues one transfer of a heavy-tailed fraction of the sender's balance; false if nothing to send. */
export function queueTransfer(
  ctx: ScenarioContext, rng: Rng, from: Address, to: Address, fractionScale: number,
): boolean {
  const amount = ctx.ledger.portion(from, Math.min(0.5, fractionScale * rng.pareto(1.2, 1)))
  if (amount === 0n || from === to) return false
  ctx.p.tx(from, 'token', 'transfer', [to, amount])
  ctx.ledger.move(from, to, amount)
  return true
}

/** Everyday transfers between holders, then a few holders switch delegate (DelegateChanged from non-zero). */
export async function everydayActivity(ctx: ScenarioContext): Promise<void> {
  const { roles, ledger, p } = ctx
  const rng = ctx.rng.fork('transfers')
  for (let i = 0; i < roles.accounts.length * 3; i++) {
    const from = rng.pick(roles.accounts)
    queueTransfer(ctx, rng, from, rng.pick(roles.accounts), 0.01)
  }
  await ctx.chain.mine()

  const switchers = rng
    .shuffle(roles.regular)
    .filter((x) => roles.delegates.includes(ledger.delegateOf(x)))
    .slice(0, 3)
  for (const x of switchers) {
    const others = roles.delegates.filter((d) => d !== ledger.delegateOf(x))
    const to = rng.pick(others)
    p.tx(x, 'token', 'delegate', [to])
    ledger.setDelegate(x, to)
  }
  await ctx.chain.mine()
}
