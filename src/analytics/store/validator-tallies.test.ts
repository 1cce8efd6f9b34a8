import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {runBatched} from '../jobs/batch'
import {runFromTallies} from '../jobs/from-tallies'
import {type Measurement, runMeasurement} from '../jobs/measurement'
import {concentrationParams} from '../metrics/concentration'
import {queryRows, type Row} from '../metrics/sql-values'
import {SELF_VALIDATION_SQL, VALIDATOR_CONCENTRATION_SQL} from '../metrics/validators'
import {VALIDATIONS} from './inputs'
import {applyTestSyncStep, testAccount as acct, testMulberry, type TestEvent, openTestMirror} from './test-events'
import {initValidatorTallies} from './validator-tallies'

const CR = '0x' + '4'.repeat(40)
const CR2 = '0x' + '6'.repeat(40)

/**
 * Contributions to three models of two registries, validated (accepted or not, some several times, some by their own
 * contributor) in blocks from..to; ids from firstId. One validation comes a block before its contribution.
 */
function history(seed: number, from: number, to: number, firstId: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const out: TestEvent[] = []
  let id = firstId
  for (let block = from; block <= to; block++) {
    for (let k = 0; k < 3; k++) {
      const registry = rnd(4) === 0 ? CR2 : CR
      const cr = (name: string, args: Record<string, unknown>) => out.push({block, contract: registry, kind: 'contributionRegistry', name, args})
      const cid = String(++id)
      const contributor = acct(rnd(6))
      cr('ContributionSubmitted', {contributionId: cid, modelId: String(1 + rnd(3)), contributor, kind: 1, units: String(1 + rnd(100)), evidenceHash: '0x00'})
      for (let v = rnd(3); v > 0; v--) {
        const validator = rnd(4) === 0 ? contributor : acct(rnd(6))
        cr('ContributionValidated', {contributionId: cid, validator, accepted: rnd(4) > 0, score: 5000 + rnd(5000), reportHash: '0x00'})
      }
    }
  }
  const cr = (block: number, name: string, args: Record<string, unknown>) => out.push({block, contract: CR, kind: 'contributionRegistry', name, args})
  cr(to - 1, 'ContributionValidated', {contributionId: String(id + 1), validator: acct(3), accepted: true, score: 7000, reportHash: '0x00'})
  cr(to, 'ContributionSubmitted', {contributionId: String(id + 1), modelId: '2', contributor: acct(3), kind: 1, units: '40', evidenceHash: '0x00'})
  return out
}

/** The tallies by definition: every validation joined to its contribution, counted. */
const FROM_SCRATCH = `
SELECT v.registry, c.model_id, v.validator, count(*) AS validations, count(*) FILTER (WHERE v.validator = c.contributor) AS self_validations
FROM validation v JOIN contribution c ON c.registry = v.registry AND c.contribution_id = v.contribution_id
GROUP BY ALL ORDER BY ALL`

const read = (row: Row) => Object.entries(row).map(([metric, v]) => ({metric, value: v == null ? null : Number(v), exact: v == null ? null : String(v)}))

/** The plan's validations measurement of a registry (model null: protocol-wide) at `block`. */
const validations = (registry: string, model: string | null, block: number): Measurement => ({
  distribution: 'validations',
  scopeKind: model === null ? 'protocol' : 'model',
  scopeId: model ?? registry,
  asOfBlock: block,
  inputs: [{relation: 'validations', sql: VALIDATIONS, params: {registry, model, block}}],
  queries: [
    {sql: VALIDATOR_CONCENTRATION_SQL, params: concentrationParams({}), read},
    {sql: SELF_VALIDATION_SQL, params: {}, read},
  ],
})

/** Model '4' has no contributions: its values are those of an empty set by both routes. */
const MODELS = ['1', '2', '3', '4']

describe('validator tallies kept by the sync', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection

  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  const step = (cut: number, events: TestEvent[]) => applyTestSyncStep(conn, cut, events)
  const kept = () => queryRows(conn, `SELECT registry, model_id, validator, validations, self_validations FROM validator_tally ORDER BY ALL`)
  const groupValidationsExists = async () =>
    Number((await queryRows(conn, `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'group_validations'`))[0]?.n) > 0

  /** Tallies equal their definition; every validations measurement is the same by the tallies' route and the query's. */
  async function expectKeptEqualsDefinition(head: number): Promise<void> {
    expect(await kept()).toEqual(await queryRows(conn, FROM_SCRATCH))
    for (const registry of [CR, CR2]) {
      for (const model of [null, ...MODELS]) {
        const m = validations(registry, model, head)
        const viaTallies = await runFromTallies(conn, m, 0)
        expect(viaTallies, `validations of ${registry}/${model} take the tallies' route at the head`).toBeDefined()
        expect(viaTallies).toEqual(await runMeasurement(conn, m, 0))
      }
      // Per model in one batch (batch.ts): the tallies' twins, without materializing group_validations.
      await conn.run(`DROP TABLE IF EXISTS group_validations`)
      const plan = MODELS.map((model) => validations(registry, model, head))
      const batched = await runBatched(conn, plan, 0)
      expect(await groupValidationsExists(), 'the batch read the tallies, not the validations').toBe(false)
      for (const [i, m] of plan.entries()) {
        const {records, provenance} = await runMeasurement(conn, m, 0)
        expect(batched.get(i)).toEqual({records, provenance})
      }
    }
  }

  it('equal their definition after every step, rollbacks included, and a recomputation from scratch', async () => {
    await step(-1, history(1, 1, 20, 0))
    await expectKeptEqualsDefinition(20)
    // Not vacuous: self-validations, several validators per model, both registries.
    const rows = await kept()
    expect(rows.some((r) => Number(r.self_validations) > 0)).toBe(true)
    expect(new Set(rows.map((r) => r.registry))).toEqual(new Set([CR, CR2]))
    // A rollback of blocks 16..20 replaced by another history, then plain growth, then a deeper rollback.
    await step(15, history(2, 16, 24, 1000))
    await expectKeptEqualsDefinition(24)
    await step(24, history(3, 25, 30, 2000))
    await expectKeptEqualsDefinition(30)
    await step(3, history(4, 4, 8, 3000))
    await expectKeptEqualsDefinition(8)

    const before = await kept()
    await conn.run(`DELETE FROM validator_tally`)
    await initValidatorTallies(conn)
    expect(await kept()).toEqual(before)
  })

  it('a rollback of every validation leaves no rows, as a mirror that never had them', async () => {
    await step(-1, history(5, 1, 10, 0))
    await step(0, [])
    expect(await kept()).toEqual([])
  })

  it('are not used below the head: a block before the last validation runs the measurement', async () => {
    await step(-1, history(6, 1, 20, 0))
    expect(await runFromTallies(conn, validations(CR, null, 5), 0)).toBeUndefined()
    expect(await runFromTallies(conn, validations(CR, null, 20), 0)).toBeDefined()
    await runBatched(conn, MODELS.map((model) => validations(CR, model, 5)), 0)
    expect(await groupValidationsExists(), 'below the head the batch materialized the validations').toBe(true)
  })
})
