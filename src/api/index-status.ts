import type {Pool} from 'pg'
import {readIndexStatus, type IndexStatus} from '../processor/status'

/**
 * The index status as the API's requests see it, shared by all requests and re-read from the database at most once
 * per `maxAgeMs`. Without it every request that reports `asOfBlock` or checks an `atBlock` paid three statements
 * for the status alone.
 *
 * Staleness is bounded and never hidden:
 *  - `recent()` may be up to `maxAgeMs` old: used for `asOfBlock` of answers without atBlock (documented in the
 *    schema), which were never a snapshot of one height anyway (data and status are separate statements);
 *  - `fresh()` always reads the database: `indexStatus` itself, and `checkBlock` before it rejects a block as
 *    above the height, so a block indexed since the cached read is never refused.
 */
export const INDEX_STATUS_MAX_AGE_MS = 1000

export class IndexStatusCache {
  private cached: {at: number; status: Promise<IndexStatus>} | undefined

  constructor(
    private readonly pool: Pool,
    private readonly maxAgeMs = INDEX_STATUS_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  recent(): Promise<IndexStatus> {
    const c = this.cached
    if (c && this.now() - c.at < this.maxAgeMs) return c.status
    return this.fresh()
  }

  fresh(): Promise<IndexStatus> {
    const at = this.now()
    const status = readIndexStatus(this.pool)
    this.cached = {at, status}
    // A failed read is not kept: the next request tries again.
    status.catch(() => {
      if (this.cached?.status === status) this.cached = undefined
    })
    return status
  }
}
