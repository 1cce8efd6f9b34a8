import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {DuckDBConnection} from '@duckdb/node-api'
import {readIndexStatus} from '../../processor/status'
import {initDerivedState} from './derived-state'
import {mirrorSnapshotOf} from './mirror-snapshot'
import {auditBlockHash, copyAuditEventsAbove, type PgSource, withPgSnapshot} from './pg-source'
import {hasDerivedTable} from './derived-tables'
import {rollBackAbove, takeRowsAbove} from './sync-step'
import {firstChangedBlock, mirrorTailBlocks, newestTailRowAtOrBelow, pgTailBlocks, type TailBlock} from './unfinalized-tail'
import {loadAuditCsv} from './audit-csv'
import {dropSchema, ensureSchema, SCHEMA_VERSION} from './schema'

export type {PgSource} from './pg-source'

export interface SyncResult {
  /** Audit rows copied from Postgres (the re-pulled unfinalized tail included). */
  pulled: number
  /** Mirror audit rows deleted because they lay above the previous sync's finalized height in blocks a reorg replaced. */
  droppedUnfinalized: number
  /** Mirror audit rows above the previous sync's finalized height kept, as Postgres still holds their blocks. */
  keptUnfinalized: number
  /**
   * When the sync found a mirrored block that Postgres replaced (a reorg of unfinalized blocks), or an index re-indexed
   * from below the previous finalized height: the block below the first replaced one, above which the mirror's rows
   * were rolled back. Results computed at a block above it read rows that are gone. Null otherwise.
   */
  reorgedAbove: number | null
  /** First and last id pulled; null when nothing was pulled. */
  fromId: string | null
  toId: string | null
  /** Postgres' finalized height in the snapshot this sync read (-1 before the processor's first batch). */
  finalizedHeight: number
  /** Highest block Postgres had committed (unfinalized blocks included); the mirror holds everything up to it. */
  height: number
  /** Rows inserted per typed table. */
  typed: Record<string, number>
  ms: number
}

export interface SyncState {
  schemaVersion: number
  lastId: string | null
  lastBlock: number
  height: number
  finalizedHeight: number
  syncedAt: string
}

/** The mirror holds finalized rows that Postgres no longer has: the index was replaced. Only a rebuild helps. */
export class MirrorDivergedError extends Error {
  override name = 'MirrorDivergedError'
}

export async function readSyncState(conn: DuckDBConnection): Promise<SyncState | undefined> {
  // Read several times a refresh: inside a suite from its snapshot (mirror-snapshot.ts), else with a statement;
  // whether the table exists is asked of the catalogue once per connection.
  const snapshot = mirrorSnapshotOf(conn)
  let r
  if (snapshot) r = snapshot.syncState
  else if (!(await hasDerivedTable(conn, 'sync_state'))) return undefined
  else r = (await conn.runAndReadAll('SELECT * FROM sync_state')).getRowObjectsJson()[0]
  if (!r) return undefined
  return {
    schemaVersion: Number(r.schema_version),
    lastId: (r.last_id as string | null) ?? null,
    lastBlock: Number(r.last_block),
    height: Number(r.height),
    finalizedHeight: Number(r.finalized_height),
    syncedAt: String(r.synced_at),
  }
}

/** Rows pulled in one sync from which it checkpoints the database file before returning (see runSync). */
const CHECKPOINT_AFTER_ROWS = 1_000_000

/**
 * Brings the mirror up to Postgres, incrementally. Rows above the previous sync's finalized height may have been
 * reorged away since: each sync compares those blocks with Postgres' (unfinalized-tail.ts), keeps the ones that did not
 * change, deletes the rest from every mirror table and pulls again from there. The cut is the block below the first
 * that changed (the previous sync's height when none did), or the current finalized height when the index was
 * re-indexed from below the previous one. Everything happens in one DuckDB transaction: a failed sync leaves the
 * mirror as it was.
 *
 * One sync at a time per database: concurrent syncs would conflict on the same rows.
 */
export function syncFromPostgres(conn: DuckDBConnection, pg: PgSource, hooks: SyncHooks = {}): Promise<SyncResult> {
  return runSync(conn, pg, false, hooks)
}

export interface SyncHooks {
  /**
   * Called once Postgres has sent the new rows, before DuckDB inserts them, with the finalized height of the
   * snapshot the sync reads: where a caller starts Postgres reads it wants beside the sync (jobs/run.ts). Started
   * with the sync instead, such a read slowed the copy that DuckDB waits for: on two cores, the copy of a refresh's
   * 10,000 rows took a median of ~95 ms beside the stored results' read and ~60 ms after it (the benchmark's
   * refreshes). Not called when the sync fails before then.
   */
  afterCopy?: (snapshot: {finalizedHeight: number}) => void
}

/** Drops the mirror and pulls everything again, in one transaction (the old mirror stays if it fails). */
export function rebuildFromScratch(conn: DuckDBConnection, pg: PgSource): Promise<SyncResult> {
  return runSync(conn, pg, true, {})
}

async function runSync(conn: DuckDBConnection, pg: PgSource, rebuild: boolean, hooks: SyncHooks): Promise<SyncResult> {
  const started = performance.now()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deai-analytics-'))
  const file = path.join(dir, 'audit_event.csv')
  // The mirror's side and Postgres' side start together: each begins with a few small statements that mostly wait
  // (a first statement after an idle spell took ~10–20 ms here, on either side).
  const mirrorState = (async () => {
    await conn.run('BEGIN TRANSACTION')
    if (rebuild) await dropSchema(conn)
    await ensureSchema(conn)
    const prev = await readSyncState(conn)
    if (prev && prev.schemaVersion !== SCHEMA_VERSION) {
      throw new Error(`the analytics mirror has schema version ${prev.schemaVersion}, this code expects ${SCHEMA_VERSION}: rebuild it`)
    }
    return prev
  })()
  try {
    // The mirror's unfinalized tail, compared block by block with Postgres' below (unfinalized-tail.ts): the blocks
    // no reorg replaced stay, and only those above the first that changed are rolled back and pulled again.
    const mirrorTail = mirrorState.then((prev) => (prev && prev.height > prev.finalizedHeight ? mirrorTailBlocks(conn, prev.finalizedHeight) : []))
    // DuckDB's work before the pull depends on nothing Postgres sends, so it runs while Postgres reads and copies
    // (~40 ms of a refresh at the benchmark's size, where the mirror waited on the copy): the tail and the derived
    // state's init, before the rollback step, which keeps the derived state in step from there (derived-state.ts).
    const beforePull = mirrorTail.then(() => initDerivedState(conn))
    // Handled here as well as awaited below: a DuckDB failure before Postgres answers must not go unhandled.
    beforePull.catch(() => undefined)
    // The DuckDB work that runs on this connection while Postgres copies, one statement at a time: from BEGIN through
    // beforePull, the anchor when it is needed, then the rollback step when it can start early.
    let duckWhilePulling: Promise<unknown> = beforePull
    let earlyRollback: Promise<number> | undefined
    let pgRead
    try {
      pgRead = await withPgSnapshot(pg, async (client) => {
        const status = await readIndexStatus(client)
        const prev = await mirrorState
        let cut = prev ? Math.min(prev.finalizedHeight, status.finalizedHeight) : -1
        // An index re-indexed from below the previous finalized height (status.finalizedHeight lower) is re-pulled
        // from its new finalized height; otherwise the tail's unchanged blocks are kept.
        let kept: TailBlock[] = []
        let pulled: number | undefined
        if (prev && status.finalizedHeight >= prev.finalizedHeight && prev.height > prev.finalizedHeight) {
          const inPg = await pgTailBlocks(client, prev.finalizedHeight, prev.height)
          // Copied from the previous height while DuckDB reads its side of the tail: usually no block changed, and
          // that is the cut. Otherwise it is copied again from the lower cut below (a reorg pays a second copy).
          const fromPrevious = await copyAuditEventsAbove(client, prev.height, file)
          const inMirror = await mirrorTail
          const changed = firstChangedBlock(inMirror, inPg)
          cut = changed === undefined ? prev.height : changed - 1
          if (changed === undefined) pulled = fromPrevious
          kept = inMirror.filter((b) => b.block <= cut)
        }
        const reorgedAbove = prev && prev.height > cut ? cut : null
        // The anchor, the newest mirrored row at or below the previous finalized height (or the lower cut), vouches
        // for every row there: Postgres must hold it with the same block hash (checkAnchor). A kept tail block does
        // that already, as its hash commits to every block below it, so the anchor is read only without one.
        const anchorHeight = prev ? Math.min(cut, prev.finalizedHeight) : cut
        const anchorRead = beforePull.then(() => (prev && kept.length === 0 ? anchorAt(conn, anchorHeight, prev) : undefined))
        anchorRead.catch(() => undefined)
        duckWhilePulling = anchorRead
        // Every mirrored row, and every row derived from them, lies at or below the previous sync's height: when the
        // cut is there too (a mirror of final blocks only, or a tail Postgres still holds), the rollback step has
        // nothing to delete and is skipped.
        const rollBack = prev === undefined || prev.height > cut
        // The rollback step needs only the cut: it runs while Postgres copies (~50 ms of a sync that rolls back 10
        // blocks at the benchmark's size, where DuckDB waited on the copy), unless the cut lies below the previous
        // finalized height. A failed check below rolls the DuckDB transaction back with it.
        if (rollBack && prev && cut >= prev.finalizedHeight) {
          earlyRollback = anchorRead.then(() => rollBackAbove(conn, cut))
          earlyRollback.catch(() => undefined)
          duckWhilePulling = earlyRollback
        }
        pulled ??= await copyAuditEventsAbove(client, cut, file)
        hooks.afterCopy?.({finalizedHeight: status.finalizedHeight})
        // The anchor is checked in the same snapshot as the copy, so it vouches for what was copied.
        const anchor = await anchorRead
        await checkAnchor(anchor, anchorHeight, (id) => auditBlockHash(client, id))
        // The newest row the sync leaves as it was: in the kept tail, else the anchor.
        const newestKept = newestTailRowAtOrBelow(kept, cut) ?? anchor
        const keptUnfinalized = kept.reduce((n, b) => n + b.rows, 0)
        return {prev, status, cut, pulled, rollBack, newestKept, keptUnfinalized, reorgedAbove}
      })
    } finally {
      // Settled before anything else runs on the same connection, the transaction's rollback on failure included.
      await duckWhilePulling.catch(() => undefined)
    }
    await beforePull
    const {status, cut, pulled, rollBack, newestKept, keptUnfinalized, reorgedAbove} = pgRead
    const droppedUnfinalized = earlyRollback ? await earlyRollback : rollBack ? await rollBackAbove(conn, cut) : 0
    const typed = await takeRowsAbove(conn, cut, async () => {
      const loaded = pulled === 0 ? 0 : await loadAuditCsv(conn, file)
      if (loaded !== pulled) throw new Error(`sync: Postgres sent ${pulled} rows but DuckDB read ${loaded} from the CSV`)
    })
    const range = await one(
      conn,
      'SELECT min(id) AS first, max(id) AS last, arg_max(block_number, id) AS last_block FROM audit_event WHERE block_number > $cut',
      {cut},
    )
    // The newest mirrored row is the newer of the newest above the cut and the newest at or below it, which the sync
    // leaves as it was: both known here, so writeSyncState need not look among ten million rows.
    const above = range?.last == null ? undefined : {id: String(range.last), block: Number(range.last_block)}
    await writeSyncState(conn, status, newer(above, newestKept))
    await conn.run('COMMIT')
    // A large pull (the first load, a rebuild) leaves DuckDB a checkpoint to do; unpaid, it landed on the next
    // small commit that updates balance_state (measured: 16 s at 10M rows, on the first incremental refresh).
    // Paying it here keeps refreshes short.
    if (pulled >= CHECKPOINT_AFTER_ROWS) await conn.run('CHECKPOINT')
    return {
      pulled,
      droppedUnfinalized,
      keptUnfinalized,
      reorgedAbove,
      fromId: (range?.first as string | null) ?? null,
      toId: (range?.last as string | null) ?? null,
      finalizedHeight: status.finalizedHeight,
      height: status.height,
      typed,
      ms: Math.round(performance.now() - started),
    }
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined)
    throw e
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

/** An audit row's id and block number. */
interface MirroredRow {
  id: string
  block: number
}

/**
 * Records what the mirror now holds, last in a sync's transaction: the newest audit row (last_id, last_block: no mirror
 * row lies above last_block, which readers rely on, rows-above.ts) and Postgres' heights in the snapshot it read.
 * `newest`: that row when the caller knows it (null: the mirror has no row); looked up when undefined.
 */
export async function writeSyncState(
  conn: DuckDBConnection,
  status: {height: number; finalizedHeight: number},
  newest?: MirroredRow | null,
): Promise<void> {
  const last = newest !== undefined ? newest : await newestRow(conn)
  await conn.run('DELETE FROM sync_state')
  await conn.run(`INSERT INTO sync_state VALUES ($version, CAST($lastId AS VARCHAR), $lastBlock, $height, $finalized, now())`, {
    version: SCHEMA_VERSION,
    lastId: last?.id ?? null,
    lastBlock: last ? last.block : -1,
    height: status.height,
    finalized: status.finalizedHeight,
  })
}

/** The row with the larger id (null when neither is given). */
function newer(a: MirroredRow | undefined, b: MirroredRow | undefined): MirroredRow | null {
  if (!a || !b) return a ?? b ?? null
  return a.id > b.id ? a : b
}

async function newestRow(conn: DuckDBConnection): Promise<MirroredRow | null> {
  const row = await one(conn, 'SELECT id, block_number FROM audit_event ORDER BY id DESC LIMIT 1')
  return row ? {id: String(row.id), block: Number(row.block_number)} : null
}

/**
 * The newest mirrored row at or below the cut: the sync keeps it, so Postgres must still hold it (checkAnchor).
 *
 * When the newest row of the mirror, which sync_state records (`newest`), lies at or below the cut, it is that row:
 * looked up by its block, so that DuckDB reads only the row group whose block range holds it. Found by a scan of
 * every id at or below the cut instead, it took ~10 ms warm and ~30–40 ms in a sync at the benchmark's size (ten
 * million rows), on the connection and cores that Postgres' copy runs beside; by its block, ~3–4 ms. Otherwise (a
 * cut below the newest row: a rollback, or an index re-indexed from below it), or should the recorded row be missing,
 * the scan finds it.
 */
async function anchorAt(
  conn: DuckDBConnection,
  cut: number,
  newest: Pick<SyncState, 'lastId' | 'lastBlock'>,
): Promise<(MirroredRow & {blockHash: string}) | undefined> {
  let row
  if (newest.lastId !== null && newest.lastBlock <= cut) {
    row = await one(conn, 'SELECT id, block_number, block_hash FROM audit_event WHERE block_number = $block AND id = $id', {
      block: newest.lastBlock,
      id: newest.lastId,
    })
  }
  row ??= await one(conn, 'SELECT id, block_number, block_hash FROM audit_event WHERE block_number <= $cut ORDER BY id DESC LIMIT 1', {cut})
  return row ? {id: String(row.id), block: Number(row.block_number), blockHash: String(row.block_hash)} : undefined
}

/**
 * The anchor (anchorAt) must be in Postgres with the same block hash. If not, the index under the mirror was replaced
 * (a new devnet, a re-index over another chain) and an incremental sync would splice two histories together.
 */
async function checkAnchor(anchor: {id: string; blockHash: string} | undefined, cut: number, hashInPg: (id: string) => Promise<string | undefined>): Promise<void> {
  if (!anchor) return
  const pgHash = await hashInPg(anchor.id)
  if (pgHash !== anchor.blockHash) {
    throw new MirrorDivergedError(
      `the analytics mirror keeps audit event ${anchor.id} (block hash ${anchor.blockHash}) at or below the finalized ` +
        `height ${cut}, but Postgres ${pgHash ? `has block hash ${pgHash}` : 'no longer has it'}: the index was replaced. ` +
        'Rebuild the mirror (rebuildFromScratch, or node lib/analytics/store/rebuild-cli.js).',
    )
  }
}

async function one(conn: DuckDBConnection, sql: string, params?: Record<string, number | string>) {
  const reader = await conn.runAndReadAll(sql, params)
  return reader.getRowObjectsJson()[0]
}
