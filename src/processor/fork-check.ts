import type {Client, Pool} from 'pg'

/**
 * A reorg deeper than FINALITY_CONFIRMATIONS replaces blocks the index already treats as final. Subsquid's processor
 * cannot roll those back (1.27.3 crashes with `AssertionError: array.length > 0`, and a restart refuses with
 * `already indexed block ... was not found on chain`), and the index above the fork is then wrong. This module
 * detects that state before the processor starts, so the operator gets one clear message instead of a crash loop.
 */

/** Exit code of a processor that found the chain forked below its finalized height; the supervisor does not restart it. */
export const EXIT_FORK_BELOW_FINALITY = 3

export interface ForkBelowFinality {
  /** The finalized height recorded by the processor, and the hash it recorded for it. */
  finalizedHeight: number
  indexedHash: string
  /** The chain's hash at that height now; null when the chain no longer reaches it. */
  chainHash: string | null
  /** Highest indexed block (with events) still on the chain, -1 if none: everything up to it is still right. */
  lastGoodBlock: number
  /** Lowest indexed block (with events) whose hash changed: the fork is at or below it. */
  firstChangedBlock: number | null
}

type Db = Pick<Client | Pool, 'query'>
type BlockHash = (height: number) => Promise<string | null>

/** Compares the processor's finalized block with the chain; undefined when the index is still on the chain. */
export async function findForkBelowFinality(db: Db, blockHash: BlockHash, schema = 'squid_processor'): Promise<ForkBelowFinality | undefined> {
  const exists = await db.query(`SELECT to_regclass($1) AS t`, [`${schema}.status`])
  if (exists.rows[0]?.t == null) return undefined
  const status = await db.query<{height: string; hash: string}>(`SELECT height, hash FROM ${schema}.status WHERE id = 0`)
  const row = status.rows[0]
  if (!row || Number(row.height) < 0) return undefined
  const finalizedHeight = Number(row.height)
  const chainHash = await blockHash(finalizedHeight)
  if (chainHash === row.hash) return undefined
  const {lastGoodBlock, firstChangedBlock} = await locateFork(db, blockHash, finalizedHeight)
  return {finalizedHeight, indexedHash: row.hash, chainHash, lastGoodBlock, firstChangedBlock}
}

/**
 * Binary search over the audit log's blocks (block number + hash of every block with an indexed event) for the
 * first one the chain no longer has: once history forks, every later block differs, so "still on chain" is monotone.
 */
async function locateFork(db: Db, blockHash: BlockHash, upTo: number): Promise<{lastGoodBlock: number; firstChangedBlock: number | null}> {
  const res = await db.query<{block_number: number; block_hash: string}>(
    `SELECT DISTINCT block_number, block_hash FROM audit_event WHERE block_number <= $1 ORDER BY block_number`,
    [upTo],
  )
  const blocks = res.rows
  let lo = 0
  let hi = blocks.length // invariant: blocks[< lo] on chain, blocks[>= hi] changed
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const b = blocks[mid]!
    if ((await blockHash(b.block_number)) === b.block_hash) lo = mid + 1
    else hi = mid
  }
  return {lastGoodBlock: blocks[lo - 1]?.block_number ?? -1, firstChangedBlock: blocks[lo]?.block_number ?? null}
}

/** The operator's message: what happened, where, and what to do. */
export function describeFork(f: ForkBelowFinality, finalityConfirmations: number): string {
  const first = f.lastGoodBlock + 1
  const last = f.firstChangedBlock ?? f.finalizedHeight
  const where = first === last ? `at block ${first}` : `between block ${first} and block ${last}`
  return [
    `REORG DEEPER THAN FINALITY: block ${f.finalizedHeight}, which the index holds as final with hash ${f.indexedHash}, ` +
      (f.chainHash ? `now has hash ${f.chainHash} on the chain.` : 'is no longer on the chain (the chain is shorter).'),
    `The chain's history changed ${where}, deeper than FINALITY_CONFIRMATIONS=${finalityConfirmations}. ` +
      `Indexed data from there on describes blocks that no longer exist, so the processor stops here and writes nothing.`,
    'To recover: stop the indexer, run `npm run reset-index -- --yes` with the same DATABASE_URL ' +
      '(it empties the index and the processor status; the migrations stay), then start again: it re-indexes from the ' +
      'contracts\' start blocks. If reorgs this deep are normal on this chain, raise FINALITY_CONFIRMATIONS first.',
  ].join('\n')
}

/** eth_getBlockByNumber's hash over plain JSON-RPC, retried a few times so a flaky endpoint does not fake a fork. */
export function rpcBlockHash(rpcUrl: string, attempts = 4): BlockHash {
  return async (height) => {
    let lastError: unknown
    for (let i = 0; i < attempts; i++) {
      try {
        const res = await fetch(rpcUrl, {
          method: 'POST',
          headers: {'content-type': 'application/json'},
          body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: ['0x' + height.toString(16), false]}),
        })
        const body = (await res.json()) as {result?: {hash: string} | null; error?: {message: string}}
        if (body.error) throw new Error(body.error.message)
        return body.result?.hash ?? null
      } catch (e) {
        lastError = e
        await new Promise((r) => setTimeout(r, 250 * 2 ** i))
      }
    }
    throw new Error(`could not read block ${height} from the RPC endpoint: ${(lastError as Error)?.message ?? lastError}`)
  }
}
