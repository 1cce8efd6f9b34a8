import {TypeormDatabase} from '@subsquid/typeorm-store'
import {loadConfig} from '../config'
import {loadContractsConfig} from './contracts-config'
import {decodeLog} from './decode'
import {applyLogs} from './handle-batch'
import {loadBatchState} from './load'
import {buildProcessor} from './processor'
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

processor.run(new TypeormDatabase({supportHotBlocks: true}), async (ctx) => {
  const logs = []
  for (const block of ctx.blocks) {
    for (const log of block.logs) {
      logs.push(
        decodeLog(
          {
            id: log.id,
            logIndex: log.logIndex,
            transactionIndex: log.transactionIndex,
            transactionHash: log.transactionHash,
            address: log.address,
            topics: log.topics,
            data: log.data,
            block: block.header,
          },
          contracts,
        ),
      )
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
})
