import type {DuckDBConnection} from '@duckdb/node-api'

/**
 * Whether the mirror has the derived table `name` (head_digest, voter_tally), or sync_state: a mirror last synced
 * before it existed has none until its next sync makes and fills it. A table seen once is remembered per connection:
 * these tables are not dropped once there (a rebuild recreates them in its transaction).
 */
export async function hasDerivedTable(conn: DuckDBConnection, name: string): Promise<boolean> {
  let seen = derivedTablesSeen.get(conn)
  if (seen?.has(name)) return true
  const r = await conn.runAndReadAll(`SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = $name AND NOT temporary`, {name})
  if (Number(r.getRowObjectsJson()[0]?.n) === 0) return false
  if (!seen) derivedTablesSeen.set(conn, (seen = new Set()))
  seen.add(name)
  return true
}
const derivedTablesSeen = new WeakMap<DuckDBConnection, Set<string>>()
