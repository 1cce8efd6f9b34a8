import type {DuckDBConnection} from '@duckdb/node-api'
import {holds} from '../duckdb'
import {HUGEINT_TO_BIGNUM} from '../metrics/bignum'

/**
 * Per token, the count and sum of balance_state's rows, kept by the sync, so that a refresh that passes a proposal
 * snapshot reads the supply from one row (PROPOSAL_SNAPSHOT_AT_FROM_STATE) instead of summing a million balances
 * (~35 ms at the benchmark's size). Every row counts: a balance can be negative (the mirror does not police ERC-20), and
 * the sum of every account's balance is every mint minus every burn mirrored.
 *
 * balance_total(token, n, hi, lo): the sum is kept as two exact HUGEINT sums of the 64-bit halves of each balance
 * (w = hi·2^64 + lo, hi = w >> 64 with the sign, lo = w & (2^64 − 1)), which no number of balances below 2^63 can
 * overflow, whatever their size; the sum itself is hi·2^64 + lo (BALANCE_TOTAL_SUM_SQL). A token without rows has no
 * row, as after a rebuild.
 *
 * applyStagedTransfers (balances.ts), balance_state's one writer, keeps it from balance_touch in the same statement
 * sequence as it changes balance_state: the old row of each touched account goes, its new row comes. The sync tests
 * compare a mirror kept this way with a rebuild (it is a derived table of mirrorDigest); balance-totals.test.ts
 * compares it with a scan of balance_state after every step of random histories with rollbacks. (The check of the
 * balances kept in the process, head-balances.ts, still scans balance_state itself: it is there to see a change that
 * bypassed the sync's bookkeeping, which these totals would miss too.)
 */
export const BALANCE_TOTAL_DDL = `CREATE TABLE IF NOT EXISTS balance_total (token VARCHAR NOT NULL, n BIGINT NOT NULL, hi HUGEINT NOT NULL,
  lo HUGEINT NOT NULL)`

/** The range of hi (alias t) in which hi·2^64 is a HUGEINT: −2^63 <= hi < 2^63. */
export const HI_IN_RANGE = (t: string) => `(${t}.hi >= -9223372036854775808 AND ${t}.hi < 9223372036854775808)`

/**
 * A kept sum (alias t) as one exact BIGNUM: hi·2^64 in HUGEINT, exact while −2^63 <= hi < 2^63 (a sum below ~2^127
 * in magnitude), plus lo, added as BIGNUM (DuckDB's BIGNUM adds exactly but multiplies in DOUBLE). NULL beyond that
 * range: the readers check KEPT_SUMS_IN_RANGE first, or treat NULL as a mismatch. Each HUGEINT goes to BIGNUM through
 * HUGEINT_TO_BIGNUM: DuckDB 1.5.6's direct cast drops the 2^120 bit of values just above 2^120 (an upper word of
 * 2^56 + k, k small; balance-totals.test.ts hits one).
 */
export const BALANCE_TOTAL_SUM_SQL = (t: string) =>
  `(CASE WHEN ${HI_IN_RANGE(t)} THEN ${HUGEINT_TO_BIGNUM(`${t}.hi * 18446744073709551616::HUGEINT`)} + ${HUGEINT_TO_BIGNUM(`${t}.lo`)} END)`

/** Whether every kept sum has its BIGNUM (BALANCE_TOTAL_SUM_SQL), as a condition. */
export const KEPT_SUMS_IN_RANGE = `NOT EXISTS (SELECT 1 FROM balance_total k WHERE NOT ${HI_IN_RANGE('k')})`

/**
 * Adds to balance_total the rows of `source` (columns token, w: a balance, s: +1 for a row that comes, -1 for a row
 * that goes). One MERGE, as head-digests.ts does: the delete of a token whose rows all went (n back to 0, the sums
 * with it) keeps it equal to a rebuild.
 */
async function addRows(conn: DuckDBConnection, source: string): Promise<void> {
  await conn.run(
    `MERGE INTO balance_total t
     USING (
       SELECT token, sum(s) AS n, sum((w >> 64) * s) AS hi, sum((w & 18446744073709551615::HUGEINT) * s) AS lo FROM (${source}) GROUP BY token
     ) d ON t.token = d.token
     WHEN MATCHED AND t.n + d.n = 0 THEN DELETE
     WHEN MATCHED THEN UPDATE SET n = t.n + d.n, hi = t.hi + d.hi, lo = t.lo + d.lo
     WHEN NOT MATCHED AND d.n <> 0 THEN INSERT VALUES (d.token, d.n, d.hi, d.lo)`,
  )
}

/**
 * The rows balance_touch (balances.ts) changes: each touched account's old row goes (when it had one) and its new row
 * comes (when its new balance is not 0: a zero balance has no row).
 */
export function addBalanceTouchTotals(conn: DuckDBConnection): Promise<void> {
  return addRows(
    conn,
    `SELECT t.token, t.old AS w, -1 AS s FROM balance_touch t WHERE t.old IS NOT NULL
     UNION ALL
     SELECT t.token, t.new, 1 FROM balance_touch t WHERE t.new <> 0`,
  )
}

/** balance_total holds nothing while balance_state holds rows: a mirror synced before the table existed. */
const NO_TOTALS = `NOT EXISTS (SELECT 1 FROM balance_total) AND EXISTS (SELECT 1 FROM balance_state)`

/** The conditions under which initBalanceTotals fills something (derived-state.ts asks them all at once). */
export const BALANCE_TOTAL_INIT_CHECKS: readonly string[] = [NO_TOTALS]

/** Sums balance_state from scratch when the totals are missing (NO_TOTALS). In the sync's transaction, before its rollback step. */
export async function initBalanceTotals(conn: DuckDBConnection): Promise<void> {
  if (await holds(conn, NO_TOTALS)) await addRows(conn, `SELECT b.token, b.balance AS w, 1 AS s FROM balance_state b`)
}
