import type {DuckDBConnection} from '@duckdb/node-api'
import {Pool} from 'pg'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {type TestDatabase, withTestDatabase} from '../../test-support/pg'
import {type AnalyticsDb, openAnalyticsDb} from '../duckdb'
import {mirrorDigest} from './digest'
import {BALANCES_AT, materialize} from './inputs'
import {parseContractsConfig} from '../../processor/contracts-config'
import {refreshAnalytics} from '../jobs/run'
import {MirrorDivergedError, rebuildFromScratch, readSyncState, syncFromPostgres} from './sync'
import {recordStatements, testBlockHash, testEventId} from './test-events'

/**
 * The sync's edges against a real Postgres with hand-written audit rows (no chain): the uint256 rule through the
 * COPY → CSV → read_csv path, awkward text in args, the finality cut, and an index replaced under the mirror.
 */
const Z = '0x0000000000000000000000000000000000000000'
const A = '0x' + 'a'.repeat(40)
const TOKEN = '0x' + '1'.repeat(40)
const HUGE_TOKEN = '0x' + '2'.repeat(40)
const GOV = '0x' + '3'.repeat(40)
const TWO_127 = (2n ** 127n).toString()
const MAX_HUGEINT = (2n ** 127n - 1n).toString()

describe('sync edges', () => {
  let db: TestDatabase
  let pool: Pool
  let mirror: AnalyticsDb
  let conn: DuckDBConnection

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'mirror_edge'})
    pool = new Pool({connectionString: db.url, max: 2})
    // The database is dropped WITH (FORCE) after the pool ends: a client still closing gets a FATAL, ignored here.
    pool.on('error', () => undefined)
    await pool.query(`CREATE SCHEMA squid_processor;
      CREATE TABLE squid_processor.status (id int PRIMARY KEY, height int NOT NULL, hash text NOT NULL);
      CREATE TABLE squid_processor.hot_block (height int PRIMARY KEY, hash text NOT NULL);`)
  })
  afterAll(async () => {
    await pool?.end().catch(() => undefined)
    await db?.drop().catch(() => undefined)
  })
  beforeEach(async () => {
    await pool.query('DELETE FROM audit_event; TRUNCATE squid_processor.status, squid_processor.hot_block')
    mirror = await openAnalyticsDb(':memory:')
    conn = await mirror.connect()
  })
  afterEach(() => mirror?.close())

  let nextLog = 0
  async function addEvent(block: number, contract: string, kind: string, name: string, args: object, hash = testBlockHash(block)): Promise<string> {
    const logIndex = nextLog++
    const id = testEventId(block, hash, logIndex)
    await pool.query(
      `INSERT INTO audit_event VALUES ($1, $2, $3, to_timestamp($2::int), $4, 0, $5, $6, $7, $8, $9)`,
      [id, block, hash, `0x${String(logIndex).padStart(64, '0')}`, logIndex, contract, kind, name, JSON.stringify(args)],
    )
    return id
  }
  const setStatus = async (finalized: number, hot: number[] = []) => {
    await pool.query('TRUNCATE squid_processor.status, squid_processor.hot_block')
    await pool.query('INSERT INTO squid_processor.status VALUES (0, $1, $2)', [finalized, testBlockHash(finalized)])
    for (const h of hot) await pool.query('INSERT INTO squid_processor.hot_block VALUES ($1, $2)', [h, testBlockHash(h)])
  }
  const all = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJson()
  const transfer = (block: number, token: string, value: string) => addEvent(block, token, 'token', 'Transfer', {from: Z, to: A, value})
  /** The mirror kept in steps equals a mirror rebuilt from scratch out of Postgres, table by table. */
  const expectMirrorEqualsRebuild = async () => {
    const rebuilt = await openAnalyticsDb(':memory:')
    try {
      const c2 = await rebuilt.connect()
      await rebuildFromScratch(c2, pool)
      expect(await mirrorDigest(conn)).toEqual(await mirrorDigest(c2))
    } finally {
      rebuilt.close()
    }
  }

  it('an empty index gives an empty mirror', async () => {
    const r = await syncFromPostgres(conn, pool)
    expect(r).toMatchObject({pulled: 0, droppedUnfinalized: 0, fromId: null, toId: null, finalizedHeight: -1})
    expect(await readSyncState(conn)).toMatchObject({finalizedHeight: -1, lastId: null})
  })

  it('uint256 beyond HUGEINT survives COPY and CSV exactly in oversized_amount, and its scope refuses to be measured', async () => {
    const ok = await transfer(1, TOKEN, MAX_HUGEINT)
    const big = await transfer(2, HUGE_TOKEN, TWO_127)
    await setStatus(2)
    await syncFromPostgres(conn, db.url)
    expect(await all('SELECT id, value FROM token_transfer ORDER BY id')).toEqual([{id: ok, value: MAX_HUGEINT}, {id: big, value: null}])
    expect(await all('SELECT id, raw FROM oversized_amount')).toEqual([{id: big, raw: TWO_127}])
    await expect(materialize(conn, 'dist', BALANCES_AT, {token: HUGE_TOKEN, block: 2})).rejects.toThrow(new RegExp(`in event ${big}`))
    await materialize(conn, 'dist', BALANCES_AT, {token: TOKEN, block: 2})
    expect(await all('SELECT * FROM dist')).toEqual([{entity: A, w: MAX_HUGEINT}])
  })

  it('args with quotes, commas, newlines and non-ASCII text round-trip exactly', async () => {
    const description = 'Line one, "quoted"\nline two\\ with backslash; ünïcødé ✓, \'single\', ""'
    await addEvent(1, GOV, 'governor', 'ProposalCreated', {proposalId: '1', proposer: A, voteStart: '5', voteEnd: '9', description, targets: []})
    await addEvent(1, GOV, 'governor', 'ProposalDescriptionless', {empty: ''})
    await syncFromPostgres(conn, pool)
    const [pgRow] = (await pool.query(`SELECT args::text AS a FROM audit_event ORDER BY id LIMIT 1`)).rows
    const [duckRow] = await all(`SELECT CAST(args AS VARCHAR) AS a, json_extract_string(args, '$.description') AS d FROM audit_event ORDER BY id LIMIT 1`)
    expect(duckRow).toEqual({a: pgRow.a, d: description})
    expect(await all(`SELECT proposal_id, vote_start FROM proposal`)).toEqual([{proposal_id: '1', vote_start: '5'}])
  })

  it('re-pulls only above the finalized height, and replaces rows changed there', async () => {
    await transfer(1, TOKEN, '10')
    const hotId = await transfer(3, TOKEN, '30')
    await setStatus(2, [3])
    const r1 = await syncFromPostgres(conn, pool)
    expect(r1).toMatchObject({pulled: 2, finalizedHeight: 2, height: 3, reorgedAbove: null})
    // Block 3 is replaced by another block 3 (a reorg the processor rolled back), and block 4 arrives.
    await pool.query('DELETE FROM audit_event WHERE id = $1', [hotId])
    const newHash = '0x' + 'f'.repeat(64)
    const replacement = await addEvent(3, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '33'}, newHash)
    await transfer(4, TOKEN, '40')
    await setStatus(3, [4])
    const r2 = await syncFromPostgres(conn, pool)
    expect(r2).toMatchObject({pulled: 2, droppedUnfinalized: 1, fromId: replacement, finalizedHeight: 3, reorgedAbove: 2})
    expect(await all('SELECT block_number, value FROM token_transfer ORDER BY id')).toEqual([
      {block_number: '1', value: '10'}, {block_number: '3', value: '33'}, {block_number: '4', value: '40'},
    ])
    await expectMirrorEqualsRebuild()
  })

  it('records the newest mirrored row, also when a rollback leaves no row above the cut', async () => {
    const newest = async () => {
      const [row] = await all('SELECT id, block_number FROM audit_event ORDER BY id DESC LIMIT 1')
      return {lastId: row ? String(row.id) : null, lastBlock: row ? Number(row.block_number) : -1}
    }
    const first = await transfer(1, TOKEN, '10')
    const hotId = await transfer(3, TOKEN, '30')
    await setStatus(2, [3])
    await syncFromPostgres(conn, pool)
    expect(await readSyncState(conn)).toMatchObject({lastId: hotId, lastBlock: 3})
    // Block 3 is reorged away and nothing replaces it: the sync pulls no row, and the newest is the one at block 1.
    await pool.query('DELETE FROM audit_event WHERE id = $1', [hotId])
    await setStatus(2)
    const r = await syncFromPostgres(conn, pool)
    expect(r).toMatchObject({pulled: 0, droppedUnfinalized: 1, reorgedAbove: 2})
    expect(await readSyncState(conn)).toMatchObject({lastId: first, lastBlock: 1})
    expect(await readSyncState(conn)).toMatchObject(await newest())
    const later = await transfer(4, TOKEN, '40')
    await setStatus(4)
    await syncFromPostgres(conn, pool)
    expect(await readSyncState(conn)).toMatchObject({lastId: later, lastBlock: 4})
    expect(await readSyncState(conn)).toMatchObject(await newest())
  })

  it('keeps the unfinalized blocks Postgres still holds, and rolls back from the first that changed', async () => {
    await transfer(1, TOKEN, '10')
    const kept = [await transfer(3, TOKEN, '30'), await transfer(3, TOKEN, '31')]
    const changed = await transfer(4, TOKEN, '40')
    await transfer(5, TOKEN, '50')
    await setStatus(2, [3, 4, 5])
    await syncFromPostgres(conn, pool)
    // Nothing changed: no rollback runs, only block 6 is pulled.
    await transfer(6, TOKEN, '60')
    await setStatus(2, [3, 4, 5, 6])
    let recorded = recordStatements(conn)
    const same = await syncFromPostgres(conn, pool).finally(() => recorded.restore())
    expect(same).toMatchObject({pulled: 1, droppedUnfinalized: 0, keptUnfinalized: 4, height: 6, reorgedAbove: null})
    expect(recorded.statements.filter((sql) => /^DELETE FROM \w+ WHERE block_number > \$cut/.test(sql))).toEqual([])
    await expectMirrorEqualsRebuild()
    // A reorg at block 4: blocks 4 to 6 are replaced (block 5 keeps its hash here, which still puts it above the cut),
    // block 3 stays and becomes final, block 7 arrives.
    await pool.query('DELETE FROM audit_event WHERE id = $1', [changed])
    const fork = '0x' + 'c'.repeat(64)
    await addEvent(4, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '44'}, fork)
    await transfer(7, TOKEN, '70')
    await setStatus(3, [4, 5, 6, 7])
    recorded = recordStatements(conn)
    const reorged = await syncFromPostgres(conn, pool).finally(() => recorded.restore())
    expect(reorged).toMatchObject({pulled: 4, droppedUnfinalized: 3, keptUnfinalized: 2, finalizedHeight: 3, reorgedAbove: 3})
    expect(recorded.statements.filter((sql) => sql.startsWith('DELETE FROM token_transfer WHERE block_number > $cut'))).toHaveLength(1)
    expect(await all('SELECT block_number, value FROM token_transfer ORDER BY id')).toEqual(
      [['1', '10'], ['3', '30'], ['3', '31'], ['4', '44'], ['5', '50'], ['6', '60'], ['7', '70']].map(([b, v]) => ({block_number: b, value: v})),
    )
    expect(await readSyncState(conn)).toMatchObject({finalizedHeight: 3, height: 7, lastBlock: 7})
    expect((await all(`SELECT id FROM audit_event WHERE block_number = 3 ORDER BY id`)).map((r) => r.id)).toEqual(kept)
    await expectMirrorEqualsRebuild()
  })

  it('a refresh drops the results above a replaced block, even when the finalized height has passed them', async () => {
    const contracts = parseContractsConfig({chainId: 31337, contracts: [{kind: 'token', address: TOKEN, startBlock: 0}]})
    const storedBlocks = async () => (await pool.query(`SELECT DISTINCT as_of_block FROM metric_value ORDER BY 1`)).rows.map((r) => Number(r.as_of_block))
    await pool.query('DELETE FROM metric_value')
    await transfer(1, TOKEN, '10')
    await transfer(3, TOKEN, '30')
    const orphaned = await transfer(4, TOKEN, '40')
    await setStatus(2, [3, 4])
    await refreshAnalytics({duck: conn, pg: pool, contracts})
    expect(await storedBlocks()).toEqual([4])
    // Block 4 is replaced, and by the next refresh the chain has finalized past it (a follower stopped for longer than
    // the finality window): the values at block 4 read the orphaned transfer, and must go.
    await pool.query('DELETE FROM audit_event WHERE id = $1', [orphaned])
    await addEvent(4, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '44'}, '0x' + 'd'.repeat(64))
    await transfer(5, TOKEN, '50')
    await setStatus(5)
    const run = await refreshAnalytics({duck: conn, pg: pool, contracts})
    expect(run.sync).toMatchObject({reorgedAbove: 3, finalizedHeight: 5})
    expect(await storedBlocks()).toEqual([5])
    await pool.query('DELETE FROM metric_value')
  })

  it('a tail block that gained rows, lost one or changed a row under the same hash is rolled back and pulled again', async () => {
    await transfer(1, TOKEN, '10')
    await transfer(3, TOKEN, '30')
    const swapped = await transfer(5, TOKEN, '50')
    await setStatus(2, [3, 4, 5])
    await syncFromPostgres(conn, pool)
    // Block 4, empty before, now holds a row: everything from block 4 up goes back and comes again.
    await transfer(4, TOKEN, '40')
    let r = await syncFromPostgres(conn, pool)
    expect(r).toMatchObject({pulled: 2, droppedUnfinalized: 1, keptUnfinalized: 1, reorgedAbove: 3})
    await expectMirrorEqualsRebuild()
    // Block 5 keeps its hash and row count, but holds another row (another log index): its ids differ.
    await pool.query('DELETE FROM audit_event WHERE id = $1', [swapped])
    await transfer(5, TOKEN, '55')
    r = await syncFromPostgres(conn, pool)
    expect(r).toMatchObject({pulled: 1, droppedUnfinalized: 1, keptUnfinalized: 2, reorgedAbove: 4})
    expect(await all('SELECT value FROM token_transfer WHERE block_number = 5')).toEqual([{value: '55'}])
    await expectMirrorEqualsRebuild()
    // Block 3 loses its row: the sync rolls back from block 3, and the newest mirrored row is the one at block 5.
    await pool.query('DELETE FROM audit_event WHERE block_number = 3')
    r = await syncFromPostgres(conn, pool)
    expect(r).toMatchObject({pulled: 2, droppedUnfinalized: 3, keptUnfinalized: 0, reorgedAbove: 2})
    expect(await readSyncState(conn)).toMatchObject({lastBlock: 5})
    await expectMirrorEqualsRebuild()
  })

  it('an index replaced under the mirror stops the sync with MirrorDivergedError and leaves the mirror untouched', async () => {
    const old = await transfer(1, TOKEN, '10')
    await setStatus(1)
    await syncFromPostgres(conn, pool)
    const before = await mirrorDigest(conn)
    await pool.query('DELETE FROM audit_event WHERE id = $1', [old])
    await transfer(1, TOKEN, '11')
    await transfer(2, TOKEN, '12')
    await setStatus(2)
    await expect(syncFromPostgres(conn, pool)).rejects.toThrow(MirrorDivergedError)
    expect(await mirrorDigest(conn)).toEqual(before)
    const r = await rebuildFromScratch(conn, pool)
    expect(r.pulled).toBe(2)
    expect(await all('SELECT value FROM token_transfer ORDER BY id')).toEqual([{value: '11'}, {value: '12'}])
  })

  it('afterCopy is called once, with the finalized height of the snapshot copied, before DuckDB inserts the rows', async () => {
    await transfer(1, TOKEN, '10')
    await transfer(2, TOKEN, '20')
    await setStatus(1, [2])
    const recorded = recordStatements(conn)
    const calls: {finalizedHeight: number; statementsBefore: string[]}[] = []
    try {
      const r = await syncFromPostgres(conn, pool, {afterCopy: (s) => calls.push({...s, statementsBefore: [...recorded.statements]})})
      expect(r.pulled).toBe(2)
    } finally {
      recorded.restore()
    }
    expect(calls.map((c) => c.finalizedHeight)).toEqual([1])
    expect(calls[0]!.statementsBefore.some((sql) => sql.startsWith('INSERT INTO audit_event'))).toBe(false)
    expect(recorded.statements.some((sql) => sql.startsWith('INSERT INTO audit_event'))).toBe(true)
  })

  it('the anchor is the newest mirrored row, looked up by the block sync_state records: a replaced newest row stops the sync', async () => {
    await transfer(1, TOKEN, '10')
    const newest = await transfer(2, TOKEN, '20')
    await setStatus(2)
    await syncFromPostgres(conn, pool)
    const before = await mirrorDigest(conn)
    // Only block 2 is replaced; block 1, an older row at or below the cut, is still Postgres' own.
    await pool.query('DELETE FROM audit_event WHERE id = $1', [newest])
    await addEvent(2, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '21'}, '0x' + 'e'.repeat(64))
    await transfer(3, TOKEN, '30')
    await setStatus(3)
    const recorded = recordStatements(conn)
    try {
      await expect(syncFromPostgres(conn, pool)).rejects.toThrow(MirrorDivergedError)
    } finally {
      recorded.restore()
    }
    const anchorReads = recorded.statements.filter((sql) => sql.startsWith('SELECT id, block_number, block_hash FROM audit_event'))
    expect(anchorReads).toEqual(['SELECT id, block_number, block_hash FROM audit_event WHERE block_number = $block AND id = $id'])
    expect(await mirrorDigest(conn)).toEqual(before)
  })

  it('an index replaced under a mirror with unfinalized rows: the rollback step that ran during the copy goes back with the rest', async () => {
    const old = await transfer(1, TOKEN, '10')
    const hot = await transfer(3, TOKEN, '30')
    await setStatus(2, [3])
    await syncFromPostgres(conn, pool)
    const before = await mirrorDigest(conn)
    // Blocks 1 (at or below the cut, 2) and 3 replaced; block 4 arrives. Block 3 changed, so the cut is the previous
    // finalized height, and the rollback of block 3 starts on DuckDB while Postgres copies, before the anchor check fails.
    await pool.query('DELETE FROM audit_event WHERE id = ANY($1)', [[old, hot]])
    await addEvent(1, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '11'}, '0x' + 'e'.repeat(64))
    await addEvent(3, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '31'}, '0x' + 'e'.repeat(64))
    await transfer(4, TOKEN, '40')
    await setStatus(3, [4])
    const recorded = recordStatements(conn)
    try {
      await expect(syncFromPostgres(conn, pool)).rejects.toThrow(MirrorDivergedError)
    } finally {
      recorded.restore()
    }
    // It did run: its deletes came before the failure.
    expect(recorded.statements.filter((sql) => sql.startsWith('DELETE FROM token_transfer WHERE block_number > $cut'))).toHaveLength(1)
    expect(await mirrorDigest(conn)).toEqual(before)
    expect(await all('SELECT block_number, value FROM token_transfer ORDER BY id')).toEqual([{block_number: '1', value: '10'}, {block_number: '3', value: '30'}])
  })

  it('an index re-indexed from below the mirror\'s finalized height: checked at the lower cut, re-pulled from it', async () => {
    await transfer(1, TOKEN, '10')
    const replaced = [await transfer(2, TOKEN, '20'), await transfer(3, TOKEN, '30')]
    await setStatus(3)
    await syncFromPostgres(conn, pool)
    // The processor re-indexed from block 1: blocks 2 and 3 now hold other events, and only block 1 is final.
    await pool.query('DELETE FROM audit_event WHERE id = ANY($1)', [replaced])
    const other = '0x' + 'e'.repeat(64)
    await addEvent(2, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '22'}, other)
    await addEvent(3, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '33'}, other)
    await setStatus(1, [2, 3])
    // The anchor is the row at block 1, which Postgres still holds; the rows at the old finalized height are gone.
    const r = await syncFromPostgres(conn, pool)
    expect(r).toMatchObject({pulled: 2, droppedUnfinalized: 2, finalizedHeight: 1})
    expect(await all('SELECT value FROM token_transfer ORDER BY id')).toEqual([{value: '10'}, {value: '22'}, {value: '33'}])
    await expectMirrorEqualsRebuild()
    // Final up to block 4; then the index is re-indexed from block 2 and block 2 itself changed: the row kept at the
    // lower cut is not Postgres' any more, while the row at the old finalized height still is.
    await transfer(4, TOKEN, '40')
    await setStatus(4)
    await syncFromPostgres(conn, pool)
    await pool.query('DELETE FROM audit_event WHERE block_number = 2')
    await addEvent(2, TOKEN, 'token', 'Transfer', {from: Z, to: A, value: '23'}, '0x' + 'd'.repeat(64))
    await setStatus(2, [3, 4])
    const before = await mirrorDigest(conn)
    await expect(syncFromPostgres(conn, pool)).rejects.toThrow(MirrorDivergedError)
    expect(await mirrorDigest(conn)).toEqual(before)
  })
})
