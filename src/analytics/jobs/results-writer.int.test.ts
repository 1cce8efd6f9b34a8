import {Pool} from 'pg'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {type TestDatabase, withTestDatabase} from '../../test-support/pg'
import {type LorenzRecord, ResultsWriter, type SuiteResults} from './results'
import type {MetricRecord} from './measurement'

/**
 * ResultsWriter against a real Postgres: a refresh's parts, written while its suite computes, are seen by readers all
 * at once when it finishes, or never (a failed suite, a failed upsert, parts that are not the suite's results).
 */
const metric = (scopeId: string, asOfBlock: number, name = 'gini'): MetricRecord => ({
  metric: name, value: 0.5, distribution: 'weight_cast', scopeKind: 'proposal', scopeId, asOfBlock, inputFromBlock: 0, inputToBlock: asOfBlock,
  inputRowCount: 3, inputDigest: 'd', sqlDigest: 's',
})
const point = (asOfBlock: number, pointIndex: number): LorenzRecord => ({
  distribution: 'balances', scopeKind: 'token', scopeId: '0xtoken', asOfBlock, pointIndex, x: pointIndex / 2, y: pointIndex / 4, inputDigest: 'd',
})
const suite = (parts: Pick<SuiteResults, 'metrics' | 'lorenz'>[]): SuiteResults => ({
  metrics: parts.flatMap((p) => p.metrics),
  lorenz: parts.flatMap((p) => p.lorenz),
  fairness: [],
})

describe('ResultsWriter', () => {
  let db: TestDatabase
  let pool: Pool

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'results_writer'})
    pool = new Pool({connectionString: db.url, max: 3})
    // The database is dropped WITH (FORCE) after the pool ends: a client still closing gets a FATAL, ignored here.
    pool.on('error', () => undefined)
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })
  beforeEach(async () => {
    await pool.query('DELETE FROM metric_value; DELETE FROM lorenz_point')
  })

  /** What another session sees: the stored ids, and the data version the API keys its cache on. */
  const seen = async () => ({
    metrics: (await pool.query<{id: string}>('SELECT id FROM metric_value ORDER BY id')).rows.map((r) => r.id),
    points: Number((await pool.query<{n: string}>('SELECT count(*) AS n FROM lorenz_point')).rows[0]!.n),
    version: Number((await pool.query<{v: string}>(`SELECT version AS v FROM analytics_state WHERE id = 'analytics'`)).rows[0]!.v),
  })
  /**
   * Whether an uncommitted transaction holds a metric value with this id: another session's insert of the same id
   * then waits for it (the primary key), here until a lock timeout. The probe's own insert is rolled back.
   */
  const heldUncommitted = async (id: string): Promise<boolean> => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`SET LOCAL lock_timeout = '300ms'`)
      await client.query(
        `INSERT INTO metric_value (id, metric, distribution, scope_kind, scope_id, as_of_block, input_from_block, input_to_block,
           input_row_count, input_digest, sql_digest, job_version, computed_at)
         VALUES ($1, 'm', 'd', 'proposal', 's', 1, 0, 1, 0, 'd', 's', 'v', now())`,
        [id],
      )
      return false
    } catch (e) {
      if (/lock timeout/.test(String(e))) return true
      throw e
    } finally {
      await client.query('ROLLBACK')
      client.release()
    }
  }
  /** Lets the queued upserts run. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

  it('writes the parts as they come, and readers see them all, once, when it finishes', async () => {
    const before = await seen()
    const parts = [
      {metrics: [metric('0xgov-1/1', 10), metric('0xgov-1/1', 10, 'hhi')], lorenz: []},
      {metrics: [metric('0xgov-1/2', 10)], lorenz: [point(10, 0), point(10, 1)]},
      {metrics: [], lorenz: [point(10, 2)]},
    ]
    const writer = await ResultsWriter.open(pool)
    writer.add(parts[0]!)
    await settle()
    // The first part is upserted in the writer's transaction, before the others are given, and not yet committed.
    expect(await heldUncommitted('gini/weight_cast/proposal/0xgov-1/1/10')).toBe(true)
    expect(await heldUncommitted('gini/weight_cast/proposal/0xgov-1/2/10')).toBe(false)
    writer.add(parts[1]!)
    writer.add(parts[2]!)
    await settle()
    expect(await heldUncommitted('gini/weight_cast/proposal/0xgov-1/2/10')).toBe(true)
    expect(await seen()).toEqual(before)
    await writer.finish(suite(parts))
    const after = await seen()
    expect(after.metrics).toEqual(['gini/weight_cast/proposal/0xgov-1/1/10', 'gini/weight_cast/proposal/0xgov-1/2/10', 'hhi/weight_cast/proposal/0xgov-1/1/10'])
    expect(after.points).toBe(3)
    expect(after.version).toBe(before.version + 1)
    // Its client went back to the pool.
    expect(pool.totalCount - pool.idleCount).toBe(0)
  })

  it('abort (a failed suite) leaves nothing, and the client goes back to the pool', async () => {
    const before = await seen()
    const writer = await ResultsWriter.open(pool)
    writer.add({metrics: [metric('0xgov-1/1', 11)], lorenz: [point(11, 0)]})
    await settle()
    await writer.abort()
    expect(await seen()).toEqual(before)
    expect(pool.totalCount - pool.idleCount).toBe(0)
    expect(() => writer.add({metrics: [metric('0xgov-1/1', 12)], lorenz: []})).toThrow(/after finish or abort/)
  })

  it('refuses parts that are not the suite\'s results: a value missing, or one given twice', async () => {
    const before = await seen()
    const given = {metrics: [metric('0xgov-1/1', 13)], lorenz: []}
    const writer = await ResultsWriter.open(pool)
    writer.add(given)
    await expect(writer.finish(suite([given, {metrics: [metric('0xgov-1/2', 13)], lorenz: []}]))).rejects.toThrow(/not the suite's results/)
    expect(await seen()).toEqual(before)

    const twice = await ResultsWriter.open(pool)
    twice.add(given)
    expect(() => twice.add({metrics: [metric('0xgov-1/1', 13)], lorenz: []})).toThrow(/added twice/)
    await twice.abort()
    expect(await seen()).toEqual(before)
    expect(pool.totalCount - pool.idleCount).toBe(0)
  })

  it('a failed upsert fails finish with its own error, even after later parts, and nothing is written', async () => {
    const before = await seen()
    const writer = await ResultsWriter.open(pool)
    // as_of_block is an int column: Postgres refuses 2^40.
    const bad = {metrics: [metric('0xgov-1/1', 2 ** 40)], lorenz: []}
    writer.add(bad)
    await settle()
    const later = {metrics: [metric('0xgov-1/2', 14)], lorenz: [point(14, 0)]}
    writer.add(later)
    await expect(writer.finish(suite([bad, later]))).rejects.toThrow(/out of range for type integer/)
    expect(await seen()).toEqual(before)
    expect(pool.totalCount - pool.idleCount).toBe(0)
  })
})
