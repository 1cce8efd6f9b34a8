import {createPublicClient, http, type Abi, type Address, type Log, type PublicClient} from 'viem'
import {readFileSync} from 'node:fs'
import path from 'node:path'

/**
 * Reads chain truth over plain JSON-RPC, independently of the indexer: its own ABIs (the committed JSON), its own
 * client (viem), no Subsquid code. Used by the end-to-end tests and `npm run verify`.
 */
export function loadAbi(name: string): Abi {
  return JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'contracts', 'abi', `${name}.json`), 'utf8')) as Abi
}

export function chainClient(rpcUrl: string): PublicClient {
  // cacheTime 0: viem otherwise caches the block number for 4 s and we ask about a head that just moved.
  return createPublicClient({transport: http(rpcUrl, {batch: {batchSize: 200}, retryCount: 3}), cacheTime: 0}) as PublicClient
}

/** Every log a contract emitted in [fromBlock, toBlock], fetched in windows so a long chain stays within node limits. */
export async function getAllLogs(client: PublicClient, address: Address, fromBlock: bigint, toBlock: bigint, window = 5_000n): Promise<Log[]> {
  const out: Log[] = []
  for (let from = fromBlock; from <= toBlock; from += window) {
    const to = from + window - 1n < toBlock ? from + window - 1n : toBlock
    out.push(...(await client.getLogs({address, fromBlock: from, toBlock: to})))
  }
  return out
}
