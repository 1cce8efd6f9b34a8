import {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type TestDatabase, withTestDatabase} from '../../test-support/pg'
import {
  dropResultsAbove, type FairnessTable, fairnessScopeKey, latestFairnessTables, latestStoredBlocks, type LorenzRecord, type SuiteResults,
  type TableRetention, writeResults,
} from './results'
import {JOB_VERSION, type MetricRecord} from './measurement'
import {storedKey} from './plan'
import {missingBackfillBlocks} from './run'

/**
 * Retention of the per-entity tables (results.ts, pruneSupersededTables) against a real Postgres: which fairness
 * tables and Lorenz curves survive a sequence of refreshes, and that the latest finalized table of a scope is
 * never lost (a refresh that skips an unchanged scope relies on it), including across a reorg drop.
 */
const SCOPE = {scopeKind: 'protocol', scopeId: 'protocol'}
const OTHER = {scopeKind: 'model', scopeId: '0xregistry-1'}

/** A table of `contributors` rows as the suite makes it: COPY text lines (contributor, then FAIRNESS_LINE_COLUMNS). */
function fairness(scope: typeof SCOPE, block: number, contributors = 3): FairnessTable[] {
  const lines = Array.from({length: contributors}, (_, i) => {
    const who = `0x${String(i).padStart(40, '0')}`
    return [who, who, String(100 + i), 1 / contributors, String(10 * (i + 1)), 1 / contributors, 1, 'proportionate'].join('\t')
  })
  return [{...scope, asOfBlock: block, inputDigest: `digest-${block}`, rows: contributors, lines: lines.join('\n')}]
}

function lorenz(scope: typeof SCOPE, block: number): LorenzRecord[] {
  return [0, 1].map((i) => ({distribution: 'balances', ...scope, asOfBlock: block, pointIndex: i, x: i, y: i, inputDigest: `digest-${block}`}))
}

const results = (scopes: (typeof SCOPE)[], block: number): SuiteResults => ({
  metrics: [],
  lorenz: scopes.flatMap((s) => lorenz(s, block)),
  fairness: scopes.flatMap((s) => fairness(s, block)),
})

describe('retention of fairness tables and Lorenz curves', () => {
  let db: TestDatabase
  let pool: Pool

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'retention'})
    pool = new Pool({connectionString: db.url, max: 2})
    // The database is dropped WITH (FORCE) after the pool ends: a client still closing gets a FATAL, ignored here.
    pool.on('error', () => undefined)
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  const blocksOf = async (table: 'fairness_entry' | 'lorenz_point', scope: typeof SCOPE) =>
    (
      await pool.query<{b: number}>(`SELECT DISTINCT as_of_block AS b FROM ${table} WHERE scope_kind = $1 AND scope_id = $2 ORDER BY 1`, [
        scope.scopeKind,
        scope.scopeId,
      ])
    ).rows.map((r) => Number(r.b))

  const write = (scopes: (typeof SCOPE)[], block: number, retention?: TableRetention) => writeResults(pool, results(scopes, block), new Date(), retention)

  it('keeps multiples of keepEvery, the latest finalized table and everything unfinalized; prunes only written scopes', async () => {
    // Without retention nothing is pruned (the benchmark's full suite, single writes).
    for (const b of [95, 100, 103]) await write([SCOPE, OTHER], b)
    expect(await blocksOf('fairness_entry', SCOPE)).toEqual([95, 100, 103])

    // Finalized 106: 95 is superseded by 103 (also finalized) and is no multiple of 100; 100 is kept as a multiple;
    // 103 is the latest finalized; 108 is unfinalized.
    await write([SCOPE], 108, {finalizedHeight: 106, keepEvery: 100})
    expect(await blocksOf('fairness_entry', SCOPE)).toEqual([100, 103, 108])
    expect(await blocksOf('lorenz_point', SCOPE)).toEqual([100, 103, 108])
    // OTHER was not written: untouched.
    expect(await blocksOf('fairness_entry', OTHER)).toEqual([95, 100, 103])

    // Finalized 112: 108 is now the latest finalized, 103 goes; 115 unfinalized.
    await write([SCOPE], 115, {finalizedHeight: 112, keepEvery: 100})
    expect(await blocksOf('fairness_entry', SCOPE)).toEqual([100, 108, 115])

    // keepEvery 0 keeps no history: only the latest finalized (115) and what is above it.
    await write([SCOPE], 120, {finalizedHeight: 118, keepEvery: 0})
    expect(await blocksOf('fairness_entry', SCOPE)).toEqual([115, 120])
    expect(await blocksOf('lorenz_point', SCOPE)).toEqual([115, 120])
    // Each kept table is whole (every contributor row).
    const rows = await pool.query(`SELECT count(*)::int AS n FROM fairness_entry WHERE scope_id = 'protocol' AND as_of_block = 115`)
    expect(rows.rows[0].n).toBe(3)
    // A row as stored: the id's start and the scope's columns around the line's own fields.
    const row = await pool.query(
      `SELECT id, scope_kind, scope_id, as_of_block, contributor, contribution_value::text AS c, contribution_share::float8 AS p,
         reward_amount::text AS r, ratio::float8 AS ratio, verdict, input_digest, job_version
       FROM fairness_entry WHERE scope_id = 'protocol' AND as_of_block = 115 ORDER BY contributor DESC LIMIT 1`,
    )
    const who = `0x${'2'.padStart(40, '0')}`
    expect(row.rows[0]).toEqual({
      id: `protocol/protocol/115/${who}`, scope_kind: 'protocol', scope_id: 'protocol', as_of_block: 115, contributor: who, c: '102',
      p: 1 / 3, r: '30', ratio: 1, verdict: 'proportionate', input_digest: 'digest-115', job_version: JOB_VERSION,
    })
  })

  it('a reorg drop above the finalized height leaves the latest finalized table for an unchanged scope', async () => {
    await write([OTHER], 130, {finalizedHeight: 125, keepEvery: 100})
    // 103 was the latest finalized of OTHER; 95 is pruned, 100 kept as a multiple, 130 unfinalized.
    expect(await blocksOf('fairness_entry', OTHER)).toEqual([100, 103, 130])
    await dropResultsAbove(pool, 125)
    expect(await blocksOf('fairness_entry', OTHER)).toEqual([100, 103])
    expect(await blocksOf('lorenz_point', OTHER)).toEqual([100, 103])
  })

  it('latestFairnessTables (a loose index scan) equals a plain GROUP BY over every scope', async () => {
    const extra = Array.from({length: 5}, (_, i) => ({scopeKind: 'model', scopeId: `0xregistry-${i + 2}`}))
    for (const [i, scope] of extra.entries()) await write([scope], 140 + i)
    const plain = await pool.query<{k: string; i: string; b: number}>(
      `SELECT scope_kind AS k, scope_id AS i, max(as_of_block) AS b FROM fairness_entry GROUP BY 1, 2`,
    )
    const expected = new Map(plain.rows.map((r) => [fairnessScopeKey(r.k, r.i), Number(r.b)]))
    expect(expected.size).toBe(7)
    expect(await latestFairnessTables(pool)).toEqual(expected)
    const bounded = await pool.query<{k: string; i: string; b: number}>(
      `SELECT scope_kind AS k, scope_id AS i, max(as_of_block) AS b FROM fairness_entry WHERE as_of_block <= 142 GROUP BY 1, 2`,
    )
    const expectedBounded = new Map(bounded.rows.map((r) => [fairnessScopeKey(r.k, r.i), Number(r.b)]))
    expect(expectedBounded.size).toBeLessThan(7)
    expect(await latestFairnessTables(pool, 142)).toEqual(expectedBounded)
  })

  it('latestStoredBlocks (a loose index scan) equals a GROUP BY over this version\'s proposal, model and protocol series', async () => {
    const metric = (distribution: string, scopeKind: MetricRecord['scopeKind'], scopeId: string, asOfBlock: number, name: string): MetricRecord => ({
      metric: name, value: 1, distribution, scopeKind, scopeId, asOfBlock, inputFromBlock: 0, inputToBlock: asOfBlock, inputRowCount: 1,
      inputDigest: 'd', sqlDigest: 's',
    })
    const series: [string, MetricRecord['scopeKind'], string][] = [
      ['weight_cast', 'proposal', '0xgov-1'], ['votes', 'proposal', '0xgov-1'], ['weight_cast', 'proposal', '0xgov-2'],
      ['contributions_vs_rewards', 'model', '0xregistry-1'], ['validations', 'protocol', 'protocol'], ['balances', 'token', '0xtoken'],
    ]
    // Several metrics per series, and series whose latest blocks differ; the token series is not skippable (left out).
    for (const [i, block] of [200, 210, 220].entries()) {
      const metrics = series.slice(0, series.length - i).flatMap(([d, k, id]) => ['a.x', 'b.y'].map((m) => metric(d, k, id, block, m)))
      await writeResults(pool, {metrics, lorenz: [], fairness: []})
    }
    // A later value of another job version does not count.
    await pool.query(`UPDATE metric_value SET as_of_block = 230, id = id || '-old', job_version = 'older' WHERE as_of_block = 200 AND scope_id = '0xgov-2'`)
    const plain = await pool.query<{d: string; k: string; i: string; b: number}>(
      `SELECT distribution AS d, scope_kind AS k, scope_id AS i, max(as_of_block) AS b FROM metric_value
       WHERE job_version = $1 AND scope_kind IN ('proposal', 'model', 'protocol') GROUP BY 1, 2, 3`,
      [JOB_VERSION],
    )
    const expected = new Map(plain.rows.map((r) => [storedKey(r.d, r.k, r.i), Number(r.b)]))
    expect(expected.get(storedKey('weight_cast', 'proposal', '0xgov-1'))).toBe(220)
    expect(expected.get(storedKey('contributions_vs_rewards', 'model', '0xregistry-1'))).toBe(220)
    expect(expected.get(storedKey('validations', 'protocol', 'protocol'))).toBe(210)
    expect(expected.get(storedKey('weight_cast', 'proposal', '0xgov-2'))).toBe(220)
    expect(expected.size).toBe(5)
    expect(await latestStoredBlocks(pool)).toEqual(expected)
    // Bounded at a block (a refresh reads what its drop keeps): the latest value at or below it.
    const bounded = await pool.query<{d: string; k: string; i: string; b: number}>(
      `SELECT distribution AS d, scope_kind AS k, scope_id AS i, max(as_of_block) AS b FROM metric_value
       WHERE job_version = $1 AND scope_kind IN ('proposal', 'model', 'protocol') AND as_of_block <= 215 GROUP BY 1, 2, 3`,
      [JOB_VERSION],
    )
    const expectedBounded = new Map(bounded.rows.map((r) => [storedKey(r.d, r.k, r.i), Number(r.b)]))
    expect(expectedBounded.get(storedKey('weight_cast', 'proposal', '0xgov-1'))).toBe(210)
    expect(await latestStoredBlocks(pool, 215)).toEqual(expectedBounded)
    expect(await latestStoredBlocks(pool, 150)).toEqual(new Map())
  })

  it('missingBackfillBlocks: the multiples of every in [from, finalized] without a stored value', async () => {
    const stored = new Set((await pool.query<{b: number}>('SELECT DISTINCT as_of_block AS b FROM metric_value')).rows.map((r) => Number(r.b)))
    expect(stored.has(200) && stored.has(210) && stored.has(220)).toBe(true)
    const reference = (from: number, finalized: number, every: number) => {
      const out: number[] = []
      for (let b = Math.ceil(from / every) * every; b <= finalized; b += every) if (!stored.has(b)) out.push(b)
      return out
    }
    for (const [from, finalized, every] of [[0, 250, 10], [195, 221, 10], [201, 219, 10], [0, 230, 20], [5, 4, 10], [0, -1, 10], [3, 230, 7]] as const) {
      expect(await missingBackfillBlocks(pool, from, finalized, every)).toEqual(reference(from, finalized, every))
    }
    expect(await missingBackfillBlocks(pool, 195, 221, 10)).toEqual([])
    expect(await missingBackfillBlocks(pool, 0, 30, 10)).toEqual([0, 10, 20, 30])
  })
})
