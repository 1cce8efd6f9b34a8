import type {DuckDBConnection} from '@duckdb/node-api'
import {ZERO_ADDRESS} from '../../processor/ids'
import {BALANCES_AT, type InputParams, materialize} from './inputs'

/**
 * Faster routes to an input relation: where the mirror keeps derived state that yields exactly the rows of an
 * input query (the same multiset, the same column names and types), the relation is filled from it instead. The
 * input's definition does not change: a value's input digest and SQL digest stay those of the query in inputs.ts,
 * which is what the reproduce command exports, and the tests compare both routes row for row.
 *
 * - BALANCES_AT at a block at or above every mirrored transfer (the head, the case of every refresh): the
 *   balances are the sums balance_state holds (balances.ts), filtered as BALANCES_AT filters (w > 0; the zero
 *   address has no row there). Not when a transfer amount did not fit: BALANCES_AT raises its error then.
 */
const BALANCES_FROM_STATE = `SELECT account AS entity, balance AS w FROM balance_state WHERE token = $token AND account <> '${ZERO_ADDRESS}' AND balance > 0`

/** Materializes `sql` with `params` as TEMP TABLE `relation`, by the fastest route that gives exactly its rows. */
export async function materializeInput(conn: DuckDBConnection, relation: string, sql: string, params: InputParams): Promise<number> {
  if (sql === BALANCES_AT && (await balancesAreCurrentAt(conn, params.block))) {
    return materialize(conn, relation, BALANCES_FROM_STATE, {token: params.token ?? null})
  }
  return materialize(conn, relation, sql, params)
}

async function balancesAreCurrentAt(conn: DuckDBConnection, block: string | number | bigint | null | undefined): Promise<boolean> {
  if (block === null || block === undefined) return false
  const r = await conn.runAndReadAll(
    `SELECT (SELECT max(block_number) FROM token_transfer) AS last,
            (SELECT count(*) FROM oversized_amount WHERE table_name = 'token_transfer') AS oversized`,
  )
  const row = r.getRowObjectsJson()[0]
  const last = row?.last == null ? -1 : Number(row.last)
  return Number(row?.oversized) === 0 && BigInt(block) >= BigInt(last)
}
