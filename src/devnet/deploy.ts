/**
 * Deploys the whole protocol to a dev node and writes the indexer's contracts file.
 *
 * Governor and timelock reference each other, so the governor's address is computed in advance from the
 * deployer's nonce: the timelock is then born with the governor as its only proposer/canceller and no admin,
 * which saves the grant/renounce transactions and leaves no privileged EOA behind.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { encodeDeployData, getContractAddress, zeroAddress, type Address, type Hex } from 'viem'
import { compileContracts, type ContractName } from '../contracts/compile'
import { Rpc } from './rpc'

export interface GovernorSettings {
  votingDelay: number
  votingPeriod: number
  quorumNumerator: number
  timelockMinDelay: number
}

export interface Deployment {
  chainId: number
  /** Block of the first deployment transaction. */
  startBlock: number
  deployer: Address
  token: Address
  timelock: Address
  governor: Address
  modelRegistry: Address
  contributionRegistry: Address
  rewardDistributor: Address
  /** Block each contract was deployed in (for the contracts file). */
  blocks: Record<ContractName, number>
  governorSettings: GovernorSettings
}

export interface DeployOptions extends Partial<GovernorSettings> {
  /** Sending account; must be unlocked on the node. Defaults to the node's first account. */
  deployer?: Address
  proposalThreshold?: bigint
}

interface Receipt {
  status: Hex
  blockNumber: Hex
  contractAddress: Address | null
  transactionHash: Hex
}

const DEPLOY_GAS = 8_000_000n

export async function waitForReceipt(rpc: Rpc, hash: Hex, timeoutMs = 30_000): Promise<Receipt> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await rpc.call<Receipt | null>('eth_getTransactionReceipt', [hash])
    if (r) return r
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash}`)
    await new Promise((res) => setTimeout(res, 5))
  }
}

export async function deployProtocol(rpcUrl: string, opts: DeployOptions = {}): Promise<Deployment> {
  const rpc = new Rpc(rpcUrl)
  const compiled = await compileContracts()
  const settings: GovernorSettings = {
    votingDelay: opts.votingDelay ?? 1,
    votingPeriod: opts.votingPeriod ?? 10,
    quorumNumerator: opts.quorumNumerator ?? 4,
    timelockMinDelay: opts.timelockMinDelay ?? 1,
  }
  const chainId = Number(await rpc.call<Hex>('eth_chainId'))
  const deployer = (opts.deployer ?? (await rpc.call<Address[]>('eth_accounts'))[0])?.toLowerCase() as Address
  if (!deployer) throw new Error('node has no unlocked account to deploy from')
  const nonce0 = BigInt(await rpc.call<Hex>('eth_getTransactionCount', [deployer, 'pending']))
  const at = (i: number): Address =>
    getContractAddress({ from: deployer, nonce: nonce0 + BigInt(i) }).toLowerCase() as Address

  // Order fixes the addresses above: token, timelock, governor, modelRegistry, contributionRegistry, rewards.
  const plan: [ContractName, unknown[]][] = [
    ['DeAIToken', [deployer]],
    ['DeAITimelock', [BigInt(settings.timelockMinDelay), [at(2)], [zeroAddress], zeroAddress]],
    [
      'DeAIGovernor',
      [at(0), at(1), settings.votingDelay, settings.votingPeriod, opts.proposalThreshold ?? 0n,
        BigInt(settings.quorumNumerator)],
    ],
    ['ModelRegistry', []],
    ['ContributionRegistry', [at(3), deployer]],
    ['RewardDistributor', [at(0), at(4), deployer]],
  ]
  // With automine off (e.g. a scenario left it so) each deployment is mined explicitly.
  const automine = await rpc.call<boolean>('anvil_getAutomine').catch(() => true)
  const blocks: Partial<Record<ContractName, number>> = {}
  for (const [i, [name, args]] of plan.entries()) {
    const { abi, bytecode } = compiled[name]
    const data = encodeDeployData({ abi, bytecode, args })
    const hash = await rpc.call<Hex>('eth_sendTransaction', [
      { from: deployer, data, gas: `0x${DEPLOY_GAS.toString(16)}`, nonce: `0x${(nonce0 + BigInt(i)).toString(16)}` },
    ])
    if (!automine) await rpc.call('evm_mine')
    const receipt = await waitForReceipt(rpc, hash)
    if (receipt.status !== '0x1' || receipt.contractAddress?.toLowerCase() !== at(i)) {
      throw new Error(`deploying ${name} failed (tx ${hash}, status ${receipt.status})`)
    }
    blocks[name] = Number(receipt.blockNumber)
  }
  const b = blocks as Record<ContractName, number>
  return {
    chainId,
    startBlock: Math.min(...Object.values(b)),
    deployer,
    token: at(0),
    timelock: at(1),
    governor: at(2),
    modelRegistry: at(3),
    contributionRegistry: at(4),
    rewardDistributor: at(5),
    blocks: b,
    governorSettings: settings,
  }
}

/** The indexer's contracts file (format agreed with the indexer author). */
export function contractsConfig(d: Deployment): object {
  return {
    chainId: d.chainId,
    contracts: [
      { kind: 'token', name: 'DEAI', address: d.token, startBlock: d.blocks.DeAIToken },
      {
        kind: 'governor', name: 'DeAI Governor', address: d.governor, startBlock: d.blocks.DeAIGovernor,
        token: d.token, timelock: d.timelock,
      },
      { kind: 'timelock', address: d.timelock, startBlock: d.blocks.DeAITimelock },
      { kind: 'modelRegistry', address: d.modelRegistry, startBlock: d.blocks.ModelRegistry },
      // modelRegistry: the registry the model ids in these contracts' events refer to (optional in the format).
      {
        kind: 'contributionRegistry', address: d.contributionRegistry, startBlock: d.blocks.ContributionRegistry,
        modelRegistry: d.modelRegistry,
      },
      {
        kind: 'rewardDistributor', address: d.rewardDistributor, startBlock: d.blocks.RewardDistributor,
        token: d.token, modelRegistry: d.modelRegistry,
      },
    ],
  }
}

export function writeContractsConfig(d: Deployment, file: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  writeFileSync(file, `${JSON.stringify(contractsConfig(d), null, 2)}\n`)
}
