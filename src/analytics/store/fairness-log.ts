import type {DuckDBConnection} from '@duckdb/node-api'

/**
 * The contributors and recipients whose fairness amounts a sync may have changed, logged on the connection that
 * synced, for the amounts kept in the process (jobs/kept-fairness.ts), which recomputes only those entities at its
 * next suite instead of every contribution and reward of the protocol.
 *
 * An entity's amounts (per model and protocol-wide) are sums over rows of validated_contribution (contributions,
 * registry side 'c') and of reward_paid joined to epoch (rewards, distributor side 'r'). The sync changes those rows
 * only above a cut, so it logs, before its rollback deletes them and after it extracts the new ones:
 *  - 'c': the contributor of every validated pair with its validation or its contribution above the cut;
 *  - 'r': the recipient of every payment above the cut, and of every payment of an epoch above the cut (an epoch's
 *    model decides where all of its payments count).
 * An entity logged for nothing (a rollback that put the same rows back) costs a recomputation, not an error.
 *
 * Only the sources the kept amounts follow are logged (fairness_log_sources, which they fill when they build from
 * the whole mirror), so a first load logs nothing. A source whose log grows past MAX_LOGGED_ENTITIES without being
 * taken is dropped from both tables: the kept amounts, finding it unregistered, build again. TEMP tables, as the
 * balance log (balances.ts): they belong to the connection that synced and are transactional, so a failed sync takes
 * its entries back with it.
 */
export async function ensureFairnessLog(conn: DuckDBConnection): Promise<void> {
  await conn.run(`CREATE TEMP TABLE IF NOT EXISTS fairness_touched (side VARCHAR NOT NULL, source VARCHAR NOT NULL, entity VARCHAR NOT NULL)`)
  await conn.run(`CREATE TEMP TABLE IF NOT EXISTS fairness_log_sources (side VARCHAR NOT NULL, source VARCHAR NOT NULL)`)
}

/** The temp tables of the log, dropped with the mirror by a rebuild (schema.ts). */
export const FAIRNESS_LOG_TABLES = ['fairness_touched', 'fairness_log_sources'] as const

const MAX_LOGGED_ENTITIES = 1_000_000

/** The entities whose amounts rows above `cut` feed, as (side, source, entity); an entity may appear more than once. */
const TOUCHED_ABOVE = `
SELECT 'c' AS side, registry AS source, contributor AS entity FROM validated_contribution WHERE v_block > $cut OR c_block > $cut
UNION ALL
SELECT 'r', distributor, recipient FROM reward_paid WHERE block_number > $cut
UNION ALL
SELECT 'r', r.distributor, r.recipient FROM epoch e JOIN reward_paid r ON r.distributor = e.distributor AND r.epoch_id = e.epoch_id
WHERE e.block_number > $cut`

/**
 * Logs the entities that the rows above `cut` feed, for the registered sources. The sync calls it twice: in its
 * rollback step before anything is deleted, and after the new rows were extracted and validated_contribution took
 * them (derived-state.ts).
 */
export async function logFairnessTouchedAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await ensureFairnessLog(conn)
  const registered = await conn.runAndReadAll(`SELECT count(*) AS n FROM fairness_log_sources`)
  if (Number(registered.getRowObjectsJson()[0]?.n) === 0) return
  await conn.run(
    `INSERT INTO fairness_touched SELECT t.side, t.source, t.entity FROM (${TOUCHED_ABOVE}) t
     SEMI JOIN fairness_log_sources s ON s.side = t.side AND s.source = t.source`,
    {cut},
  )
  const overgrown = await conn.run(
    `DELETE FROM fairness_log_sources WHERE side || ':' || source IN
       (SELECT side || ':' || source FROM fairness_touched GROUP BY side, source HAVING count(*) > ${MAX_LOGGED_ENTITIES})`,
  )
  if (Number(overgrown.rowsChanged) > 0) {
    await conn.run(`DELETE FROM fairness_touched t WHERE NOT EXISTS (SELECT 1 FROM fairness_log_sources s WHERE s.side = t.side AND s.source = t.source)`)
  }
}
