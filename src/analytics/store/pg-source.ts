import {createWriteStream} from 'node:fs'
import {pipeline} from 'node:stream/promises'
import {Client, type ClientBase, type Pool} from 'pg'
import {to as copyTo} from 'pg-copy-streams'
import {AUDIT_EVENT_COLUMNS} from './schema'

/** Where the indexed data lives: a connection URL (a client is opened and closed here) or the caller's pool. */
export type PgSource = string | Pool

/**
 * Runs `fn` in one read-only REPEATABLE READ transaction, so the processor's status and the audit rows it reads
 * are one consistent snapshot: the processor commits each batch together with its status row, and a batch landing
 * mid-sync must not give rows past the finalized height we record, or a status without its rows.
 */
export async function withPgSnapshot<T>(source: PgSource, fn: (client: ClientBase) => Promise<T>): Promise<T> {
  const owned = typeof source === 'string'
  const client = owned ? new Client({connectionString: source}) : await source.connect()
  if (owned) await (client as Client).connect()
  let failed = false
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    // Timestamps leave as '... +00', which DuckDB reads as TIMESTAMPTZ whatever its own zone.
    await client.query(`SET LOCAL TIME ZONE 'UTC'`)
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (e) {
    failed = true
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  } finally {
    if (owned) await (client as Client).end()
    // A pooled client that failed mid-COPY may be in an odd protocol state: destroy it rather than reuse it.
    else (client as unknown as {release(err?: boolean): void}).release(failed)
  }
}

/** The block hash Postgres holds for an audit row, or undefined when the row is gone. */
export async function auditBlockHash(client: ClientBase, id: string): Promise<string | undefined> {
  const res = await client.query<{block_hash: string}>('SELECT block_hash FROM audit_event WHERE id = $1', [id])
  return res.rows[0]?.block_hash
}

/**
 * COPY cannot take bind parameters, so the only value spliced into this statement is `cut`, checked to be a safe
 * integer. The id range uses the primary key index (ids start with the zero-padded block number: every id of a
 * block above `cut` is >= the padded `cut + 1`), and `block_number > cut` states the actual condition.
 */
export function copyAboveSql(cut: number): string {
  if (!Number.isSafeInteger(cut) || cut < -1) throw new Error(`copyAboveSql: cut must be an integer >= -1, got ${cut}`)
  const prefix = blockIdPrefix(cut + 1)
  const cols = AUDIT_EVENT_COLUMNS.map(([n]) => `"${n}"`).join(', ')
  return `COPY (SELECT ${cols} FROM audit_event WHERE id >= '${prefix}' AND block_number > ${cut} ORDER BY id) TO STDOUT WITH (FORMAT csv)`
}

/** The start of every audit id of `block` and above (ids start with the zero-padded block number), as a lower bound. */
export const blockIdPrefix = (block: number): string => String(block).padStart(10, '0')

/** Streams the audit rows above block `cut` into `file` as CSV; returns the row count Postgres reported. */
export async function copyAuditEventsAbove(client: ClientBase, cut: number, file: string): Promise<number> {
  const stream = client.query(copyTo(copyAboveSql(cut)))
  await pipeline(stream, createWriteStream(file))
  return stream.rowCount
}
