/**
 * Model phase: models with version trees and one ownership transfer; validators; contributions of every
 * kind, validated once each (some rejected, some left pending, some self-validated).
 */
import { keccak256, stringToHex, type Address, type Hex } from 'viem'
import type { Rng } from '../prng'
import type { Contribution, ScenarioContext } from './context'

const MODEL_NAMES = ['lumen-7b', 'atlas-vision', 'sage-embed', 'orca-speech', 'nova-coder', 'delta-rl']
const KINDS = 5 // Data, Compute, Training, Evaluation, Code

/** Content-addressed-looking hash, deterministic from the seed and a label. */
export function fakeHash(seed: number, label: string): Hex {
  return keccak256(stringToHex(`deai-lens/${seed}/${label}`))
}

export async function registerModels(ctx: ScenarioContext): Promise<void> {
  const { p, roles, chain } = ctx
  const rng = ctx.rng.fork('models')
  const seed = ctx.rng.seed
  const first = (await p.read<bigint>('modelRegistry', 'modelCount')) + 1n
  // The first owner registers two models; every owner at least one.
  const owners = [roles.modelOwners[0], ...roles.modelOwners] as Address[]
  owners.forEach((owner, i) => {
    const name = MODEL_NAMES[i % MODEL_NAMES.length] as string
    p.tx(owner, 'modelRegistry', 'registerModel', [name, `ipfs://${fakeHash(seed, `model/${i}`).slice(2, 48)}`])
    ctx.modelIds.push(first + BigInt(i))
  })
  await chain.mine()

  // Version trees: v1 is a root; later versions usually fine-tune an earlier one, sometimes start afresh.
  const versions = new Map<bigint, number>()
  const publish = (owner: Address, modelId: bigint): void => {
    const v = (versions.get(modelId) ?? 0) + 1
    const parent = v === 1 || rng.chance(0.1) ? 0 : rng.int(1, v - 1)
    p.tx(owner, 'modelRegistry', 'publishVersion', [
      modelId, BigInt(parent), fakeHash(seed, `weights/${modelId}/${v}`),
      `ipfs://${fakeHash(seed, `card/${modelId}/${v}`).slice(2, 48)}`,
    ])
    versions.set(modelId, v)
  }
  ctx.modelIds.forEach((id, i) => {
    const n = rng.int(2, 5)
    for (let k = 0; k < n; k++) publish(owners[i] as Address, id)
  })
  await chain.mine()

  // The first model changes hands; the new owner publishes the next version.
  const [m1] = ctx.modelIds as [bigint]
  p.tx(owners[0] as Address, 'modelRegistry', 'transferModelOwnership', [m1, roles.modelOwners[1]])
  publish(roles.modelOwners[1] as Address, m1)
  await chain.mine()
}

function drawUnits(rng: Rng, heavy: boolean): bigint {
  return BigInt(Math.round(heavy ? rng.pareto(1.2, 60, 100_000) : rng.pareto(1.2, 10, 100_000)))
}

export function queueContribution(ctx: ScenarioContext, contributor: Address, modelId: bigint, kind: number,
  units: bigint, id: bigint): void {
  ctx.p.tx(contributor, 'contributionRegistry', 'submitContribution', [
    modelId, kind, units, fakeHash(ctx.rng.seed, `evidence/${id}`),
  ])
  ctx.contributions.push({ id, modelId, contributor, units, status: 'pending', score: 0 })
}

export function queueValidation(ctx: ScenarioContext, c: Contribution, validator: Address, accepted: boolean,
  score: number): void {
  ctx.p.tx(validator, 'contributionRegistry', 'validate', [
    c.id, accepted, score, fakeHash(ctx.rng.seed, `report/${c.id}`),
  ])
  c.status = accepted ? 'accepted' : 'rejected'
  c.score = score
}

export async function contribute(ctx: ScenarioContext): Promise<void> {
  const { p, roles, chain, operator } = ctx
  const rng = ctx.rng.fork('contributions')
  for (const v of roles.validators) p.tx(operator, 'contributionRegistry', 'setValidator', [v, true])
  await chain.mine()

  // Plan: insiders make one token contribution per model (so their fair share is small but not zero),
  // the under-rewarded do a lot of real work, the rest a little.
  const plan: { who: Address; modelId: bigint; heavy: boolean }[] = []
  for (const who of roles.contributors) {
    if (roles.insiders.includes(who)) {
      for (const modelId of ctx.modelIds) plan.push({ who, modelId, heavy: false })
      continue
    }
    const heavy = roles.underRewarded.includes(who)
    const n = heavy ? rng.int(5, 8) : rng.int(1, 3)
    for (let k = 0; k < n; k++) plan.push({ who, modelId: rng.pick(ctx.modelIds), heavy })
  }
  let id = (await p.read<bigint>('contributionRegistry', 'contributionCount')) + 1n
  const start = ctx.contributions.length
  rng.shuffle(plan).forEach(({ who, modelId, heavy }, i) => {
    const insider = roles.insiders.includes(who)
    const units = insider ? BigInt(rng.int(1, 3)) : drawUnits(rng, heavy)
    // The first five cover every kind, so each kind is guaranteed to appear.
    queueContribution(ctx, who, modelId, i < KINDS ? i : rng.int(0, KINDS - 1), units, id++)
  })
  await chain.mine()

  const [selfValidator] = roles.validators as [Address]
  for (const c of rng.shuffle(ctx.contributions.slice(start))) {
    const favoured = roles.insiders.includes(c.contributor) || roles.underRewarded.includes(c.contributor)
    if (!favoured && rng.chance(0.1)) continue // stays pending
    // validators[0] validates its own work: the self-validation the fairness analytics looks for.
    const validator = c.contributor === selfValidator ? selfValidator : rng.pick(roles.validators)
    const accepted = favoured || rng.chance(0.8)
    const score = accepted ? rng.int(favoured ? 6000 : 3000, 10_000) : rng.chance(0.8) ? 0 : rng.int(1, 2000)
    queueValidation(ctx, c, validator, accepted, score)
  }
  await chain.mine()

  // One validator retires (ValidatorUpdated false); later activity uses only the remaining ones.
  p.tx(operator, 'contributionRegistry', 'setValidator', [roles.validators[2], false])
  await chain.mine()
}

/** Validators still active after the core scenario. */
export function activeValidators(ctx: ScenarioContext): Address[] {
  return ctx.roles.validators.slice(0, 2)
}
