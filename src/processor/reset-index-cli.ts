import {loadConfig} from '../config'
import {redactPgUrl} from '../db/url'
import {resetIndex} from './reset-index'

/**
 * `npm run reset-index -- --yes` (node lib/processor/reset-index-cli.js --yes): empties the index at DATABASE_URL (see reset-index.ts) so the next start
 * re-indexes from the start blocks. The recovery after a reorg deeper than FINALITY_CONFIRMATIONS; stop the
 * processor first.
 */
async function main(): Promise<void> {
  const config = loadConfig()
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is required: the database whose index to reset')
  // Destructive: a re-index of a real chain can take hours, so it is never done by a mistyped command.
  if (!process.argv.slice(2).includes('--yes')) {
    throw new Error(`this empties every indexed table of ${redactPgUrl(config.DATABASE_URL)}; run it again with --yes to go ahead`)
  }
  const {tables} = await resetIndex(config.DATABASE_URL)
  console.log(`[reset-index] ${redactPgUrl(config.DATABASE_URL)}: emptied ${tables.length} tables and the processor status; ` +
    'the next start re-indexes from the start blocks')
}

main().catch((e) => {
  console.error('[reset-index] failed:', e instanceof Error ? e.message : e)
  process.exit(1)
})
