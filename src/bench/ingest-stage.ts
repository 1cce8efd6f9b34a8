import {loadConfig} from '../config'
import {type BatchState, type LoadedRows, newBatchState} from '../processor/batch-state'
import {loadContractsConfig} from '../processor/contracts-config'
import {decodeLog} from '../processor/decode'
import {EntityMap} from '../processor/entity-map'
import {applyLogs} from '../processor/handle-batch'
import {buildProcessor, logInput} from '../processor/processor'
import type {DecodedLog} from '../processor/raw'

/**
 * One ceiling run for `npm run bench:ingest` (`node lib/bench/ingest-stage.js fetch|apply HEAD`), run as its own
 * process like the real processor. The same EvmBatchProcessor configuration as the processor (buildProcessor), with a
 * store that writes nothing:
 *   - `fetch`: RPC ingestion only (Subsquid fetching and mapping blocks and logs), what ../shared/NOTES.md measured as
 *     the pipeline's ceiling;
 *   - `apply`: plus the processor's own in-memory work: decoding every log with the generated ABI modules and
 *     applying it to aggregates carried from batch to batch (what the database would hand back), with no Postgres.
 * The gap between these and the full processor is what the database stage costs; the gap between `fetch` and `apply`
 * is what decoding and the derived entities cost in Node before any byte is written.
 *
 * Every block is final here (FINALITY_CONFIRMATIONS=0 is set by the caller): the no-op store keeps no rollback log.
 * Prints one JSON line: {logs, seconds, cpuSeconds}, timed from process start to the head block's batch.
 */
/** The batch's aggregates (every EntityMap of the state), as the next batch's load would hand them back. */
function carry(state: BatchState): LoadedRows {
  const rows: Record<string, unknown[]> = {}
  for (const [name, value] of Object.entries(state)) if (value instanceof EntityMap) rows[name] = [...value.values()]
  return rows as LoadedRows
}

function main(): void {
  const mode = process.argv[2]
  const head = Number(process.argv[3])
  if ((mode !== 'fetch' && mode !== 'apply') || !Number.isSafeInteger(head)) {
    throw new Error('usage: node lib/bench/ingest-stage.js fetch|apply HEAD_BLOCK')
  }
  const config = loadConfig()
  const contracts = loadContractsConfig(config.CONTRACTS_FILE)
  const processor = buildProcessor(config, contracts)
  let logs = 0
  let carried: LoadedRows = {}
  const store = {
    supportsHotBlocks: false as const,
    connect: async () => ({height: -1, hash: '0x'}),
    transact: async (_info: unknown, cb: (store: object) => Promise<void>) => cb({}),
  }
  processor.run(store, async (ctx) => {
    const decoded: DecodedLog[] = []
    for (const block of ctx.blocks) {
      logs += block.logs.length
      if (mode === 'fetch') continue
      for (const log of block.logs) decoded.push(decodeLog(logInput(log, block.header), contracts))
    }
    const last = ctx.blocks[ctx.blocks.length - 1]
    if (!last) return
    if (mode === 'apply') {
      const state = newBatchState(carried)
      applyLogs(state, decoded, contracts, last.header.height)
      carried = carry(state)
    }
    if (last.header.height >= head) {
      const cpu = process.cpuUsage()
      console.log(JSON.stringify({logs, seconds: process.uptime(), cpuSeconds: (cpu.user + cpu.system) / 1e6}))
      process.exit(0)
    }
  })
}

main()
