import DataLoader from 'dataloader'
import type {Pool, QueryResultRow} from 'pg'
import type {IndexStatus} from '../processor/status'
import {badInput} from './errors'
import type {IndexStatusCache} from './index-status'
import {type PageSettings, RowBudget} from './pagination'
import {QUERY_LIMITS} from './limits'
import {statementName} from './prepared'
import {Params} from './sql'

/** The API's share of Config (src/config.ts), so tests can build an API without an environment. */
export interface ApiSettings extends PageSettings {
  statementTimeoutMs: number
  /** Allowed CORS origins; empty = no cross-origin access, ['*'] = any. */
  corsOrigins: readonly string[]
}

/**
 * Per-request context: the shared pool, and everything that must not outlive the request — DataLoaders (their
 * caches would otherwise serve stale rows to later requests), the memoized index status, the row budget.
 */
export interface ApiContext {
  settings: ApiSettings
  budget: RowBudget
  query<T extends QueryResultRow>(sql: string, params: Params | unknown[]): Promise<T[]>
  /** At most INDEX_STATUS_MAX_AGE_MS old (index-status.ts): for `asOfBlock` of latest-state answers. */
  indexStatus(): Promise<IndexStatus>
  /** Read now: for `indexStatus` itself and before refusing a block as not indexed yet. */
  freshIndexStatus(): Promise<IndexStatus>
  /** The request's DataLoader for `name`, made by `make` on first use; domain modules own their batch functions. */
  loader<K, V>(name: string, make: () => DataLoader<K, V, string>): DataLoader<K, V, string>
}

export function createContext(pool: Pool, settings: ApiSettings, status: IndexStatusCache): ApiContext {
  const loaders = new Map<string, DataLoader<unknown, unknown, string>>()
  let fresh: Promise<IndexStatus> | undefined
  return {
    settings,
    budget: new RowBudget(QUERY_LIMITS.rowBudgetPages * settings.maxPage),
    async query<T extends QueryResultRow>(sql: string, params: Params | unknown[]) {
      const values = params instanceof Params ? params.values : params
      return (await pool.query<T>({text: sql, values, name: statementName(sql)})).rows
    },
    indexStatus: () => status.recent(),
    freshIndexStatus: () => (fresh ??= status.fresh()),
    loader<K, V>(name: string, make: () => DataLoader<K, V, string>) {
      let l = loaders.get(name)
      if (!l) loaders.set(name, (l = make() as DataLoader<unknown, unknown, string>))
      return l as DataLoader<K, V, string>
    },
  }
}

/**
 * Validates an `atBlock`-style argument against the index: history beyond the indexed height is not known yet, and
 * answering it from partial data would be wrong without saying so. Null stays null ("latest").
 */
export async function checkBlock(ctx: ApiContext, block: number | null | undefined, name = 'atBlock'): Promise<number | null> {
  if (block == null) return null
  if (block < 0) throw badInput(`${name} must be ≥ 0, got ${block}`, {argument: name})
  // The cached height may be behind: only a fresh read may refuse the block.
  if (block <= (await ctx.indexStatus()).height) return block
  const {height} = await ctx.freshIndexStatus()
  if (block > height) throw badInput(`${name} ${block} is above the indexed height ${height}`, {argument: name, height})
  return block
}
