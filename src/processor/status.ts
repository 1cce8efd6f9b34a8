import type {Client, Pool} from 'pg'

/** Where the processor stands: the finalized height in squid_processor.status and the hot blocks above it. */
export interface IndexStatus {
  /** Highest finalized block committed; -1 before the first batch. */
  finalizedHeight: number
  /** Highest block committed, hot (unfinalized) blocks included. */
  height: number
  hash: string | null
}

/**
 * Reads @subsquid/typeorm-store's own bookkeeping. With hot blocks on, a batch inside the finality window commits
 * as rows of squid_processor.hot_block while status.height stays at the last finalized block.
 */
export async function readIndexStatus(db: Pick<Client | Pool, 'query'>, schema = 'squid_processor'): Promise<IndexStatus> {
  const exists = await db.query(`SELECT to_regclass($1) AS t`, [`${schema}.status`])
  if (exists.rows[0]?.t == null) return {finalizedHeight: -1, height: -1, hash: null}
  const status = await db.query(`SELECT height, hash FROM ${schema}.status WHERE id = 0`)
  const hot = await db.query(`SELECT height, hash FROM ${schema}.hot_block ORDER BY height DESC LIMIT 1`)
  const finalizedHeight = status.rows[0] ? Number(status.rows[0].height) : -1
  const top = hot.rows[0]
  if (top && Number(top.height) > finalizedHeight) return {finalizedHeight, height: Number(top.height), hash: top.hash}
  return {finalizedHeight, height: finalizedHeight, hash: status.rows[0]?.hash ?? null}
}
