import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {doubledRanks, rankSums} from '../metrics/reference-fairness'
import {FairnessAmounts} from './fairness-amounts'

/**
 * The figures over kept amounts that changed, at a size where the sums are moved to BigInt many times (every few
 * hundred slots), against a fresh instance holding the same amounts set at once in another order, and against an
 * independent BigInt computation of the integers. kept-fairness.test.ts compares the figures with DuckDB's query on
 * small scopes.
 */
describe('FairnessAmounts', () => {
  it('gives after changes the figures of the same amounts set afresh, and the integers of a BigInt computation', () => {
    // Seeded samples: multiples of 10^15 from a small range (many ties), and wei-sized amounts; 0 takes an amount away.
    const amount = fc.oneof(fc.constant(0n), fc.bigInt({min: 1n, max: 4000n}).map((k) => k * 10n ** 15n), fc.bigInt({min: 1n, max: 10n ** 24n}))
    const initial = fc.sample(fc.record({c: amount, r: fc.option(amount, {nil: undefined})}), {numRuns: 100_000, seed: 3})
    const changes = fc.sample(fc.record({entity: fc.nat(109_999), side: fc.constantFrom('c' as const, 'r' as const), w: amount}), {numRuns: 4000, seed: 4})
    const kept = new FairnessAmounts()
    const final = new Map<string, {c: bigint; r: bigint}>()
    const set = (entity: string, side: 'c' | 'r', w: bigint) => {
      kept.set(entity, side, w)
      const now = final.get(entity) ?? {c: 0n, r: 0n}
      final.set(entity, {...now, [side]: w})
    }
    initial.forEach(({c, r}, i) => {
      set(`e${i}`, 'c', c)
      if (r !== undefined) set(`e${i}`, 'r', r)
    })
    kept.figures(0.05)
    for (const {entity, side, w} of changes) set(`e${entity}`, side, w)
    const followed = kept.figures(0.05)

    const fresh = new FairnessAmounts()
    const entities = [...final.keys()].reverse()
    for (const e of entities) {
      const {c, r} = final.get(e)!
      fresh.set(e, 'r', r)
      fresh.set(e, 'c', c)
    }
    const atOnce = fresh.figures(0.05)
    expect(atOnce).toBeDefined()
    expect(atOnce!.n).toBeGreaterThan(80_000)
    expect(followed).toEqual(atOnce)

    // The integers the sums add up, from an independent BigInt computation (the doubled average ranks).
    const rows = [...final.values()].filter((v) => v.c > 0n || v.r > 0n)
    const cs = rows.map((v) => v.c)
    const rs = rows.map((v) => v.r)
    const n = BigInt(rows.length)
    const sum = (xs: bigint[]) => xs.reduce((s, v) => s + v, 0n)
    const giniNumerator = (ws: bigint[]) => {
      const a = doubledRanks(ws)
      return sum(ws.map((w, i) => w * a[i]!)) - (n + 1n) * sum(ws)
    }
    const ranks = rankSums(cs, rs)
    expect(followed!.n).toBe(rows.length)
    expect(followed!.giniContributionNumerator).toBe(giniNumerator(cs))
    expect(followed!.giniRewardNumerator).toBe(giniNumerator(rs))
    expect(followed!.rankCov).toBe(ranks.cov)
    expect(followed!.rankVarC).toBe(ranks.varC)
    expect(followed!.rankVarR).toBe(ranks.varR)
  })
})
