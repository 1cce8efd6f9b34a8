import type {Pool} from 'pg'
import {INDEX_STATUS_MAX_AGE_MS} from './index-status'
import {statementName} from './prepared'

/**
 * Which version of the data the API answers from, for the response cache (response-cache.ts): a number that
 * changes whenever an answer may have changed, read from the database at most once per `maxAgeMs` for all requests.
 *
 * Only two writers change what the API reads: the processor, which commits every batch in one transaction with its
 * status row (squid_processor.status: height, hash and a `nonce` incremented by every commit; unfinalized blocks
 * in hot_block, whose top changes with every hot block and every rollback, also at the same height), and the
 * analytics, which bump analytics_state.version in the transaction of every write and after every drop of results
 * (src/analytics/jobs/results.ts). One statement reads all of it; any difference from the previous read starts a
 * new generation. Generations only grow, so an answer cached under an old one is never served again even if the
 * state returns to an earlier value (a reorg and its reversal between two reads).
 *
 * Why answers cached under a generation are never older than it: a request gets a generation only after the read
 * that observed it has completed, and executes its resolvers after that, so what it reads is at least as new as the
 * state the generation stands for. Staleness is therefore bounded by `maxAgeMs` (plus one read's duration): a commit
 * is seen by every version read that starts after it, and a read older than `maxAgeMs` is never reused.
 *
 * This is not IndexStatusCache (index-status.ts) reused: that one reads the heights for `asOfBlock` in three
 * statements and has no commit counter; this one is a single statement, and same maximum age.
 */
export class DataVersionCache {
  private cached: {at: number; generation: Promise<number>} | undefined
  private generation = 0
  private state: string | undefined
  private readsStarted = 0
  private lastApplied = 0
  private readonly listeners: ((generation: number) => void)[] = []

  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    private readonly maxAgeMs = INDEX_STATUS_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The current generation, from a read at most `maxAgeMs` old. Rejects when that read failed. */
  current(): Promise<number> {
    const c = this.cached
    if (c && this.now() - c.at < this.maxAgeMs) return c.generation
    const at = this.now()
    const generation = this.read()
    this.cached = {at, generation}
    // A failed read is kept for its maximum age too: meanwhile requests run without the cache (see response-cache.ts)
    // and do not each pay another failing statement (an outage, or no squid_processor before the first run).
    generation.catch(() => undefined)
    return generation
  }

  /** The newest generation observed so far (no read): a result computed under an older one is not stored. */
  get latest(): number {
    return this.generation
  }

  /** Called once per new generation (the response cache drops what it holds: nothing can be served from it again). */
  onChange(listener: (generation: number) => void): void {
    this.listeners.push(listener)
  }

  private async read(): Promise<number> {
    const seq = ++this.readsStarted
    const {rows} = await this.pool.query<{state: string}>({name: statementName(DATA_VERSION_SQL), text: DATA_VERSION_SQL})
    // Reads may complete out of order; only a newer read than the last one applied may change the generation.
    if (seq > this.lastApplied) {
      this.lastApplied = seq
      const state = rows[0]!.state
      if (state !== this.state) {
        this.state = state
        this.generation++
        for (const listener of this.listeners) listener(this.generation)
      }
    }
    return this.generation
  }
}

/**
 * Whole rows as JSON (every column, whatever typeorm-store's version has, nonce included), so any change of them
 * is a change of the text. Fails while squid_processor or analytics_state does not exist (before the processor's
 * first run, or without the migration): then nothing is cached, and answers are computed as without a cache.
 */
const DATA_VERSION_SQL = `SELECT jsonb_build_array(
  (SELECT to_jsonb(s) FROM squid_processor.status s WHERE s.id = 0),
  (SELECT to_jsonb(h) FROM squid_processor.hot_block h ORDER BY h.height DESC LIMIT 1),
  (SELECT a.version FROM analytics_state a WHERE a.id = 'analytics'))::text AS state`
