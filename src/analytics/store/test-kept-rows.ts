import type {DuckDBConnection} from '@duckdb/node-api'
import {queryOne, type Row} from '../metrics/sql-values'

/** A concentration row at the head from state kept in the process (headBalancesRow, headPowerRow). */
type KeptRow = (conn: DuckDBConnection, token: string, quorumWad: string | null, maxPoints: number) => Promise<Row | undefined>

/**
 * Test helper: for each token and two parameter sets (a quorum with few Lorenz points, none with the suite's 101), the
 * row `keptRow` gives and the row `query` (the suite's query over the same state in place) gives, for the caller to
 * compare value for value.
 */
export async function keptAndQueryRows(conn: DuckDBConnection, keptRow: KeptRow, query: string, tokens: readonly string[]): Promise<{kept: Row | undefined; query: Row}[]> {
  const out: {kept: Row | undefined; query: Row}[] = []
  for (const token of tokens) {
    for (const [quorumWad, maxPoints] of [['40000000000000000', 5], [null, 101]] as const) {
      out.push({kept: await keptRow(conn, token, quorumWad, maxPoints), query: await queryOne(conn, query, {token, quorum_wad: quorumWad, max_points: maxPoints})})
    }
  }
  return out
}
