/**
 * Bulk phase: ordinary protocol traffic until the log target is reached — transfers between delegated
 * holders (Transfer + two DelegateVotesChanged), airdrops by mintBatch, contributions and validations.
 * Blocks hold `perBlock` transactions each, which is the density knob for indexer benchmarks.
 */
import type { Address } from 'viem'
import { tokens } from '../prng'
import type { Contribution, ScenarioContext } from './context'
import { activeValidators, queueContribution, queueValidation } from './models'
import { queueTransfer } from './tokens'

const AIRDROP_SIZE = 100

export async function fill(ctx: ScenarioContext, targetLogs: number): Promise<void> {
  const { chain, ledger, roles, p, operator } = ctx
  const rng = ctx.rng.fork('filler')
  const delegated = roles.accounts.filter((a) => ledger.delegateOf(a) !== '0x0000000000000000000000000000000000000000')
  const validators = activeValidators(ctx)
  const pending: Contribution[] = ctx.contributions.filter((c) => c.status === 'pending')
  let nextId = (ctx.contributions.at(-1)?.id ?? 0n) + 1n
  let pendingHead = 0

  while (chain.logCount < targetLogs) {
    for (let i = 0; i < chain.perBlock; i++) {
      const r = rng.next()
      if (r < 0.02) {
        const to: Address[] = Array.from({ length: AIRDROP_SIZE }, () => rng.pick(roles.accounts))
        const amounts = to.map(() => tokens(Math.round(rng.pareto(1.2, 1, 1000))))
        p.tx(operator, 'token', 'mintBatch', [to, amounts])
        to.forEach((a, k) => ledger.mint(a, amounts[k] as bigint))
      } else if (r < 0.12) {
        const who = rng.pick(roles.contributors)
        queueContribution(ctx, who, rng.pick(ctx.modelIds), rng.int(0, 4), BigInt(Math.round(rng.pareto(1.2, 5, 1e5))), nextId++)
        pending.push(ctx.contributions.at(-1) as Contribution)
      } else if (r < 0.2 && pendingHead < pending.length) {
        // Validate in submission order; a contribution is never validated twice.
        const c = pending[pendingHead++] as Contribution
        const accepted = rng.chance(0.8)
        queueValidation(ctx, c, rng.pick(validators), accepted, accepted ? rng.int(2000, 10_000) : 0)
      } else {
        queueTransfer(ctx, rng, rng.pick(delegated), rng.pick(delegated), 0.002)
      }
    }
    await chain.mine()
  }
}
