import type {DuckDBConnection} from '@duckdb/node-api'
import {DERIVED_TABLES, MIRROR_TABLES} from './schema'

export interface TableDigest {
  rows: number
  /** Sum of the 64-bit hashes of all rows: independent of row order, changed by any row added, lost or doubled. */
  hashSum: string
}

/**
 * A fingerprint of every mirror table (and derived table), to check that two mirrors hold the same rows (an incrementally synced one
 * and a rebuild, in tests; a mirror before and after a no-op sync). Cheap: one scan per table, no sort.
 */
export async function mirrorDigest(conn: DuckDBConnection): Promise<Record<string, TableDigest>> {
  const out: Record<string, TableDigest> = {}
  for (const table of [...MIRROR_TABLES, ...DERIVED_TABLES]) {
    const r = await conn.runAndReadAll(`SELECT count(*) AS n, coalesce(sum(CAST(hash(t) AS HUGEINT)), 0) AS h FROM ${table} t`)
    const row = r.getRowObjectsJson()[0]
    out[table] = {rows: Number(row?.n), hashSum: String(row?.h)}
  }
  return out
}
