import {readFileSync} from 'node:fs'
import {z} from 'zod'

/**
 * Which contracts to index, as a file: the single source of truth for addresses and start blocks. The devnet writes
 * one for its own deployment; for a real chain, write it by hand (see README "Indexing a real chain").
 */
const Address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address')
  .transform((a) => a.toLowerCase())

const Base = {address: Address, startBlock: z.number().int().min(0), name: z.string().optional()}

const ContractEntry = z.discriminatedUnion('kind', [
  z.object({kind: z.literal('token'), ...Base}),
  z.object({kind: z.literal('governor'), ...Base, token: Address, timelock: Address.optional()}),
  z.object({kind: z.literal('timelock'), ...Base}),
  z.object({kind: z.literal('modelRegistry'), ...Base}),
  z.object({kind: z.literal('contributionRegistry'), ...Base, modelRegistry: Address.optional()}),
  z.object({kind: z.literal('rewardDistributor'), ...Base, token: Address.optional(), modelRegistry: Address.optional()}),
])

const ContractsFile = z.object({
  chainId: z.number().int().positive().optional(),
  contracts: z.array(ContractEntry).min(1),
})

export type ContractEntry = z.infer<typeof ContractEntry>
export type ContractKind = ContractEntry['kind']

export interface ContractsConfig {
  readonly chainId?: number
  readonly contracts: readonly ContractEntry[]
  /** Lowercased address → entry. */
  readonly byAddress: ReadonlyMap<string, ContractEntry>
  /** Model ids in contribution and reward events are resolved against this registry. */
  modelRegistryFor(entry: ContractEntry): string | undefined
}

export function parseContractsConfig(json: unknown, source = 'contracts file'): ContractsConfig {
  const parsed = ContractsFile.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')
    throw new Error(`Invalid ${source}:\n${problems}`)
  }
  const byAddress = new Map<string, ContractEntry>()
  for (const c of parsed.data.contracts) {
    if (byAddress.has(c.address)) throw new Error(`Invalid ${source}: address ${c.address} is listed twice`)
    byAddress.set(c.address, c)
  }
  for (const c of parsed.data.contracts) {
    if (c.kind === 'governor' && byAddress.get(c.token)?.kind !== 'token') {
      throw new Error(`Invalid ${source}: governor ${c.address} names token ${c.token}, which is not listed as a token`)
    }
  }
  const registries = parsed.data.contracts.filter((c) => c.kind === 'modelRegistry')
  return Object.freeze({
    chainId: parsed.data.chainId,
    contracts: parsed.data.contracts,
    byAddress,
    modelRegistryFor(entry: ContractEntry): string | undefined {
      if ((entry.kind === 'contributionRegistry' || entry.kind === 'rewardDistributor') && entry.modelRegistry) {
        return entry.modelRegistry
      }
      // With a single registry there is nothing to choose; with several, the file must say.
      return registries.length === 1 ? registries[0]!.address : undefined
    },
  })
}

export function loadContractsConfig(file: string): ContractsConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new Error(`Cannot read the contracts file ${file}: ${(e as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new Error(`The contracts file ${file} is not valid JSON: ${(e as Error).message}`)
  }
  return parseContractsConfig(json, `contracts file ${file}`)
}
