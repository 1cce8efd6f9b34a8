import type {ContractsConfig} from './contracts-config'
import {EVENT_CATALOG} from './event-catalog'
import type {DecodedLog, LogMeta} from './raw'

/** The parts of a Subsquid log that decoding needs (kept structural so unit tests can build logs by hand). */
export interface LogInput {
  id: string
  logIndex: number
  transactionIndex: number
  transactionHash: string
  address: string
  topics: string[]
  data: string
  block: {height: number; hash: string; timestamp: number}
}

/**
 * Turns one log into an audit record plus, when it has domain meaning, a RawEvent.
 *
 * Malformed input loses nothing and stops nothing: a log whose topic0 matches a known event but whose topics or data
 * do not fit the ABI (for example an ERC721 Transfer, which shares topic0 with ERC20 Transfer but has 4 topics) is
 * still stored in the audit log, as eventName with `decodeError` and the raw topics/data, and changes no derived row.
 * Logs from contracts or with topics we do not know are also kept, as eventName 'Unknown' with the reason in
 * `decodeError`.
 */
export function decodeLog(log: LogInput, contracts: ContractsConfig): DecodedLog {
  const contract = log.address.toLowerCase()
  const meta: LogMeta = {
    id: log.id,
    blockNumber: log.block.height,
    blockHash: log.block.hash,
    timestamp: new Date(log.block.timestamp),
    txHash: log.transactionHash,
    transactionIndex: log.transactionIndex,
    logIndex: log.logIndex,
    contract,
  }
  const entry = contracts.byAddress.get(contract)
  const spec = entry && log.topics[0] !== undefined ? EVENT_CATALOG[entry.kind].get(log.topics[0]) : undefined
  if (!entry || !spec) {
    return {meta, contractKind: entry?.kind ?? 'unknown', eventName: 'Unknown', args: {decodeError: unknownReason(log, entry?.kind), topics: log.topics, data: log.data}}
  }
  let decoded: Record<string, unknown>
  try {
    // The generated decoder checks topic0 and the exact topic count, so an ERC721 Transfer fails here.
    decoded = spec.decode(log)
  } catch (e) {
    return {
      meta,
      contractKind: entry.kind,
      eventName: spec.name,
      args: {decodeError: (e as Error).message, topics: log.topics, data: log.data},
    }
  }
  return {meta, contractKind: entry.kind, eventName: spec.name, args: toJsonSafe(decoded) as Record<string, unknown>, raw: spec.toRaw?.(decoded)}
}

/** Why a log is 'Unknown', for the audit row: the auditor should not have to guess. */
function unknownReason(log: LogInput, kind: string | undefined): string {
  if (kind === undefined) return `${log.address.toLowerCase()} is not a configured contract`
  if (log.topics[0] === undefined) return 'log has no topics (anonymous event): nothing to identify it by'
  return `topic0 ${log.topics[0]} is not an event of the ${kind} ABI`
}

/** bigint → decimal string, recursively, so the args survive JSON exactly. */
export function toJsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(toJsonSafe)
  if (value instanceof Uint8Array) return '0x' + Buffer.from(value).toString('hex')
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = toJsonSafe(v)
    return out
  }
  return value
}
