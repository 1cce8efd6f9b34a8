import type {DuckDBConnection} from '@duckdb/node-api'

/**
 * The rows of the TEMP table group_keys (g, id) that jobs/batch.ts last wrote on a connection, kept in the process so
 * that per-group readers of state the suite holds (mirror-snapshot.ts: the head digests per proposal or per model)
 * answer without a statement that joins group_keys. batch.ts forgets them before it rewrites the table, so a failed
 * write leaves none rather than stale ones; tests that write group_keys themselves hold nothing and the readers query.
 */
export interface GroupKey {
  g: bigint
  id: string
}

const held = new WeakMap<DuckDBConnection, readonly GroupKey[]>()

export const forgetGroupKeys = (conn: DuckDBConnection): void => void held.delete(conn)
/** Held in g order, as readers of group_keys order it, so that each reader need not sort them again. */
export const holdGroupKeys = (conn: DuckDBConnection, keys: readonly GroupKey[]): void =>
  void held.set(conn, [...keys].sort((a, b) => (a.g < b.g ? -1 : a.g > b.g ? 1 : 0)))
/** The keys held on `conn`, in g order. */
export const heldGroupKeys = (conn: DuckDBConnection): readonly GroupKey[] | undefined => held.get(conn)
