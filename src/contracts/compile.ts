/**
 * Compiles contracts/*.sol with solc-js (no compiler download) and caches the result.
 *
 * The cache key covers everything that changes the output: our sources, the compiler settings, the solc
 * version and the OpenZeppelin version (whose files are pulled in through the import callback, not the key's
 * sources). A warm cache turns a ~4 s compile into a file read, which matters for repeated test runs.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Abi, Hex } from 'viem'

/** Contracts the project deploys; each is the contract of the same name in contracts/<Name>.sol. */
export const CONTRACT_NAMES = [
  'DeAIToken',
  'DeAIGovernor',
  'DeAITimelock',
  'ModelRegistry',
  'ContributionRegistry',
  'RewardDistributor',
] as const
export type ContractName = (typeof CONTRACT_NAMES)[number]

/** The contract behind each kind of entry in the indexer's contracts file (and each devnet call target). */
export const CONTRACT_OF_KIND = {
  token: 'DeAIToken',
  governor: 'DeAIGovernor',
  timelock: 'DeAITimelock',
  modelRegistry: 'ModelRegistry',
  contributionRegistry: 'ContributionRegistry',
  rewardDistributor: 'RewardDistributor',
} as const satisfies Record<string, ContractName>

export interface CompiledContract {
  abi: Abi
  bytecode: Hex
}
export type CompiledContracts = Record<ContractName, CompiledContract>

/** Project root, found relative to this file so it works from src/ (vitest) and lib/ (compiled). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..')
const CONTRACTS_DIR = path.join(PROJECT_ROOT, 'contracts')
const CACHE_DIR = path.join(PROJECT_ROOT, '.data', 'solc-cache')

export const SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[]
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>
}

/** Reads `@openzeppelin/...` imports from node_modules; resolution by require.resolve keeps paths portable. */
export function findImport(importPath: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(importPath), 'utf8') }
  } catch (e) {
    return { error: `cannot resolve import ${importPath}: ${(e as Error).message}` }
  }
}

function packageVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }
  return pkg.version
}

function readSources(): Record<string, { content: string }> {
  const sources: Record<string, { content: string }> = {}
  for (const file of readdirSync(CONTRACTS_DIR).filter((f) => f.endsWith('.sol')).sort()) {
    sources[`contracts/${file}`] = { content: readFileSync(path.join(CONTRACTS_DIR, file), 'utf8') }
  }
  return sources
}

function runSolc(input: object): CompiledContracts {
  // Loaded lazily: requiring solc costs ~1 s (it instantiates the wasm compiler), wasted on a cache hit.
  const solc = require('solc') as { compile(input: string, cb: { import: typeof findImport }): string }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) {
    throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  }
  const result: Partial<CompiledContracts> = {}
  for (const name of CONTRACT_NAMES) {
    const c = output.contracts?.[`contracts/${name}.sol`]?.[name]
    if (!c) throw new Error(`solc output lacks contract ${name}`)
    result[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` }
  }
  return result as CompiledContracts
}

let memo: Promise<CompiledContracts> | undefined

/** Compiles (or loads from the cache) every project contract. Memoised per process. */
export function compileContracts(): Promise<CompiledContracts> {
  memo ??= Promise.resolve().then(compileOrLoad)
  return memo
}

function compileOrLoad(): CompiledContracts {
  const input = { language: 'Solidity', sources: readSources(), settings: SETTINGS }
  const key = createHash('sha256')
    .update(JSON.stringify(input))
    .update(`solc@${packageVersion('solc')} oz@${packageVersion('@openzeppelin/contracts')}`)
    .digest('hex')
  const cacheFile = path.join(CACHE_DIR, `${key}.json`)
  if (existsSync(cacheFile)) {
    return JSON.parse(readFileSync(cacheFile, 'utf8')) as CompiledContracts
  }
  const compiled = runSolc(input)
  mkdirSync(CACHE_DIR, { recursive: true })
  // Write then rename so a concurrent test run never reads a half-written cache file.
  const tmp = `${cacheFile}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(compiled))
  renameSync(tmp, cacheFile)
  return compiled
}
