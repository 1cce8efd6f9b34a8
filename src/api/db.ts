import {Pool} from 'pg'

/**
 * The API's connection pool. Every session it opens is read-only and time-boxed, whatever role the URL names:
 *  - statement_timeout: one expensive query (an as-of-block ranking over a long history) cannot hold a connection
 *    and a CPU for long; the client gets a masked error, the server logs the cause;
 *  - default_transaction_read_only: even with an admin URL (API_DATABASE_URL unset), the API cannot write. The
 *    read-only role (readonly-role.ts) is the real guarantee; this is the second lock;
 *  - max_parallel_workers_per_gather 0 and plan_cache_mode force_custom_plan (below).
 */
export function createApiPool(url: string, opts: {statementTimeoutMs: number; max?: number}): Pool {
  const pool = new Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'deai-lens-api',
    statement_timeout: opts.statementTimeoutMs,
    // No parallel workers: the API runs many small statements at once, and a Gather node starts its workers even when
    // a one-time filter then skips the scan (an audit trail page paid ~30 ms for two idle workers on 2 cores).
    // Custom plans always for the named statements (prepared.ts): a generic plan cannot see which address or parent
    // a page is for, and Postgres switched an audit-trail page to one that walked 349k audit rows (3 ms → 310 ms).
    // Prepared statements still save parsing and analysis on every execution.
    options: '-c default_transaction_read_only=on -c max_parallel_workers_per_gather=0 -c plan_cache_mode=force_custom_plan',
  })
  // An idle client whose server goes away emits 'error'; unhandled, that would crash the API.
  pool.on('error', () => undefined)
  return pool
}
