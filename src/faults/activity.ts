import type {Address} from 'viem'
import {Chain} from '../devnet/chain'
import type {Deployment} from '../devnet/deploy'
import type {Rng} from '../devnet/prng'
import {Protocol} from '../devnet/protocol'

/**
 * More seeded token activity on top of the scenario, so a fault trial always has fresh blocks to ingest: mints by
 * the owner, transfers, and delegation changes among `accounts`, `perBlock` transactions per block. Every receipt
 * is checked by the Chain engine (a revert throws), so the activity is exactly what was planned.
 */
export async function mineTokenActivity(
  rpcUrl: string,
  deployment: Deployment,
  accounts: readonly Address[],
  rng: Rng,
  opts: {blocks: number; perBlock: number},
): Promise<void> {
  const chain = new Chain(rpcUrl, opts.perBlock)
  const p = await Protocol.load(chain, deployment)
  chain.errorAbi = p.errorAbi
  await chain.prepare([deployment.deployer, ...accounts])
  try {
    // Minted amounts are known to be there, so transfers out of them cannot revert.
    const minted = new Map<Address, bigint>()
    for (let i = 0; i < opts.blocks * opts.perBlock; i++) {
      const who = rng.pick(accounts)
      const roll = rng.next()
      const funds = minted.get(who) ?? 0n
      if (roll < 0.4 || funds === 0n) {
        const amount = BigInt(rng.int(1, 1_000_000)) * 10n ** 12n
        p.tx(deployment.deployer, 'token', 'mint', [who, amount])
        minted.set(who, funds + amount)
      } else if (roll < 0.7) {
        p.tx(who, 'token', 'delegate', [rng.pick(accounts)])
      } else {
        const to = rng.pick(accounts)
        const amount = funds / BigInt(rng.int(2, 5))
        p.tx(who, 'token', 'transfer', [to, amount])
        minted.set(who, funds - amount)
        minted.set(to, (minted.get(to) ?? 0n) + amount)
      }
    }
    await chain.mine()
  } finally {
    await chain.release()
  }
}
