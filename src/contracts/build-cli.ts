/**
 * Writes contracts/abi/<ContractName>.json (plain ABI arrays, committed) for @subsquid/evm-typegen.
 * Run: `npm run contracts:build` (or `node lib/contracts/build-cli.js` after `tsc`).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { compileContracts, CONTRACT_NAMES, PROJECT_ROOT } from './compile'

async function main(): Promise<void> {
  const started = Date.now()
  const compiled = await compileContracts()
  const dir = path.join(PROJECT_ROOT, 'contracts', 'abi')
  mkdirSync(dir, { recursive: true })
  for (const name of CONTRACT_NAMES) {
    writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(compiled[name].abi, null, 2)}\n`)
  }
  console.log(`wrote ${CONTRACT_NAMES.length} ABIs to contracts/abi in ${Date.now() - started} ms`)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
