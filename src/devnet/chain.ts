/**
 * Block-at-a-time transaction engine for the devnet scenario.
 *
 * Automine is switched off; queued transactions are sent in one JSON-RPC batch with explicit nonce and gas
 * (no estimateGas round trips), then one `evm_mine` seals them into a block. anvil orders its pool by fee,
 * so each transaction of a block gets a strictly lower fee than the one queued before it: the block then
 * holds the transactions exactly in queue order, which is what makes a seed reproduce the same log sequence.
 * Every receipt is checked: a revert stops the scenario with the decoded error instead of silently producing
 * a different history.
 */
import { decodeErrorResult, type Abi, type Address, type Hex } from 'viem'
import { Rpc } from './rpc'

export interface TxRequest {
  from: Address
  to: Address
  data: Hex
  gas: bigint
  /** Human-readable description for error messages. */
  label: string
}

export interface RpcLog {
  address: Address
  topics: Hex[]
  data: Hex
  logIndex: Hex
  blockNumber: Hex
}

export interface RpcReceipt {
  transactionHash: Hex
  status: Hex
  blockNumber: Hex
  gasUsed: Hex
  logs: RpcLog[]
}

const GWEI = 1_000_000_000n
const MAX_FEE = 100n * GWEI
const TIP = 1n * GWEI
const ACTOR_BALANCE = 10n ** 24n // 1M ETH: gas is never the constraint
const BLOCK_GAS_LIMIT = 1_000_000_000n

const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`

export class Chain {
  readonly rpc: Rpc
  private readonly nonces = new Map<Address, bigint>()
  private queue: TxRequest[] = []
  /** Logs emitted by transactions mined through this engine. */
  logCount = 0
  txCount = 0
  firstBlock: number | undefined
  lastBlock = 0

  constructor(
    rpcUrl: string,
    readonly perBlock: number,
    /** ABI fragments used to decode revert data in error messages. */
    public errorAbi: Abi = [],
  ) {
    if (!(perBlock >= 1)) throw new RangeError('perBlock must be >= 1')
    this.rpc = new Rpc(rpcUrl)
  }

  /** Lets the engine send from any address (auto-impersonation), funds the actors, takes over mining. */
  async prepare(actors: readonly Address[]): Promise<void> {
    await this.rpc.batch([
      { method: 'anvil_autoImpersonateAccount', params: [true] },
      { method: 'evm_setAutomine', params: [false] },
      { method: 'evm_setBlockGasLimit', params: [hex(BLOCK_GAS_LIMIT)] },
      ...actors.map((a) => ({ method: 'anvil_setBalance', params: [a, hex(ACTOR_BALANCE)] })),
    ])
  }

  /** Gives mining back to the node (each eth_sendTransaction mines its own block again). */
  async release(): Promise<void> {
    await this.rpc.call('evm_setAutomine', [true])
  }

  send(tx: TxRequest): void {
    this.queue.push(tx)
  }

  get queued(): number {
    return this.queue.length
  }

  /**
   * Mines everything queued, `perBlock` transactions per block (or all in one block when a deadline counted
   * in blocks must not be crossed, e.g. votes); returns the receipts in queue order.
   */
  async mine(opts: { oneBlock?: boolean } = {}): Promise<RpcReceipt[]> {
    const out: RpcReceipt[] = []
    const size = opts.oneBlock ? Number.POSITIVE_INFINITY : this.perBlock
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, size)
      out.push(...(await this.mineBlock(batch)))
    }
    return out
  }

  /** Mines `n` empty blocks (to move the governor's block clock). */
  async mineEmpty(n: number): Promise<void> {
    if (n <= 0) return
    await this.rpc.call('anvil_mine', [hex(n)])
    this.lastBlock = await this.blockNumber()
  }

  async increaseTime(seconds: number): Promise<void> {
    await this.rpc.call('evm_increaseTime', [hex(seconds)])
  }

  async blockNumber(): Promise<number> {
    return Number(await this.rpc.call<Hex>('eth_blockNumber'))
  }

  private async mineBlock(batch: TxRequest[]): Promise<RpcReceipt[]> {
    await this.loadNonces(batch)
    const n = BigInt(batch.length)
    const hashes = await this.rpc.batch<Hex>(
      batch.map((tx, i) => {
        const nonce = this.nonces.get(tx.from) as bigint
        this.nonces.set(tx.from, nonce + 1n)
        const rank = n - BigInt(i) // strictly decreasing fee fixes the in-block order (see file comment)
        return {
          method: 'eth_sendTransaction',
          params: [{
            from: tx.from, to: tx.to, data: tx.data, gas: hex(tx.gas), nonce: hex(nonce),
            maxFeePerGas: hex(MAX_FEE + rank), maxPriorityFeePerGas: hex(TIP + rank),
          }],
        }
      }),
    )
    await this.rpc.call('evm_mine')
    const receipts = (await this.rpc.call<RpcReceipt[] | null>('eth_getBlockReceipts', ['latest'])) ?? []
    if (receipts.length !== batch.length || receipts.some((r, i) => r.transactionHash !== hashes[i])) {
      throw new Error(`mined block does not hold the ${batch.length} transactions in the order sent`)
    }
    for (const [i, r] of receipts.entries()) {
      if (r.status !== '0x1') throw new Error(await this.describeRevert(batch[i] as TxRequest, r))
      this.logCount += r.logs.length
    }
    const block = Number(receipts[0]?.blockNumber)
    this.firstBlock ??= block
    this.lastBlock = block
    this.txCount += batch.length
    return receipts
  }

  private async loadNonces(batch: TxRequest[]): Promise<void> {
    const unknown = [...new Set(batch.map((t) => t.from))].filter((a) => !this.nonces.has(a))
    const counts = await this.rpc.batch<Hex>(
      unknown.map((a) => ({ method: 'eth_getTransactionCount', params: [a, 'latest'] })),
    )
    unknown.forEach((a, i) => this.nonces.set(a, BigInt(counts[i] as Hex)))
  }

  /** Replays the failed call one block earlier to recover its revert reason (best effort). */
  private async describeRevert(tx: TxRequest, r: RpcReceipt): Promise<string> {
    let reason = 'unknown reason'
    try {
      const before = hex(Number(r.blockNumber) - 1)
      await this.rpc.call('eth_call', [{ from: tx.from, to: tx.to, data: tx.data, gas: hex(tx.gas) }, before])
      reason = `no revert when replayed (gas used ${Number(r.gasUsed)} of ${tx.gas}, or state-dependent)`
    } catch (e) {
      const data = (e as { data?: unknown }).data
      reason = (e as Error).message
      if (typeof data === 'string' && data.startsWith('0x')) {
        try {
          const err = decodeErrorResult({ abi: this.errorAbi, data: data as Hex })
          reason = `${err.errorName}(${err.args?.map(String).join(', ') ?? ''})`
        } catch {
          reason = `revert data ${data}`
        }
      }
    }
    return `transaction reverted: ${tx.label} from ${tx.from} (tx ${r.transactionHash}): ${reason}`
  }
}
