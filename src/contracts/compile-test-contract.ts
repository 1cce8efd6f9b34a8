/**
 * Compiles one test-only contract from contracts/test/ (hostile emitters for the fault suite) with the same solc-js
 * settings and OpenZeppelin import resolution as the project's contracts (compile.ts). Test contracts stay out of
 * compileContracts(), so the deployed protocol and its cache key do not change when one is added.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Abi, Hex } from 'viem'
import { type CompiledContract, findImport, PROJECT_ROOT, SETTINGS } from './compile'

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[]
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>
}

const memo = new Map<string, CompiledContract>()

/** `name` is both the file (contracts/test/<name>.sol) and the contract in it. Memoised per process. */
export function compileTestContract(name: string): CompiledContract {
  const cached = memo.get(name)
  if (cached) return cached
  const source = `contracts/test/${name}.sol`
  const input = {
    language: 'Solidity',
    sources: { [source]: { content: readFileSync(path.join(PROJECT_ROOT, source), 'utf8') } },
    settings: SETTINGS,
  }
  // Loaded lazily, as in compile.ts: requiring solc costs about a second.
  const solc = require('solc') as { compile(input: string, cb: { import: typeof findImport }): string }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc failed on ${source}:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  const c = output.contracts?.[source]?.[name]
  if (!c) throw new Error(`solc output lacks contract ${name} in ${source}`)
  const compiled = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` as Hex }
  memo.set(name, compiled)
  return compiled
}
