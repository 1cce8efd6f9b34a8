import type {DuckDBConnection} from '@duckdb/node-api'
import {AUDIT_EVENT_COLUMNS} from './schema'

/**
 * The longest CSV line (one audit row) the mirror reads: 16 MiB, far above what a block's gas allows a log to carry.
 * A longer line fails the sync with DuckDB's "CSV Error on Line" and the mirror stays as it was.
 */
export const CSV_MAX_LINE_BYTES = 16 * 1024 * 1024

/**
 * read_csv options matching Postgres' CSV: explicit types (no sniffing), and "" stays an empty string. DuckDB sizes
 * its read buffer from max_line_size (16×) unless told: the 64 MiB line first used here made the initial 10M-row load
 * peak at ~3 GiB, and the 256 MiB buffer of a 16 MiB line made reading a refresh's 10,000 rows (4 MB) take ~25 ms,
 * against ~5 ms with a buffer of 16 MiB, which still reads a line of that length (audit-csv.test.ts). After a large
 * load it also left about half of the database file's blocks free (the benchmark's mirror: 1.6 GiB against 1.1 GiB).
 */
const READ_CSV = `read_csv($file, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"',
  allow_quoted_nulls = false, max_line_size = ${CSV_MAX_LINE_BYTES}, buffer_size = ${CSV_MAX_LINE_BYTES},
  columns = {${AUDIT_EVENT_COLUMNS.map(([n, t]) => `'${n}': '${t}'`).join(', ')}})`

/** Appends the audit rows of a CSV written by Postgres' COPY (pg-source.ts) to audit_event; returns the rows read. */
export async function loadAuditCsv(conn: DuckDBConnection, file: string): Promise<number> {
  const res = await conn.run(`INSERT INTO audit_event SELECT * FROM ${READ_CSV}`, {file})
  return Number(res.rowsChanged)
}
