/**
 * Hostile and malformed activity on a deployed protocol, for the fault suite: what a real chain can throw at an
 * indexer. Each step's transactions are recorded so a test can check how each one was indexed.
 *   - logs from an unknown contract (a HostileEmitter at its own address);
 *   - an ERC721-style Transfer (4 topics), a Transfer with 5 bytes of data, an event the token's ABI does not declare
 *     and a log with no topics, all emitted by the configured token address (the emitter's code stands in for the
 *     token's for a few blocks, via anvil_setCode);
 *   - reverted transactions: one that emitted before reverting, and a token transfer beyond the sender's balance;
 *   - a 100 KB vote reason and 100 KB model and version metadata URIs;
 *   - a zero-weight vote, a proposal that gets no vote at all, both run to the end of their voting period;
 *   - delegation loops: A→B and B→A in one block, then both back to themselves, then the loop again.
 */
import { encodeDeployData, encodeFunctionData, keccak256, stringToHex, type Abi, type Address, type Hex } from 'viem'
import { compileTestContract } from '../contracts/compile-test-contract'
import { compileContracts } from '../contracts/compile'
import { type Deployment, waitForReceipt } from './deploy'
import { Rpc } from './rpc'

export const HOSTILE_STRING_BYTES = 100_000

export interface HostileActivity {
  emitter: Address
  /** Logs an unknown contract emitted (must not be indexed). */
  unknownContractTxs: Hex[]
  /** Logs the configured token address emitted that do not fit its ABI (must be audit rows with a decode error). */
  erc721TransferTx: Hex
  shortDataTransferTx: Hex
  /** Logs of the token address outside its ABI (must be audit rows 'Unknown' with the reason). */
  unknownEventTx: Hex
  anonymousLogTx: Hex
  /** Addresses that appear only in those undecodable logs (must not become accounts or holders). */
  bystanders: Address[]
  /** Reverted transactions (must leave no trace). */
  revertedTxs: Hex[]
  longReasonVoteTx: Hex
  longUriModelTx: Hex
  longUriVersionTx: Hex
  zeroWeightVoter: Address
  votedProposalId: bigint
  unvotedProposalId: bigint
  loopAccounts: [Address, Address]
}

// A 100 KB string kept in storage costs ~70M gas (3,125 words); the devnet block gas limit is 1e9.
const GAS = {small: 300_000n, long: 150_000_000n}
const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`

export async function playHostileActivity(rpcUrl: string, d: Deployment, actors: readonly Address[]): Promise<HostileActivity> {
  const rpc = new Rpc(rpcUrl)
  const protocol = await compileContracts()
  const emitterArtifact = compileTestContract('HostileEmitter')
  if (actors.length < 3) throw new Error('hostile activity needs at least 3 actors')
  const [a, b, proposer] = actors as [Address, Address, Address, ...Address[]]
  const zeroWeightVoter = '0x000000000000000000000000000000000000dead' as Address
  const bystanders = ['0x00000000000000000000000000000000000b0001', '0x00000000000000000000000000000000000b0002'] as Address[]
  await rpc.batch([
    { method: 'anvil_autoImpersonateAccount', params: [true] },
    { method: 'evm_setAutomine', params: [true] },
    ...[...actors.slice(0, 3), zeroWeightVoter].map((x) => ({ method: 'anvil_setBalance', params: [x, hex(10n ** 21n)] })),
  ])

  /** One transaction, mined on its own; `expect` says whether it must succeed or revert. */
  const send = async (from: Address, to: Address | undefined, data: Hex, expect: 'success' | 'revert', gas = GAS.small) => {
    const hash = await rpc.call<Hex>('eth_sendTransaction', [{ from, ...(to ? { to } : {}), data, gas: hex(gas) }])
    const receipt = await waitForReceipt(rpc, hash)
    const ok = receipt.status === '0x1'
    if (ok !== (expect === 'success')) throw new Error(`hostile activity: tx ${hash} ${ok ? 'succeeded' : 'reverted'}, expected ${expect}`)
    return { hash, receipt }
  }
  const call = (abi: Abi, functionName: string, args: readonly unknown[]) => encodeFunctionData({ abi, functionName, args })
  const emitterAbi = emitterArtifact.abi
  const tokenAbi = protocol.DeAIToken.abi
  const governorAbi = protocol.DeAIGovernor.abi
  const registryAbi = protocol.ModelRegistry.abi

  // Unknown contract: well-formed and ERC721 Transfers from an address nobody configured.
  const deployed = await send(d.deployer, undefined, encodeDeployData({ abi: emitterAbi, bytecode: emitterArtifact.bytecode }), 'success', 2_000_000n)
  const emitter = deployed.receipt.contractAddress!.toLowerCase() as Address
  const unknownContractTxs = [
    (await send(d.deployer, emitter, call(emitterAbi, 'erc20Transfer', [a, b, 5n]), 'success')).hash,
    (await send(d.deployer, emitter, call(emitterAbi, 'erc721Transfer', [a, b, 7n]), 'success')).hash,
  ]

  // The configured token address emits what its ABI cannot decode, and one emit-then-revert.
  const tokenCode = await rpc.call<Hex>('eth_getCode', [d.token, 'latest'])
  await rpc.call('anvil_setCode', [d.token, await rpc.call<Hex>('eth_getCode', [emitter, 'latest'])])
  let erc721TransferTx: Hex
  let shortDataTransferTx: Hex
  let emitThenRevertTx: Hex
  let unknownEventTx: Hex
  let anonymousLogTx: Hex
  try {
    erc721TransferTx = (await send(d.deployer, d.token, call(emitterAbi, 'erc721Transfer', [bystanders[0], bystanders[1], 42n]), 'success')).hash
    shortDataTransferTx = (await send(d.deployer, d.token, call(emitterAbi, 'shortDataTransfer', [bystanders[0], bystanders[1]]), 'success')).hash
    unknownEventTx = (await send(d.deployer, d.token, call(emitterAbi, 'unknownEvent', [bystanders[0]]), 'success')).hash
    anonymousLogTx = (await send(d.deployer, d.token, call(emitterAbi, 'anonymousLog', [99n]), 'success')).hash
    emitThenRevertTx = (await send(d.deployer, d.token, call(emitterAbi, 'emitThenRevert', [bystanders[0], bystanders[1], 43n]), 'revert')).hash
  } finally {
    await rpc.call('anvil_setCode', [d.token, tokenCode])
  }
  // A plain token transfer the sender cannot afford.
  const broke = (await send(zeroWeightVoter, d.token, call(tokenAbi, 'transfer', [a, 1n]), 'revert')).hash

  // 100 KB strings in model metadata.
  const longUri = `ipfs://${'m'.repeat(HOSTILE_STRING_BYTES - 7)}`
  const longUriModelTx = (await send(a, d.modelRegistry, call(registryAbi, 'registerModel', ['hostile-model', longUri]), 'success', GAS.long)).hash
  const modelId = BigInt(await rpc.call<Hex>('eth_call', [{ to: d.modelRegistry, data: call(registryAbi, 'modelCount', []) }, 'latest']))
  const longUriVersionTx = (await send(a, d.modelRegistry,
    call(registryAbi, 'publishVersion', [modelId, 0n, keccak256(stringToHex('hostile-weights')), longUri]), 'success', GAS.long)).hash

  // Delegation loops, and voting power for the proposer: tokens first, so every delegation moves real votes.
  await send(d.deployer, d.token, call(tokenAbi, 'mint', [a, 10n ** 21n]), 'success')
  await send(d.deployer, d.token, call(tokenAbi, 'mint', [b, 2n * 10n ** 21n]), 'success')
  await sameBlock(rpc, [
    { from: a, to: d.token, data: call(tokenAbi, 'delegate', [b]) },
    { from: b, to: d.token, data: call(tokenAbi, 'delegate', [a]) },
  ])
  await send(a, d.token, call(tokenAbi, 'delegate', [a]), 'success')
  await send(b, d.token, call(tokenAbi, 'delegate', [b]), 'success')
  await sameBlock(rpc, [
    { from: a, to: d.token, data: call(tokenAbi, 'delegate', [b]) },
    { from: b, to: d.token, data: call(tokenAbi, 'delegate', [a]) },
    { from: a, to: d.token, data: call(tokenAbi, 'delegate', [a]) },
  ])

  // Two proposals: one gets a zero-weight vote and a 100 KB reason, the other no vote at all.
  const propose = async (description: string) => {
    const args = [[d.token], [0n], [call(tokenAbi, 'transfer', [a, 0n])]] as const
    await send(proposer, d.governor, call(governorAbi, 'propose', [...args, description]), 'success', 1_000_000n)
    return BigInt(await rpc.call<Hex>('eth_call', [{ to: d.governor,
      data: call(governorAbi, 'hashProposal', [...args, keccak256(stringToHex(description))]) }, 'latest']))
  }
  const head = Number(await rpc.call<Hex>('eth_blockNumber'))
  const votedProposalId = await propose(`Hostile: voted ${head}`)
  const unvotedProposalId = await propose(`Hostile: never voted ${head}`)
  const { votingDelay, votingPeriod } = d.governorSettings
  await rpc.call('anvil_mine', [hex(votingDelay + 1)])
  await send(zeroWeightVoter, d.governor, call(governorAbi, 'castVote', [votedProposalId, 1]), 'success')
  // `a` holds the votes of a and b after the loops (both end delegating to a).
  const longReasonVoteTx = (await send(a, d.governor,
    call(governorAbi, 'castVoteWithReason', [votedProposalId, 1, 'r'.repeat(HOSTILE_STRING_BYTES)]), 'success', GAS.long)).hash
  // Past both deadlines, so their final state (and the empty tally) is settled on chain.
  await rpc.call('anvil_mine', [hex(votingPeriod + 1)])

  return {
    emitter, unknownContractTxs, erc721TransferTx, shortDataTransferTx, unknownEventTx, anonymousLogTx, bystanders,
    revertedTxs: [emitThenRevertTx, broke], longReasonVoteTx, longUriModelTx, longUriVersionTx,
    zeroWeightVoter, votedProposalId, unvotedProposalId, loopAccounts: [a, b],
  }
}

/** Sends the transactions with automine off and mines them into one block; each must succeed. */
async function sameBlock(rpc: Rpc, txs: { from: Address; to: Address; data: Hex }[]): Promise<void> {
  await rpc.call('evm_setAutomine', [false])
  try {
    const hashes: Hex[] = []
    for (const tx of txs) hashes.push(await rpc.call<Hex>('eth_sendTransaction', [{ ...tx, gas: hex(GAS.small) }]))
    await rpc.call('evm_mine', [])
    for (const h of hashes) {
      const r = await waitForReceipt(rpc, h)
      if (r.status !== '0x1') throw new Error(`hostile activity: same-block tx ${h} reverted`)
    }
  } finally {
    await rpc.call('evm_setAutomine', [true])
  }
}
