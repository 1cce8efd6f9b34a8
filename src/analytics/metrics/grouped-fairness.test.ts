import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FAIRNESS_COPY_SQL, FAIRNESS_MARGIN, FAIRNESS_SQL, FAIRNESS_TABLE_SQL, runFairness } from './fairness'
import {
  FAIRNESS_BY_GROUP_FROM_SUMS_SQL, FAIRNESS_BY_GROUP_SQL, FAIRNESS_COPY_BY_GROUP_FROM_SUMS_SQL, FAIRNESS_COPY_BY_GROUP_SQL,
  FAIRNESS_SUMS_BY_GROUP_SQL, FAIRNESS_SUMS_RELATION, INSIDER_OVERLAP_BY_GROUP_SQL, SELF_VALIDATION_BY_GROUP_SQL,
  VALIDATOR_CONCENTRATION_BY_GROUP_SQL,
} from './grouped-fairness'
import { INSIDER_OVERLAP_SQL } from './insiders'
import { fairnessRef, type AmountRecord } from './reference-fairness'
import { queryOne, queryRows } from './sql-values'
import { copyLinesDiff, differences, sameRow } from './test-compare'
import { loadTable, withOwnDb } from './test-fixtures'
import { SELF_VALIDATION_SQL, VALIDATOR_CONCENTRATION_SQL } from './validators'

/** As grouped.test.ts: every grouped fairness query equals its single query over each group's rows alone. */
// Amounts near 2^126 now and then: two of them take a group's sums beyond HUGEINT (the wide paths, BIGNUM totals).
const amount = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(fc.constant(0n), fc.constant(-1n), fc.bigInt({ min: 1n, max: 4n }), fc.bigInt({ min: 1n, max: 10n ** 24n })) },
  { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 126n - 10n, max: 2n ** 126n }) },
)
const group = fc.constantFrom('m1', 'm2', 'm3', 'm4')
const who = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f')
const KEYS = ['m1', 'm2', 'm3', 'm5']
// Generous: one run takes ~40 ms alone, but the unit and int projects share two cores (a run once took > 5 s there).
const PER_RUN = { timeout: 30_000 } as const


describe('grouped fairness queries equal the single queries, group by group', () => {
  it('fairness summary, table, validators, self-validation, insiders', () => withOwnDb(async (db) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ g: group, e: who, v: amount }), { maxLength: 25 }),
        fc.array(fc.record({ g: group, e: who, v: amount }), { maxLength: 25 }),
        fc.array(fc.record({ g: group, validator: who, contributor: who }), { maxLength: 25 }),
        fc.array(who, { maxLength: 4 }),
        fc.constantFrom(2, 10_000),
        async (contrib, reward, validations, holders, limit) => {
          const { conn } = db
          await loadTable(conn, 'group_keys', [['g', 'VARCHAR']], KEYS.map((g) => [g]))
          await loadTable(conn, 'group_contrib', [['g', 'VARCHAR'], ['contributor', 'VARCHAR'], ['value', 'HUGEINT']], contrib.map((r) => [r.g, r.e, r.v]))
          await loadTable(conn, 'group_reward', [['g', 'VARCHAR'], ['recipient', 'VARCHAR'], ['amount', 'HUGEINT']], reward.map((r) => [r.g, r.e, r.v]))
          await loadTable(conn, 'group_validations', [['g', 'VARCHAR'], ['validator', 'VARCHAR'], ['contributor', 'VARCHAR']],
            validations.map((r) => [r.g, r.validator, r.contributor]))
          await loadTable(conn, 'top_holders', [['entity', 'VARCHAR']], holders.map((h) => [h]))
          const margin = { margin: FAIRNESS_MARGIN }
          const quorum = { quorum_wad: null }
          const grouped = {
            fairness: await queryRows(conn, FAIRNESS_BY_GROUP_SQL, margin),
            table: await queryRows(conn, FAIRNESS_COPY_BY_GROUP_SQL, { ...margin, limit }),
            validators: await queryRows(conn, VALIDATOR_CONCENTRATION_BY_GROUP_SQL, quorum),
            self: await queryRows(conn, SELF_VALIDATION_BY_GROUP_SQL),
            insiders: await queryRows(conn, INSIDER_OVERLAP_BY_GROUP_SQL),
          }
          for (const rows of [grouped.fairness, grouped.validators, grouped.self, grouped.insiders]) expect(rows.map((r) => r.g)).toEqual(KEYS)
          for (const g of KEYS) {
            await loadTable(conn, 'contrib', [['contributor', 'VARCHAR'], ['value', 'HUGEINT']], contrib.filter((r) => r.g === g).map((r) => [r.e, r.v]))
            await loadTable(conn, 'reward', [['recipient', 'VARCHAR'], ['amount', 'HUGEINT']], reward.filter((r) => r.g === g).map((r) => [r.e, r.v]))
            await loadTable(conn, 'validations', [['validator', 'VARCHAR'], ['contributor', 'VARCHAR']],
              validations.filter((r) => r.g === g).map((r) => [r.validator, r.contributor]))
            const one = (rows: typeof grouped.fairness) => rows.find((r) => r.g === g)!
            expect(sameRow(one(grouped.fairness), await queryOne(conn, FAIRNESS_SQL, margin))).toEqual([])
            expect(sameRow(one(grouped.validators), await queryOne(conn, VALIDATOR_CONCENTRATION_SQL, quorum))).toEqual([])
            expect(sameRow(one(grouped.self), await queryOne(conn, SELF_VALIDATION_SQL))).toEqual([])
            expect(sameRow(one(grouped.insiders), await queryOne(conn, INSIDER_OVERLAP_SQL))).toEqual([])
            // The table as COPY text: the group's lines are the single query's, and they are the definition's rows.
            const single = await queryOne(conn, FAIRNESS_COPY_SQL, { ...margin, limit })
            const mine = grouped.table.filter((r) => r.g === g)
            expect(mine.length).toBe(single.rows === '0' || single.rows === 0 ? 0 : 1)
            expect(mine[0]?.lines ?? null).toBe(single.lines)
            expect(Number(mine[0]?.rows ?? 0)).toBe(Number(single.rows))
            expect(copyLinesDiff(single.lines as string | null, await queryRows(conn, FAIRNESS_TABLE_SQL, { ...margin, limit, offset: 0 }))).toEqual([])
          }
        },
      ),
      { numRuns: 100, ...PER_RUN },
    )
  }), 90_000)
})

describe('grouped fairness: each group takes its own path', () => {
  it('the summary and the table over shared per-entity sums equal the queries, column for column', () => withOwnDb(async (db) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ g: group, e: who, v: amount }), { maxLength: 25 }),
        fc.array(fc.record({ g: group, e: who, v: amount }), { maxLength: 25 }),
        fc.constantFrom(2, 10_000),
        async (contrib, reward, limit) => {
          const { conn } = db
          await loadTable(conn, 'group_keys', [['g', 'VARCHAR']], KEYS.map((g) => [g]))
          await loadTable(conn, 'group_contrib', [['g', 'VARCHAR'], ['contributor', 'VARCHAR'], ['value', 'HUGEINT']], contrib.map((r) => [r.g, r.e, r.v]))
          await loadTable(conn, 'group_reward', [['g', 'VARCHAR'], ['recipient', 'VARCHAR'], ['amount', 'HUGEINT']], reward.map((r) => [r.g, r.e, r.v]))
          const margin = { margin: FAIRNESS_MARGIN }
          await conn.run(`CREATE OR REPLACE TEMP TABLE ${FAIRNESS_SUMS_RELATION} AS ${FAIRNESS_SUMS_BY_GROUP_SQL}`, margin)
          expect(await queryRows(conn, FAIRNESS_BY_GROUP_FROM_SUMS_SQL, margin)).toStrictEqual(await queryRows(conn, FAIRNESS_BY_GROUP_SQL, margin))
          // The table query groups without an order: compare by group.
          const byGroup = async (sql: string) => (await queryRows(conn, sql, { ...margin, limit })).sort((a, b) => String(a.g).localeCompare(String(b.g)))
          expect(await byGroup(FAIRNESS_COPY_BY_GROUP_FROM_SUMS_SQL)).toStrictEqual(await byGroup(FAIRNESS_COPY_BY_GROUP_SQL))
        },
      ),
      { numRuns: 100, ...PER_RUN },
    )
  }), 60_000)

  it('a group within HUGEINT (narrow), one beyond it, one whose 2·n·total is beyond it (wide) and an empty one', () => withOwnDb(async (db) => {
    const { conn } = db
    const big = 2n ** 126n
    const rows: Record<string, { contrib: AmountRecord[]; reward: AmountRecord[] }> = {
      m1: {
        contrib: [{ entity: 'a', amount: 50n }, { entity: 'b', amount: 30n }, { entity: 'c', amount: 30n }],
        reward: [{ entity: 'a', amount: 10n ** 24n }, { entity: 'd', amount: 3n }, { entity: 'b', amount: 7n }],
      },
      m2: {
        contrib: [{ entity: 'a', amount: big + 5n }, { entity: 'b', amount: big - 3n }, { entity: 'c', amount: 7n }],
        reward: [{ entity: 'b', amount: big + 1n }, { entity: 'd', amount: big }, { entity: 'a', amount: 2n }],
      },
      m3: {
        contrib: [{ entity: 'a', amount: 2n ** 125n }, { entity: 'b', amount: 3n }],
        reward: [{ entity: 'a', amount: 1n }, { entity: 'e', amount: 2n ** 124n + 9n }],
      },
    }
    const keys = ['m1', 'm2', 'm3', 'm5']
    const flat = (side: 'contrib' | 'reward') => Object.entries(rows).flatMap(([g, r]) => r[side].map((x) => [g, x.entity, x.amount] as const))
    await loadTable(conn, 'group_keys', [['g', 'VARCHAR']], keys.map((g) => [g]))
    await loadTable(conn, 'group_contrib', [['g', 'VARCHAR'], ['contributor', 'VARCHAR'], ['value', 'HUGEINT']], flat('contrib'))
    await loadTable(conn, 'group_reward', [['g', 'VARCHAR'], ['recipient', 'VARCHAR'], ['amount', 'HUGEINT']], flat('reward'))
    const grouped = await queryRows(conn, FAIRNESS_BY_GROUP_SQL, { margin: FAIRNESS_MARGIN })
    expect(grouped.map((r) => r.g)).toEqual(keys)
    expect(BigInt(String(grouped[1]?.contribution_total))).toBeGreaterThan(2n ** 127n - 1n)
    for (const g of keys) {
      const { contrib, reward } = rows[g] ?? { contrib: [], reward: [] }
      await loadTable(conn, 'contrib', [['contributor', 'VARCHAR'], ['value', 'HUGEINT']], contrib.map((x) => [x.entity, x.amount]))
      await loadTable(conn, 'reward', [['recipient', 'VARCHAR'], ['amount', 'HUGEINT']], reward.map((x) => [x.entity, x.amount]))
      expect(sameRow(grouped.find((r) => r.g === g)!, await queryOne(conn, FAIRNESS_SQL, { margin: FAIRNESS_MARGIN }))).toEqual([])
      expect(differences(await runFairness(conn), fairnessRef(contrib, reward))).toEqual([])
    }
  }))
})
