import type {DuckDBConnection} from '@duckdb/node-api'
import {ZERO_ADDRESS} from '../../processor/ids'
import {hasRows} from '../duckdb'
import {SCANNED_HUGEINT} from './column-storage'
import {addBalanceTouchTotals} from './balance-totals'
import {addBalanceChanges} from './head-digests'

/**
 * Token balances kept current in the mirror, so the suite at the head reads 1M balances from a table instead of
 * summing 8M transfers (~1.5 s of every refresh at the benchmark's scale).
 *
 * balance_state(token, account, balance) holds, for every account other than the zero address, the sum of its
 * mirrored transfers in minus out, all blocks; accounts whose sum is 0 have no row (so a mirror synced in steps, with
 * rollbacks, holds exactly the rows a rebuild holds; the sync tests compare both through mirrorDigest). The sync
 * keeps it in step with token_transfer inside its transaction: before it deletes the rows above the cut (a rollback of
 * unfinalized blocks) it stages their subtraction, after it extracted the new rows above the cut it stages their
 * addition, and it applies both at once. Both touch only rows above the cut; untouched balances are not rewritten.
 *
 * A value whose transfer amount did not fit (token_transfer.value NULL, see schema.ts) cannot be summed here; the
 * reader (routes.ts) then falls back to BALANCES_AT, which raises its error naming the event.
 */
/**
 * How many mirrored transfers balance_state leaves out (an amount beyond HUGEINT: value NULL, the exact decimal in
 * oversized_amount), as a scalar subquery. While it is above 0, balance_state cannot stand for a sum over
 * token_transfer: the readers (routes.ts, proposal-snapshots.ts) then run the query over token_transfer, which raises
 * the error naming the event where an oversized amount is read.
 */
export const TRANSFERS_LEFT_OUT_OF_BALANCES = `(SELECT count(*) FROM oversized_amount WHERE table_name = 'token_transfer')`

export const BALANCE_STATE_DDL = `CREATE TABLE IF NOT EXISTS balance_state (token VARCHAR NOT NULL, account VARCHAR NOT NULL, balance ${SCANNED_HUGEINT} NOT NULL)`

/** Net change per (token, account) of the transfers above $cut; the zero address (mints, burns) left out. */
const DELTA = `
SELECT token, account, CAST(sum(w) AS HUGEINT) AS delta FROM (
  SELECT t.token, t.to_addr AS account, t.value AS w FROM token_transfer t WHERE t.block_number > $cut AND t.value IS NOT NULL
  UNION ALL
  SELECT t.token, t.from_addr, -t.value FROM token_transfer t WHERE t.block_number > $cut AND t.value IS NOT NULL
) WHERE account <> '${ZERO_ADDRESS}' GROUP BY token, account`

/** The staged changes: a TEMP table, so a failed sync takes it back with the rest. */
const BALANCE_DELTA_DDL = `CREATE TEMP TABLE IF NOT EXISTS balance_delta (token VARCHAR NOT NULL, account VARCHAR NOT NULL, delta HUGEINT NOT NULL)`

/**
 * Stages the net change per (token, account) of the transfers above `cut`, signed: -1 before a rollback deletes them,
 * 1 after new rows are extracted. A sync that rolls back stages both and applies them in one pass
 * (applyStagedTransfers): an account touched by both is read, rewritten and hashed once, and one that the rows that go
 * and the rows that come leave unchanged not at all. Applying each on its own took ~65 ms more of a sync that rolls
 * back 10 blocks at the benchmark's size (a second join with the million balances, its digest and its update).
 */
export async function stageTransfersAbove(conn: DuckDBConnection, cut: number, sign: 1 | -1): Promise<void> {
  await conn.run(BALANCE_DELTA_DDL)
  await conn.run(`INSERT INTO balance_delta SELECT token, account, delta * CAST($sign AS HUGEINT) FROM (${DELTA}) WHERE delta <> 0`, {cut, sign})
}

/**
 * The touched balances that stay, updated by row id. The join key is the row id doubled on both sides, which matches
 * the same rows: DuckDB 1.5 joins on a plain integer key whose range on the build side is at most 2^20 through a
 * "perfect" hash table, an array as long as that range. The touched rows' ids span a whole table of a million
 * balances, so every sync allocated and page-faulted a million-slot array for ~14,000 keys: the update took 55–95 ms
 * on a machine where page faults are slow (a VM), against 15–22 ms with the doubled key, whose range is past 2^20
 * and takes an ordinary hash table (measured alternating on a copy of the benchmark's mirror). The update's bimodal
 * times before (11–20 ms when a touched id happened to lie past 2^20) fit that.
 */
export const UPDATE_TOUCHED_BALANCES = `UPDATE balance_state SET balance = t.new
  FROM (SELECT rid * 2 AS rid2, new FROM balance_touch WHERE new <> 0) t WHERE balance_state.rowid * 2 = t.rid2`

/**
 * Applies the staged changes (stageTransfersAbove, which every caller runs first: it makes the staging table) to
 * balance_state and forgets them. In the transaction that staged them: a failed sync takes them back with the rest.
 *
 * balance_state is read twice: balance_touch holds, per touched account, its row id, old and new balance; the kept
 * digest of the balances (head-digests.ts) and their kept totals (balance-totals.ts) are updated from balance_touch alone; the rows that go are deleted by row
 * id, the rows that stay are updated in one join on the key, and the new ones appended. Joining the delta to the
 * million rows of balance_state in every step (the digest before and after, the update, the insert and the delete)
 * took ~280 ms of every sync at the benchmark's size.
 */
export async function applyStagedTransfers(conn: DuckDBConnection): Promise<void> {
  // Nothing to change (no transfer above the cut, e.g. a rollback step with no unfinalized rows): no scan at all.
  if (await hasRows(conn, 'balance_delta')) {
    // Staged twice (a rollback and new rows), an account has a row per stage: summed here, and left out at 0.
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE balance_touch AS
       SELECT d.token, d.account, b.rowid AS rid, b.balance AS old, coalesce(b.balance, 0) + d.delta AS new
       FROM (SELECT token, account, CAST(sum(delta) AS HUGEINT) AS delta FROM balance_delta GROUP BY token, account HAVING sum(delta) <> 0) d
       LEFT JOIN balance_state b ON b.token = d.token AND b.account = d.account`,
    )
    await addBalanceChanges(conn)
    await addBalanceTouchTotals(conn)
    await logBalanceChanges(conn)
    // Row ids stay valid within the transaction: the delete only marks rows, and an update keeps a row's id. Both go
    // by row id: at the benchmark's size (14,000 touched of a million balances, DuckDB 1.5) the update joined on rowid
    // took ~9 ms, joined on (token, account) ~21 ms, which scans and hashes every key.
    await conn.run(`DELETE FROM balance_state WHERE rowid IN (SELECT rid FROM balance_touch WHERE rid IS NOT NULL AND new = 0)`)
    await conn.run(UPDATE_TOUCHED_BALANCES)
    await conn.run(`INSERT INTO balance_state SELECT token, account, new FROM balance_touch WHERE rid IS NULL AND new <> 0`)
    await conn.run(`DROP TABLE balance_touch`)
  }
  await conn.run(`DROP TABLE balance_delta`)
}

/**
 * The changes applied to balance_state on this connection, for the balances kept in the process (head-balances.ts),
 * which takes them at the next suite. Only the tokens it keeps are logged (balance_log_tokens, which it fills when it
 * builds a token's state), so a first load or a token it does not keep logs nothing. TEMP tables: they belong to the
 * connection that synced, and are transactional, so a sync that fails takes its changes back with it. (One process
 * owns a mirror file, and the analytics follower syncs and computes the balances on one connection: suite.ts runs only
 * measurements that read no kept state on its second connection.)
 */
export async function ensureBalanceLog(conn: DuckDBConnection): Promise<void> {
  await conn.run(`CREATE TEMP TABLE IF NOT EXISTS balance_changes (token VARCHAR NOT NULL, old HUGEINT, new HUGEINT NOT NULL)`)
  await conn.run(`CREATE TEMP TABLE IF NOT EXISTS balance_log_tokens (token VARCHAR NOT NULL PRIMARY KEY)`)
}

/**
 * A token whose log grows past this many changes without being taken (its measurement stopped using the kept state,
 * e.g. an oversized amount sends it to the query) is no longer logged: the log stays bounded, and the kept state,
 * finding its token unregistered, is rebuilt if it is used again.
 */
const MAX_LOGGED_CHANGES = 1_000_000

async function logBalanceChanges(conn: DuckDBConnection): Promise<void> {
  await ensureBalanceLog(conn)
  await conn.run(`INSERT INTO balance_changes SELECT t.token, t.old, t.new FROM balance_touch t SEMI JOIN balance_log_tokens k ON k.token = t.token`)
  const overgrown = await conn.run(
    `DELETE FROM balance_log_tokens WHERE token IN (SELECT token FROM balance_changes GROUP BY token HAVING count(*) > ${MAX_LOGGED_CHANGES})`,
  )
  if (Number(overgrown.rowsChanged) > 0) await conn.run(`DELETE FROM balance_changes WHERE token NOT IN (SELECT token FROM balance_log_tokens)`)
}
