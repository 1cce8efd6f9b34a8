import {
  type BlockHeader,
  type DataHandlerContext,
  EvmBatchProcessor,
  type EvmBatchProcessorFields,
  type Log as _Log,
} from '@subsquid/evm-processor'
import type {Config} from '../config'
import type {ContractsConfig} from './contracts-config'
import type {LogInput} from './decode'

const FIELDS = {
  log: {topics: true, data: true, transactionHash: true},
} as const

/**
 * Builds the one EvmBatchProcessor: RPC (and optionally an SQD Network gateway for real chains), finality depth,
 * and one log subscription per configured contract, from its start block, for every log it emits.
 */
export function buildProcessor(config: Config, contracts: ContractsConfig) {
  if (!config.RPC_URL) throw new Error('buildProcessor: RPC_URL is required (the devnet sets it when run by npm start)')
  const processor = new EvmBatchProcessor()
    .setRpcEndpoint({
      url: config.RPC_URL,
      rateLimit: config.RPC_RATE_LIMIT,
      maxBatchCallSize: config.RPC_MAX_BATCH_CALL_SIZE,
    })
    .setFinalityConfirmation(config.FINALITY_CONFIRMATIONS)
    .setRpcDataIngestionSettings({headPollInterval: 500})
    .setFields(FIELDS)
  if (config.GATEWAY_URL) processor.setGateway(config.GATEWAY_URL)
  const from = Math.min(...contracts.contracts.map((c) => c.startBlock))
  const to = config.INDEX_TO_BLOCK
  processor.setBlockRange({from, to})
  if (config.INCLUDE_ALL_BLOCKS) processor.includeAllBlocks({from, to})
  // Every log of a configured contract, not only the topic0s its ABI declares: the audit log promises every event
  // the contract emitted, and a log outside the ABI (a proxy's Upgraded, a log with no topics) is exactly what an
  // auditor wants to see. Such logs are kept as 'Unknown' with the reason (decode.ts) and change nothing else.
  for (const c of contracts.contracts) {
    processor.addLog({
      address: [c.address],
      range: {from: c.startBlock},
    })
  }
  return processor
}

export type Fields = EvmBatchProcessorFields<EvmBatchProcessor<typeof FIELDS>>
export type Block = BlockHeader<Fields>
export type Log = _Log<Fields>
export type ProcessorContext<Store> = DataHandlerContext<Store, Fields>

/** The parts of a Subsquid log (and its block) that decodeLog reads. */
export function logInput(log: Log, block: Block): LogInput {
  return {
    id: log.id,
    logIndex: log.logIndex,
    transactionIndex: log.transactionIndex,
    transactionHash: log.transactionHash,
    address: log.address,
    topics: log.topics,
    data: log.data,
    block,
  }
}
