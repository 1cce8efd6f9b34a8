/**
 * Reward phase: epochs opened, funded, paid and closed — with payouts that are deliberately unfair.
 *
 * The fair share of a contributor in an epoch is units × score over accepted contributions (to the epoch's
 * model, or to all models for a protocol-wide epoch). The operator pays insiders 5× that share, the
 * under-rewarded 0.3× (the first of them nothing), and lets everyone else split the rest. The fairness
 * analytics should find exactly these accounts.
 */
import { maxUint256, type Address } from 'viem'
import type { Contribution, ScenarioContext } from './context'

const PAY_CHUNK = 100

/** Validated work per contributor (units × score), accepted contributions only. */
export function fairWeights(contributions: readonly Contribution[], modelId: bigint): Map<Address, bigint> {
  const w = new Map<Address, bigint>()
  for (const c of contributions) {
    if (c.status !== 'accepted' || (modelId !== 0n && c.modelId !== modelId)) continue
    w.set(c.contributor, (w.get(c.contributor) ?? 0n) + c.units * BigInt(c.score))
  }
  return w
}

/**
 * The skewed payout for one epoch, as target shares of the paid total (so the skew survives normalisation):
 * insiders get 5× their fair share, the first under-rewarded nothing and the others 0.3×, and regular
 * contributors split the rest in proportion to their work. Never exceeds `funded`.
 */
export function payouts(ctx: ScenarioContext, modelId: bigint, funded: bigint): [Address, bigint][] {
  const weights = fairWeights(ctx.contributions, modelId)
  const total = Number([...weights.values()].reduce((s, x) => s + x, 0n))
  if (total === 0) return []
  const { insiders, underRewarded } = ctx.roles
  const share = new Map([...weights].map(([who, w]) => [who, Number(w) / total]))
  const regular = [...share.keys()].filter((a) => !insiders.includes(a) && !underRewarded.includes(a))
  const regularShare = regular.reduce((s, a) => s + (share.get(a) as number), 0)
  // Without regular work in the epoch nobody could absorb the difference: the under-rewarded then get nothing.
  const underFactor = regularShare > 0 ? 0.3 : 0
  const target = new Map<Address, number>()
  for (const a of insiders) if (share.has(a)) target.set(a, 5 * (share.get(a) as number))
  underRewarded.forEach((a, i) => share.has(a) && target.set(a, i === 0 ? 0 : underFactor * (share.get(a) as number)))
  let special = [...target.values()].reduce((s, x) => s + x, 0)
  if (special > 0.95 && regularShare > 0) {
    // Insiders with an unusually large fair share: shrink their bonus so regular contributors keep 5%.
    const ins = insiders.filter((a) => target.has(a))
    const excess = special - 0.95
    const insTotal = ins.reduce((s, a) => s + (target.get(a) as number), 0)
    for (const a of ins) target.set(a, (target.get(a) as number) * (1 - excess / insTotal))
    special = 0.95
  }
  for (const a of regular) target.set(a, ((share.get(a) as number) / regularShare) * (1 - special))
  // Parts per 1e12, rounded down, so the sum never exceeds the funds.
  return [...target.entries()]
    .map(([who, s]): [Address, bigint] => [who, (funded * BigInt(Math.floor(s * 1e12))) / 1_000_000_000_000n])
    .filter(([, x]) => x > 0n)
}

export async function runEpochs(ctx: ScenarioContext): Promise<void> {
  const { p, chain, ledger, operator, roles, d } = ctx
  const rng = ctx.rng.fork('rewards')
  const communityFunder = rng.pick(roles.regular.filter((a) => ledger.balance(a) > 0n))
  p.tx(operator, 'token', 'approve', [d.rewardDistributor, maxUint256])
  p.tx(communityFunder, 'token', 'approve', [d.rewardDistributor, maxUint256])
  await chain.mine()

  // One epoch per model, one protocol-wide (model 0), and one more that stays open and unpaid at the end.
  const rewarded = ctx.modelIds.filter((m) => fairWeights(ctx.contributions, m).size > 0)
  const epochModels = [...rewarded, 0n, ctx.modelIds[0] as bigint]
  const firstEpoch = (await p.read<bigint>('rewardDistributor', 'epochCount')) + 1n
  for (const m of epochModels) p.tx(operator, 'rewardDistributor', 'openEpoch', [m])
  await chain.mine()

  const funded = epochModels.map(() => 0n)
  epochModels.forEach((_, i) => {
    const amount = ledger.portion(operator, 0.05 + rng.next() * 0.07)
    p.tx(operator, 'rewardDistributor', 'fund', [firstEpoch + BigInt(i), amount])
    ledger.move(operator, d.rewardDistributor, amount)
    funded[i] = amount
  })
  // Anyone may fund: a community member tops up the protocol-wide epoch.
  const protocolEpoch = epochModels.length - 2
  const topUp = ledger.portion(communityFunder, 0.1)
  if (topUp > 0n) {
    p.tx(communityFunder, 'rewardDistributor', 'fund', [firstEpoch + BigInt(protocolEpoch), topUp])
    ledger.move(communityFunder, d.rewardDistributor, topUp)
    funded[protocolEpoch] = (funded[protocolEpoch] as bigint) + topUp
  }
  await chain.mine()

  for (let i = 0; i < epochModels.length - 1; i++) {
    const pay = payouts(ctx, epochModels[i] as bigint, funded[i] as bigint)
    for (let k = 0; k < pay.length; k += PAY_CHUNK) {
      const chunk = pay.slice(k, k + PAY_CHUNK)
      p.tx(operator, 'rewardDistributor', 'pay', [firstEpoch + BigInt(i), chunk.map(([a]) => a), chunk.map(([, x]) => x)])
      for (const [a, x] of chunk) ledger.move(d.rewardDistributor, a, x)
    }
  }
  await chain.mine()
  for (let i = 0; i < epochModels.length - 1; i++) p.tx(operator, 'rewardDistributor', 'closeEpoch', [firstEpoch + BigInt(i)])
  await chain.mine()
}
