import type {Address, Hex} from 'viem'
import type {Rng} from '../devnet/prng'
import {type Deployment, waitForReceipt} from '../devnet/deploy'
import {Rpc} from '../devnet/rpc'
import {tokenTransferTx} from '../test-support/reorg'

/**
 * Replaces the last `depth` blocks with other history: `anvil_reorg` re-mines them, each with one seeded transfer
 * from the deployer to `receiver` (so every re-mined block differs from the orphaned one), then one more block is
 * mined so an indexer polling the head notices. Returns the new head.
 */
export async function reorgWithOtherTransfers(rpcUrl: string, deployment: Deployment, depth: number, receiver: Address, rng: Rng): Promise<number> {
  const rpc = new Rpc(rpcUrl)
  const txs = Array.from({length: depth}, (_, offset) => [tokenTransferTx(deployment, receiver, BigInt(rng.int(1, 1_000_000))), offset])
  await rpc.call('anvil_reorg', [depth, txs])
  await rpc.call('evm_mine', [])
  return Number(await rpc.call<string>('eth_blockNumber'))
}

/** The chain's hash at `height`. */
export async function blockHashAt(rpcUrl: string, height: number): Promise<string | undefined> {
  const block = await new Rpc(rpcUrl).call<{hash: string} | null>('eth_getBlockByNumber', ['0x' + height.toString(16), false])
  return block?.hash
}

/**
 * One block with one transfer from the deployer to `to`, waited for: anvil answers eth_sendTransaction before the
 * block is visible, and the next sender reading the deployer's nonce must see it mined.
 */
export async function transferInOwnBlock(rpcUrl: string, deployment: Deployment, to: Address, amount: bigint): Promise<void> {
  const rpc = new Rpc(rpcUrl)
  const hash = await rpc.call<Hex>('eth_sendTransaction', [tokenTransferTx(deployment, to, amount)])
  const receipt = await waitForReceipt(rpc, hash)
  if (receipt.status !== '0x1') throw new Error(`transfer to ${to} reverted (tx ${hash})`)
}
