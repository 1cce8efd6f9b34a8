import type {DuckDBConnection} from '@duckdb/node-api'
import {type AnalyticsDb, openAnalyticsDb} from '../duckdb'
import {initDerivedState} from './derived-state'
import {mirrorDigest, type TableDigest} from './digest'
import {extractTyped} from './extract'
import {ensureSchema} from './schema'
import {replaceRowsAbove} from './sync-step'

/**
 * Test helper: audit rows written straight into the DuckDB mirror, shaped like the processor's (Subsquid log ids,
 * lowercased addresses, uint256 as decimal strings), for unit tests of the extraction and the input queries.
 */
export interface TestEvent {
  block: number
  logIndex?: number
  contract: string
  kind: string
  name: string
  args: Record<string, unknown>
  /** Default: a hash derived from the block number. */
  blockHash?: string
}

/** Addresses of the hand-made histories: the zero address (mints, burns), one token, one governor, numbered accounts. */
export const TEST_ZERO = '0x0000000000000000000000000000000000000000'
export const TEST_TOKEN = '0x' + '1'.repeat(40)
export const TEST_GOVERNOR = '0x' + '2'.repeat(40)
export const testAccount = (i: number): string => '0x' + (i + 16).toString(16).padStart(40, '0')

/**
 * mulberry32, rnd(n) in [0, n): the same history on every run, nothing statistical. (A linear congruential generator
 * used here before had cycling low bits: histories drawing several values per event came out with one delegate, one
 * vote amount, three voters.)
 */
export function testMulberry(seed: number): (n: number) => number {
  let state = seed
  return (n) => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
  }
}

export const testBlockHash = (block: number): string => '0x' + block.toString(16).padStart(64, 'a')

export function testEventId(block: number, hash: string, logIndex: number): string {
  return `${String(block).padStart(10, '0')}-${hash.slice(2, 7)}-${String(logIndex).padStart(6, '0')}`
}

export async function insertTestEvents(conn: DuckDBConnection, events: readonly TestEvent[]): Promise<string[]> {
  const ids: string[] = []
  for (const [i, e] of events.entries()) {
    const hash = e.blockHash ?? testBlockHash(e.block)
    const logIndex = e.logIndex ?? i
    const id = testEventId(e.block, hash, logIndex)
    ids.push(id)
    await conn.run(
      `INSERT INTO audit_event VALUES ($id, $block, $hash, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds($block),
        $tx, 0, $logIndex, $contract, $kind, $name, CAST($args AS JSON))`,
      {id, block: e.block, hash, tx: '0x' + String(i).padStart(64, '0'), logIndex, contract: e.contract, kind: e.kind, name: e.name, args: JSON.stringify(e.args)},
    )
  }
  return ids
}

/** A fresh in-memory mirror with the schema in place: the starting point of the mirror's unit tests. */
export async function openTestMirror(): Promise<{db: AnalyticsDb; conn: DuckDBConnection}> {
  const db = await openAnalyticsDb(':memory:')
  const conn = await db.connect()
  await ensureSchema(conn)
  return {db, conn}
}

/**
 * One sync step on the mirror without Postgres, as sync.ts takes it in one transaction: the kept state initialized,
 * the rollback above `cut`, the new rows inserted and extracted (sync-step.ts, replaceRowsAbove, as sync.ts runs it).
 */
export async function applyTestSyncStep(conn: DuckDBConnection, cut: number, events: readonly TestEvent[]): Promise<void> {
  await conn.run('BEGIN TRANSACTION')
  await initDerivedState(conn)
  await replaceRowsAbove(conn, cut, true, async () => void (await insertTestEvents(conn, events)))
  await conn.run('COMMIT')
}

/**
 * mirrorDigest (digest.ts) of a mirror rebuilt from scratch out of `conn`'s audit rows: what a mirror kept in steps,
 * rollbacks included, must equal table by table.
 */
export async function rebuiltMirrorDigest(conn: DuckDBConnection): Promise<Record<string, TableDigest>> {
  const events = (
    await conn.runAndReadAll(`SELECT block_number, contract, contract_kind, event_name, CAST(args AS VARCHAR) AS args, log_index FROM audit_event ORDER BY id`)
  ).getRowObjectsJson()
  const {db, conn: fresh} = await openTestMirror()
  try {
    await insertTestEvents(fresh, events.map((e) => ({
      block: Number(e.block_number), logIndex: Number(e.log_index), contract: String(e.contract), kind: String(e.contract_kind), name: String(e.event_name),
      args: JSON.parse(String(e.args)) as Record<string, unknown>,
    })))
    await extractTyped(fresh, -1)
    return await mirrorDigest(fresh)
  } finally {
    db.close()
  }
}

/**
 * Records the text of every statement run on `conn` (runAndReadAll goes through run too) until `restore()`: for tests
 * that count the statements a step issues.
 */
export function recordStatements(conn: DuckDBConnection): {statements: string[]; restore: () => void} {
  const statements: string[] = []
  const run = conn.run.bind(conn)
  conn.run = ((sql: string, ...rest: unknown[]) => {
    statements.push(sql)
    return (run as (...a: unknown[]) => ReturnType<DuckDBConnection['run']>)(sql, ...rest)
  }) as DuckDBConnection['run']
  return {statements, restore: () => void (conn.run = run)}
}
