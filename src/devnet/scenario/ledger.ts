/**
 * Off-chain mirror of token balances and delegation, kept in step with the transactions the scenario
 * queues. It lets the generator choose valid amounts without an RPC read per transfer.
 */
import { zeroAddress, type Address } from 'viem'

export class Ledger {
  private readonly balances = new Map<Address, bigint>()
  private readonly delegation = new Map<Address, Address>()

  balance(a: Address): bigint {
    return this.balances.get(a) ?? 0n
  }

  mint(to: Address, amount: bigint): void {
    this.balances.set(to, this.balance(to) + amount)
  }

  move(from: Address, to: Address, amount: bigint): void {
    const b = this.balance(from)
    if (amount > b) throw new Error(`ledger: ${from} cannot move ${amount} (balance ${b})`)
    this.balances.set(from, b - amount)
    this.balances.set(to, this.balance(to) + amount)
  }

  delegateOf(a: Address): Address {
    return this.delegation.get(a) ?? zeroAddress
  }

  setDelegate(a: Address, to: Address): void {
    this.delegation.set(a, to)
  }

  /** `fraction` (0..1) of a's balance, rounded down to a millionth of it. */
  portion(a: Address, fraction: number): bigint {
    return (this.balance(a) * BigInt(Math.floor(Math.min(1, Math.max(0, fraction)) * 1e6))) / 1_000_000n
  }
}
