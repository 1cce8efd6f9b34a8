import {Client} from 'pg'
import {MIGRATIONS_TABLE} from '../db/migrate'

export interface ResetResult {
  /** Tables emptied. */
  tables: string[]
}

/**
 * Empties the index so the next processor start re-indexes from the contracts' start blocks: every table of the
 * public schema except the migrations table, and Subsquid's own status and hot-block schema. One transaction: a
 * failed reset leaves the index as it was. The recovery path after a reorg deeper than finality (fork-check.ts);
 * the analytics mirror notices the replaced index by itself and rebuilds (src/analytics/store/sync.ts).
 *
 * Only for a stopped processor: a running one would keep writing on top of the emptied tables.
 */
export async function resetIndex(databaseUrl: string, processorSchema = 'squid_processor'): Promise<ResetResult> {
  const client = new Client({connectionString: databaseUrl})
  await client.connect()
  try {
    await client.query('BEGIN')
    const res = await client.query<{tablename: string}>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> $1 ORDER BY tablename`,
      [MIGRATIONS_TABLE],
    )
    const tables = res.rows.map((r) => r.tablename)
    if (tables.length > 0) await client.query(`TRUNCATE ${tables.map((t) => `public."${t}"`).join(', ')}`)
    await client.query(`DROP SCHEMA IF EXISTS "${processorSchema}" CASCADE`)
    await client.query('COMMIT')
    return {tables}
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  } finally {
    await client.end()
  }
}
