import {type Store, TypeormDatabase} from '@subsquid/typeorm-store'
import {Client} from 'pg'
import {type Config, loadConfig} from '../config'
import {loadContractsConfig} from './contracts-config'
import {decodeLog} from './decode'
import {describeFork, EXIT_FORK_BELOW_FINALITY, findForkBelowFinality, rpcBlockHash} from './fork-check'
import {applyLogs} from './handle-batch'
import {loadBatchState} from './load'
import {buildProcessor, logInput, type ProcessorContext} from './processor'
import {writeBatchState} from './write'

/**
 * The processor's entry point (`node lib/processor/main.js`): decode → load once → apply in memory → write once, per
 * batch. Run as its own process so it can be stopped and restarted at any point: each batch commits atomically with
 * the processor's status row, so a restart resumes after the last committed block with no gap and no duplicate.
 */
const config = loadConfig()
const contracts = loadContractsConfig(config.CONTRACTS_FILE)
if (config.DATABASE_URL) {
  // @subsquid/typeorm-config reads its connection from DB_URL; our config owns the name DATABASE_URL.
  process.env.DB_URL = config.DATABASE_URL
}
const processor = buildProcessor(config, contracts)

/**
 * Before resuming, makes sure the block the index holds as final is still on the chain. If a reorg deeper than
 * FINALITY_CONFIRMATIONS replaced it, Subsquid would crash or refuse with an obscure message and a supervisor would
 * restart it forever: instead say what happened and how to recover, and exit with EXIT_FORK_BELOW_FINALITY, which the
 * supervisor (supervise.ts) does not restart. Nothing is written in that case.
 */
async function refuseToResumeOnAFork(config: Config): Promise<void> {
  if (!config.DATABASE_URL || !config.RPC_URL) return
  const client = new Client({connectionString: config.DATABASE_URL})
  await client.connect()
  try {
    const fork = await findForkBelowFinality(client, rpcBlockHash(config.RPC_URL))
    if (!fork) return
    console.error(`[processor] ${describeFork(fork, config.FINALITY_CONFIRMATIONS).replaceAll('\n', '\n[processor] ')}`)
    process.exit(EXIT_FORK_BELOW_FINALITY)
  } finally {
    await client.end()
  }
}

refuseToResumeOnAFork(config).then(startProcessing, (e: unknown) => {
  // A database or endpoint that does not answer yet: exit non-zero so the supervisor retries with backoff.
  console.error(`[processor] could not check the index against the chain before starting: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
})

function startProcessing(): void {
  processor.run(new TypeormDatabase({supportHotBlocks: true}), handleBatch)
}

async function handleBatch(ctx: ProcessorContext<Store>): Promise<void> {
  const logs = []
  for (const block of ctx.blocks) {
    for (const log of block.logs) {
      logs.push(decodeLog(logInput(log, block.header), contracts))
    }
  }
  const last = ctx.blocks[ctx.blocks.length - 1]
  if (!last) return
  const t0 = performance.now()
  const state = await loadBatchState(ctx.store, logs, contracts)
  const t1 = performance.now()
  applyLogs(state, logs, contracts, last.header.height)
  for (const w of state.warnings) ctx.log.warn(w)
  const t2 = performance.now()
  await writeBatchState(ctx.store, state)
  const t3 = performance.now()
  // Stage timings per batch (SQD_DEBUG=sqd:processor:mapping shows them): what the ingest benchmark tunes.
  ctx.log.debug(`batch ${ctx.blocks.length} blocks ${logs.length} logs: load ${(t1 - t0).toFixed(0)} apply ${(t2 - t1).toFixed(0)} write ${(t3 - t2).toFixed(0)} ms`)
}
