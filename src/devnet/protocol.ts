/**
 * Typed-enough access to the deployed protocol: encodes calls, assigns gas limits, reads state.
 *
 * Gas limits are fixed per function (measured with headroom) so bulk sending never needs eth_estimateGas;
 * limits only cost block space on the devnet, where the block gas limit is raised.
 */
import { decodeFunctionResult, encodeFunctionData, type Abi, type Address, type Hex } from 'viem'
import { compileContracts, CONTRACT_OF_KIND, type CompiledContracts } from '../contracts/compile'
import type { Chain } from './chain'
import type { Deployment } from './deploy'

export type Target = keyof typeof CONTRACT_OF_KIND

/** Fixed gas per call; list-taking functions add a per-item amount. */
const GAS: Record<string, bigint> = {
  transfer: 150_000n,
  approve: 80_000n,
  delegate: 150_000n,
  mint: 150_000n,
  registerModel: 300_000n,
  publishVersion: 300_000n,
  transferModelOwnership: 80_000n,
  setValidator: 80_000n,
  submitContribution: 250_000n,
  validate: 120_000n,
  openEpoch: 150_000n,
  fund: 150_000n,
  closeEpoch: 80_000n,
  propose: 600_000n,
  cancel: 200_000n,
  castVote: 200_000n,
  castVoteWithReason: 250_000n,
  castVoteWithReasonAndParams: 250_000n,
  queue: 400_000n,
  execute: 400_000n,
}
const PER_ITEM_GAS: Record<string, bigint> = { mintBatch: 110_000n, pay: 70_000n }
const BASE_LIST_GAS = 80_000n

export class Protocol {
  readonly errorAbi: Abi

  private constructor(
    readonly chain: Chain,
    readonly deployment: Deployment,
    private readonly compiled: CompiledContracts,
  ) {
    this.errorAbi = Object.values(compiled).flatMap((c) => c.abi.filter((x) => x.type === 'error'))
  }

  static async load(chain: Chain, deployment: Deployment): Promise<Protocol> {
    return new Protocol(chain, deployment, await compileContracts())
  }

  abi(target: Target): Abi {
    return this.compiled[CONTRACT_OF_KIND[target]].abi
  }

  address(target: Target): Address {
    return this.deployment[target]
  }

  encode(target: Target, functionName: string, args: readonly unknown[]): Hex {
    return encodeFunctionData({ abi: this.abi(target), functionName, args })
  }

  /** Queues a call on the chain engine; it is sent at the next `chain.mine()`. */
  tx(from: Address, target: Target, functionName: string, args: readonly unknown[]): void {
    const perItem = PER_ITEM_GAS[functionName]
    const items = perItem !== undefined && Array.isArray(args[args.length - 1])
      ? BigInt((args[args.length - 1] as unknown[]).length) : 0n
    const gas = perItem !== undefined ? BASE_LIST_GAS + perItem * items : GAS[functionName]
    if (gas === undefined) throw new Error(`no gas limit configured for ${functionName}`)
    this.chain.send({
      from, to: this.address(target), data: this.encode(target, functionName, args), gas,
      label: `${target}.${functionName}`,
    })
  }

  /** Reads several views in one JSON-RPC batch (state of the latest block). */
  async readMany<T>(calls: readonly [Target, string, readonly unknown[]][]): Promise<T[]> {
    const results = await this.chain.rpc.batch<Hex>(
      calls.map(([t, fn, args]) => ({
        method: 'eth_call',
        params: [{ to: this.address(t), data: this.encode(t, fn, args) }, 'latest'],
      })),
    )
    return calls.map(([t, fn], i) =>
      decodeFunctionResult({ abi: this.abi(t), functionName: fn, data: results[i] as Hex }) as T,
    )
  }

  async read<T>(target: Target, functionName: string, args: readonly unknown[] = []): Promise<T> {
    const [r] = await this.readMany<T>([[target, functionName, args]])
    return r as T
  }
}
