import type {DuckDBConnection} from '@duckdb/node-api'
import type {ClientBase} from 'pg'
import {blockIdPrefix} from './pg-source'

/**
 * The mirror's unfinalized tail: the audit rows above the previous sync's finalized height. A reorg may have replaced
 * them in Postgres since, but usually none did, and rolling them back and pulling them again cost a follower a third
 * of its sync (~5,000 rows and every derived table's rollback, at the benchmark's size). So a sync first compares the
 * tail block by block with Postgres and keeps the blocks up to the first that differs.
 *
 * A block is the same when both sides hold the same block hash, row count and ids: the hash commits to the block's
 * logs, and the processor's rows are a function of the logs (their ids are their chain coordinates). The ids are
 * compared through the md5 of their sorted list, sorted bytewise on both sides (COLLATE "C" in Postgres, whose default
 * collation may order '-' differently).
 */
export interface TailBlock {
  block: number
  hash: string
  rows: number
  /** md5 of the block's ids, sorted bytewise and joined with ','. */
  idsMd5: string
  /** The block's newest row (the largest id). */
  lastId: string
}

/** The mirror's blocks above `above`, in block order. */
export async function mirrorTailBlocks(conn: DuckDBConnection, above: number): Promise<TailBlock[]> {
  const reader = await conn.runAndReadAll(
    `SELECT block_number AS block, block_hash AS hash, count(*) AS rows, md5(string_agg(id, ',' ORDER BY id)) AS ids_md5,
       max(id) AS last_id
     FROM audit_event WHERE block_number > $above GROUP BY block_number, block_hash ORDER BY block_number, block_hash`,
    {above},
  )
  return reader.getRowObjectsJson().map(toTailBlock)
}

/**
 * Postgres' blocks in (above, through], in block order. The id range (ids start with the zero-padded block number, see
 * copyAboveSql) lets the primary key index find the rows; the block range states the actual condition.
 */
export async function pgTailBlocks(client: ClientBase, above: number, through: number): Promise<TailBlock[]> {
  if (!Number.isSafeInteger(above) || !Number.isSafeInteger(through)) throw new Error(`pgTailBlocks: blocks must be integers, got ${above}, ${through}`)
  const res = await client.query(
    `SELECT block_number AS block, block_hash AS hash, count(*)::int AS rows,
       md5(string_agg(id, ',' ORDER BY id COLLATE "C")) AS ids_md5, max(id COLLATE "C") AS last_id
     FROM audit_event
     WHERE id >= $1 AND id < $2 AND block_number > $3 AND block_number <= $4
     GROUP BY block_number, block_hash ORDER BY block_number, block_hash COLLATE "C"`,
    [blockIdPrefix(above + 1), blockIdPrefix(through + 1), above, through],
  )
  return res.rows.map(toTailBlock)
}

/**
 * The lowest block at which the two tails differ (a block on one side only, or with another hash, row count or ids),
 * or undefined when they are the same. Both lists in block order, as the functions above return them.
 */
export function firstChangedBlock(mirror: readonly TailBlock[], pg: readonly TailBlock[]): number | undefined {
  const n = Math.max(mirror.length, pg.length)
  for (let i = 0; i < n; i++) {
    const m = mirror[i]
    const p = pg[i]
    if (!m || !p) return (m ?? p)!.block
    if (m.block !== p.block) return Math.min(m.block, p.block)
    if (m.hash !== p.hash || m.rows !== p.rows || m.idsMd5 !== p.idsMd5) return m.block
  }
  return undefined
}

/** The newest row of the tail's blocks at or below `cut`, or undefined when it has none there. */
export function newestTailRowAtOrBelow(tail: readonly TailBlock[], cut: number): {id: string; block: number} | undefined {
  let newest: TailBlock | undefined
  for (const b of tail) if (b.block <= cut && (!newest || b.lastId > newest.lastId)) newest = b
  return newest && {id: newest.lastId, block: newest.block}
}

function toTailBlock(r: Record<string, unknown>): TailBlock {
  return {block: Number(r.block), hash: String(r.hash), rows: Number(r.rows), idsMd5: String(r.ids_md5), lastId: String(r.last_id)}
}
