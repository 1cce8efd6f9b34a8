import type { DuckDBConnection } from '@duckdb/node-api'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runFairness, runFairnessTable } from './fairness'
import { loadTable, openTestDb, type TestDb } from './test-fixtures'
import { runInsiderOverlap } from './insiders'
import { runModelOwnerConcentration } from './model-owners'
import { concentrationRef } from './reference'
import {
  fairnessRef, fairnessTableRef, insiderOverlapRef, validatorMetricsRef, type AmountRecord, type ValidationRecord,
} from './reference-fairness'
import { differences } from './test-compare'
import { runValidatorMetrics } from './validators'

let db: TestDb
beforeEach(async () => {
  db = await openTestDb()
})
afterEach(() => db.close())

const amounts = (pairs: readonly (readonly [string, bigint | number])[]): AmountRecord[] =>
  pairs.map(([entity, amount]) => ({ entity, amount: BigInt(amount) }))

async function loadInto(conn: DuckDBConnection, contrib: readonly AmountRecord[], reward: readonly AmountRecord[]): Promise<void> {
  await loadTable(conn, 'contrib', [['contributor', 'VARCHAR'], ['value', 'HUGEINT']], contrib.map((c) => [c.entity, c.amount]))
  await loadTable(conn, 'reward', [['recipient', 'VARCHAR'], ['amount', 'HUGEINT']], reward.map((r) => [r.entity, r.amount]))
}
const load = (contrib: readonly AmountRecord[], reward: readonly AmountRecord[]): Promise<void> => loadInto(db.conn, contrib, reward)

async function loadValidationsInto(conn: DuckDBConnection, vs: readonly ValidationRecord[]): Promise<void> {
  await loadTable(conn, 'validations', [['validator', 'VARCHAR'], ['contributor', 'VARCHAR']], vs.map((v) => [v.validator, v.contributor]))
}
const loadValidations = (vs: readonly ValidationRecord[]): Promise<void> => loadValidationsInto(db.conn, vs)

describe('fairness: hand-worked example', () => {
  // contributions a 50, b 30, c 20 (C = 100); rewards a 100, b 50, d 50 (R = 200)
  const contrib = amounts([['a', 50], ['b', 30], ['c', 20]])
  const reward = amounts([['a', 60], ['a', 40], ['b', 50], ['d', 50], ['e', 0], ['c', -5]])

  it('summary', async () => {
    await load(contrib, reward)
    const r = await runFairness(db.conn)
    expect(r).toMatchObject({ entities: 4, contributionTotal: '100', rewardTotal: '200', overRewarded: 1, underRewarded: 1 })
    expect(r.tvd).toBeCloseTo(0.25, 15) // ½ (0 + 0.05 + 0.2 + 0.25)
    expect(r.giniRewards).toBeCloseTo(0.375, 15) // [0, 50, 50, 100]
    expect(r.giniContributions).toBeCloseTo(0.4, 15) // [0, 20, 30, 50]
    expect(r.spearman).toBeCloseTo(3 / Math.sqrt(22.5), 15) // ranks (4,3,2,1) vs (4,2.5,1,2.5)
  })

  it('table', async () => {
    await load(contrib, reward)
    const rows = await runFairnessTable(db.conn)
    expect(rows.map((x) => [x.entity, x.contribution, x.reward, x.status])).toEqual([
      ['a', '50', '100', 'fair'], ['b', '30', '50', 'fair'], ['c', '20', '0', 'under'], ['d', '0', '50', 'over'],
    ])
    expect(rows[0]).toMatchObject({ contributionShare: 0.5, rewardShare: 0.5, rewardToContributionRatio: 1 })
    expect(rows[3]).toMatchObject({ contributionShare: 0, rewardShare: 0.25, rewardToContributionRatio: null })
    expect((await runFairnessTable(db.conn, { limit: 2, offset: 1 })).map((x) => x.entity)).toEqual(['b', 'c'])
    await expect(runFairnessTable(db.conn, { limit: 10_001 })).rejects.toThrow(RangeError)
  })

  it('an exact 2× (or ½×) share is not over- (or under-) rewarded, also with wei amounts', async () => {
    const x = 10n ** 24n + 7n
    const y = 10n ** 25n + 3n
    // a: p = 1/3, q = 2/3 (exactly 2×); b: p = 2/3, q = 1/3 (exactly ½×)
    await load(amounts([['a', x], ['b', 2n * x]]), amounts([['a', 2n * y], ['b', y]]))
    expect(await runFairness(db.conn)).toMatchObject({ overRewarded: 0, underRewarded: 0 })
  })

  it('no rewards, no contributions, nothing at all', async () => {
    await load(amounts([['a', 1], ['b', 1]]), [])
    expect(await runFairness(db.conn)).toMatchObject({ tvd: null, giniRewards: null, giniContributions: 0, spearman: null, underRewarded: 2 })
    await load([], amounts([['a', 1]]))
    expect(await runFairness(db.conn)).toMatchObject({ tvd: null, giniContributions: null, giniRewards: 0, overRewarded: 1 })
    await load([], [])
    expect(await runFairness(db.conn)).toEqual({
      entities: 0, contributionTotal: '0', rewardTotal: '0', tvd: null, giniRewards: null, giniContributions: null,
      spearman: null, overRewarded: 0, underRewarded: 0,
    })
  })
})

describe('validators, model owners, insiders: hand-worked examples', () => {
  it('validator concentration and self-validation', async () => {
    await loadValidations([
      { validator: 'v1', contributor: 'c1' }, { validator: 'v1', contributor: 'c2' }, { validator: 'v1', contributor: 'v1' },
      { validator: 'v2', contributor: 'c1' }, { validator: 'v3', contributor: 'v3' },
    ])
    const r = await runValidatorMetrics(db.conn)
    expect(r).toMatchObject({ validations: 5, selfValidations: 2, selfValidationShare: 0.4 })
    expect(r.concentration).toMatchObject({ count: 3, total: '5', nakamoto50: 1 })
    expect(r.concentration.gini).toBeCloseTo(4 / 15, 15) // [1, 1, 3]: Σ|xi−xj| = 8, 2·n·W = 30
    await loadValidations([])
    expect(await runValidatorMetrics(db.conn)).toMatchObject({ validations: 0, selfValidationShare: null, concentration: { count: 0 } })
  })

  it('model owners', async () => {
    await loadTable(db.conn, 'models', [['model', 'VARCHAR'], ['owner', 'VARCHAR']], [['m1', 'o1'], ['m2', 'o1'], ['m3', 'o2'], ['m1', 'o1']])
    expect(differences(await runModelOwnerConcentration(db.conn), concentrationRef([2n, 1n]))).toEqual([])
  })

  it('insider overlap', async () => {
    await loadTable(db.conn, 'top_holders', [['entity', 'VARCHAR']], [['h1'], ['h2'], ['h3'], ['h1']])
    await load([], amounts([['h1', 10], ['x', 30], ['h2', 0]]))
    expect(await runInsiderOverlap(db.conn)).toEqual({
      holders: 3, overlap: 1, overlapShare: 1 / 3, insiderRewards: '10', totalRewards: '40', insiderRewardShare: 0.25,
    })
  })
})

const amount = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 1n, max: 4n }),
  fc.bigInt({ min: 1n, max: 10n ** 24n }),
  fc.bigInt({ min: 2n ** 100n - 100n, max: 2n ** 100n + 100n }),
  fc.constant(-1n),
)
const name = fc.stringMatching(/^0x[0-9a-f]{1,2}$/)
const records = fc.array(fc.record({ entity: name, amount }), { maxLength: 25 })

// Each property owns its database: if a run ever outlives the test timeout, it cannot write into the tables of
// the next test. Each run has its own time limit, so a hang is reported with the input that caused it.
async function withOwnDb(body: (own: TestDb) => Promise<void>): Promise<void> {
  const own = await openTestDb()
  try {
    await body(own)
  } finally {
    own.close()
  }
}
const PER_RUN = { timeout: 5_000 } as const

describe('fairness: SQL equals the reference on random data', () => {
  it('summary and table', () => withOwnDb(async (own) => {
    await fc.assert(
      fc.asyncProperty(records, records, async (contrib, reward) => {
        await loadInto(own.conn, contrib, reward)
        expect(differences(await runFairness(own.conn), fairnessRef(contrib, reward))).toEqual([])
        const table = await runFairnessTable(own.conn, { limit: 10_000 })
        expect(differences(table, fairnessTableRef(contrib, reward))).toEqual([])
      }),
      { numRuns: 150, ...PER_RUN },
    )
  }), 120_000)

  it('validators and insiders', () => withOwnDb(async (own) => {
    const validations = fc.array(fc.record({ validator: fc.constantFrom('a', 'b', 'c', 'd'), contributor: fc.constantFrom('a', 'b', 'x', 'y') }), { maxLength: 30 })
    await fc.assert(
      fc.asyncProperty(validations, fc.array(name, { maxLength: 12 }), records, async (vs, holders, reward) => {
        await loadValidationsInto(own.conn, vs)
        expect(differences(await runValidatorMetrics(own.conn), validatorMetricsRef(vs))).toEqual([])
        await loadTable(own.conn, 'top_holders', [['entity', 'VARCHAR']], holders.map((h) => [h]))
        await loadInto(own.conn, [], reward)
        expect(differences(await runInsiderOverlap(own.conn), insiderOverlapRef(holders, reward))).toEqual([])
      }),
      { numRuns: 150, ...PER_RUN },
    )
  }), 120_000)
})
