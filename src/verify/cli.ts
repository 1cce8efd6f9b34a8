import {Pool} from 'pg'
import {loadConfig} from '../config'
import {loadContractsConfig} from '../processor/contracts-config'
import {readIndexStatus} from '../processor/status'
import {compareIndexWithChain} from './compare'

/**
 * `npm run verify`: compares the index with the chain at the indexed head (DATABASE_URL, RPC_URL, CONTRACTS_FILE)
 * and prints every difference. Exit code 0 when they agree, 1 when they do not, 2 when the check could not run.
 */
async function main(): Promise<number> {
  const config = loadConfig()
  if (!config.DATABASE_URL || !config.RPC_URL) {
    console.error('verify needs DATABASE_URL and RPC_URL (and CONTRACTS_FILE) of a running index')
    return 2
  }
  const db = new Pool({connectionString: config.DATABASE_URL, max: 4})
  try {
    const status = await readIndexStatus(db)
    if (status.height < 0) {
      console.error('nothing indexed yet')
      return 2
    }
    const report = await compareIndexWithChain({
      rpcUrl: config.RPC_URL,
      db,
      contracts: loadContractsConfig(config.CONTRACTS_FILE),
      block: status.height,
    })
    console.log(`compared at block ${report.block}: ${JSON.stringify(report.checked)}`)
    for (const m of report.mismatches) console.log(`MISMATCH ${m.what}: chain ${m.chain}, index ${m.index}`)
    console.log(report.mismatches.length === 0 ? 'index equals chain truth' : `${report.mismatches.length} mismatch(es)`)
    return report.mismatches.length === 0 ? 0 : 1
  } finally {
    await db.end()
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(2)
  },
)
