/**
 * Deterministic actors of the scenario and the part each plays.
 *
 * Addresses are derived from the seed (keccak of a label), not from private keys: the node impersonates
 * them, so no key material exists anywhere. Roles are drawn from a shuffled order so that, e.g., the
 * insiders are not always the first accounts.
 */
import { keccak256, stringToHex, type Address } from 'viem'
import { Rng } from '../prng'

export interface Roles {
  accounts: Address[]
  /** Large delegates most holders delegate to; insiders are the first two. */
  delegates: Address[]
  /** Large holders and delegates who are also overpaid by the reward operator. */
  insiders: Address[]
  /** Set active by the registry owner; validators[0] also contributes and validates its own work. */
  validators: Address[]
  modelOwners: Address[]
  /** A delegates to B and B delegates to A. */
  loopPair: [Address, Address]
  /** Holds tokens but never delegates: its votes weigh zero. */
  neverDelegates: Address
  /** Genuine, substantial contributors the operator pays less than half their share (the first gets nothing). */
  underRewarded: Address[]
  /** Everyone who submits contributions (includes insiders, validators[0] and the under-rewarded). */
  contributors: Address[]
  /** Holders without a special role. */
  regular: Address[]
}

export const MIN_ACCOUNTS = 20

export function deriveAccount(seed: number, index: number): Address {
  return `0x${keccak256(stringToHex(`deai-lens/devnet/${seed}/${index}`)).slice(-40)}` as Address
}

export function assignRoles(seed: number, count: number): Roles {
  if (!Number.isInteger(count) || count < MIN_ACCOUNTS) {
    throw new RangeError(`the scenario needs at least ${MIN_ACCOUNTS} accounts (got ${count})`)
  }
  const rng = new Rng(seed).fork('roles')
  const accounts = Array.from({ length: count }, (_, i) => deriveAccount(seed, i))
  const order = rng.shuffle(accounts)
  let next = 0
  const take = (n: number): Address[] => {
    const out = order.slice(next, next + n)
    next += n
    return out
  }
  const delegates = take(Math.min(6, Math.max(3, Math.round(count / 10))))
  const validators = take(3)
  const modelOwners = take(3)
  const [loopA, loopB] = take(2) as [Address, Address]
  const [neverDelegates] = take(1) as [Address]
  const underRewarded = take(3)
  const regular = order.slice(next)
  const casual = regular.filter(() => rng.chance(0.5))
  return {
    accounts,
    delegates,
    insiders: delegates.slice(0, 2),
    validators,
    modelOwners,
    loopPair: [loopA, loopB],
    neverDelegates,
    underRewarded,
    contributors: [...delegates.slice(0, 2), validators[0] as Address, ...underRewarded, ...casual],
    regular,
  }
}
