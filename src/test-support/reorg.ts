import {encodeFunctionData, type Hex} from 'viem'
import type {Deployment} from '../devnet/deploy'
import {Rpc} from '../devnet/rpc'
import {loadAbi} from '../verify/chain-reader'

/**
 * Reorg helpers for tests: blocks with token transfers that a later `anvil_reorg` re-mines with other transfers.
 * The deployer holds tokens after the scenario, and automine is on again, so each transfer is one block.
 */
export function tokenTransferTx(deployment: Deployment, to: string, amount: bigint) {
  return {
    from: deployment.deployer,
    to: deployment.token,
    data: encodeFunctionData({abi: loadAbi('DeAIToken'), functionName: 'transfer', args: [to as Hex, amount]}),
  }
}

/** `count` blocks, each with one transfer to `receiver` (amounts 1000, 1001, ...). */
export async function mineTransfers(rpcUrl: string, deployment: Deployment, receiver: string, count: number): Promise<void> {
  const rpc = new Rpc(rpcUrl)
  for (let i = 0; i < count; i++) await rpc.call('eth_sendTransaction', [tokenTransferTx(deployment, receiver, 1000n + BigInt(i))])
}

/**
 * Same height, other history: the last `depth` blocks are re-mined with transfers to `receiver` instead, then one
 * more block is mined so an indexer polling the head sees the change.
 */
export async function reorgWithTransfers(rpcUrl: string, deployment: Deployment, depth: number, receiver: string): Promise<void> {
  const rpc = new Rpc(rpcUrl)
  await rpc.call('anvil_reorg', [depth, [[tokenTransferTx(deployment, receiver, 7n), 0], [tokenTransferTx(deployment, receiver, 8n), 1]]])
  await rpc.call('evm_mine', [])
}
