import type {AuditEvent} from '../../model'
import type {BatchState} from '../batch-state'
import type {ContractsConfig} from '../contracts-config'
import type {LogMeta} from '../raw'

/** What every domain handler gets for one log: the batch's rows, where the log sits, and its audit row. */
export interface EventContext {
  state: BatchState
  meta: LogMeta
  /** The audit row of this log; derived rows point to it. */
  event: AuditEvent
  contracts: ContractsConfig
}

export function warn(ctx: EventContext, message: string): void {
  ctx.state.warnings.push(`${message} (block ${ctx.meta.blockNumber}, tx ${ctx.meta.txHash}, log ${ctx.meta.logIndex})`)
}
