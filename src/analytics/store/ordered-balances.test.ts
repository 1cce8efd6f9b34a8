import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {type BalanceChange, LIMIT, OrderedBalances, type OrderFigures} from './ordered-balances'

/**
 * OrderedBalances against a plain BigInt reference of the definitions (concentration.ts, LORENZ_KEPT): every figure
 * from the balances sorted from the largest, with the cumulative sums D_k. head-balances.test.ts then checks the whole
 * row against the query in DuckDB.
 */
function reference(values: readonly bigint[], maxPoints: number, quorumWad: bigint | null): OrderFigures | undefined {
  const w = [...values].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
  const n = w.length
  if (n === 0) return undefined
  const D: bigint[] = []
  w.forEach((x, i) => D.push((D[i - 1] ?? 0n) + x))
  const W = D[n - 1]!
  const quorum = quorumWad === null ? null : (W * quorumWad) / 10n ** 18n
  const firstK = (ok: (d: bigint) => boolean) => {
    const i = D.findIndex(ok)
    return i < 0 ? null : i + 1
  }
  const kept = [...Array(n).keys()].map((i) => i + 1).filter(
    (k) => k < n && (n + 1 <= maxPoints || Math.floor(((n - k) * (maxPoints - 1)) / n) !== Math.floor(((n - k - 1) * (maxPoints - 1)) / n)),
  )
  kept.reverse()
  return {
    n,
    total: W,
    giniNumerator: 2n * D.reduce((a, d) => a + d, 0n) - BigInt(n + 1) * W,
    nakamoto50: firstK((d) => 2n * d > W),
    nakamotoQuorum: quorum === null ? null : firstK((d) => d > quorum),
    top1: D[0]!,
    top10: D[Math.min(10, n) - 1]!,
    top1pct: D[Math.floor((n + 99) / 100) - 1]!,
    lorenzK: kept,
    lorenzCum: kept.map((k) => D[k - 1]!),
  }
}

// Small values (many ties), wei-sized ones, and values near 2^98 whose sums need the carries of every limb.
const balance = fc.oneof(
  fc.bigInt({min: 1n, max: 5n}),
  fc.bigInt({min: 1n, max: 10n ** 24n}),
  fc.bigInt({min: 2n ** 97n, max: 2n ** 98n}),
)
const quorum = fc.option(fc.bigInt({min: 0n, max: 10n ** 18n}), {nil: null})
const points = fc.constantFrom(2, 5, 101)

/** Steps of changes made the way the sync makes them: an account's old balance (if any) and its new one (0: gone). */
function changesOf(accounts: Map<number, bigint>, steps: {account: number; to: bigint}[][]): BalanceChange[] {
  const out: BalanceChange[] = []
  for (const step of steps) {
    for (const {account, to} of step) {
      const old = accounts.get(account) ?? null
      out.push({old, new: to})
      if (to > 0n) accounts.set(account, to)
      else accounts.delete(account)
    }
  }
  return out
}

describe('OrderedBalances', () => {
  it('gives the reference figures, built and after changes applied in batches', () => {
    fc.assert(
      fc.property(
        fc.array(balance, {maxLength: 40}),
        fc.array(fc.array(fc.record({account: fc.nat(50), to: fc.oneof(fc.constant(0n), balance)}), {maxLength: 8}), {maxLength: 4}),
        points,
        quorum,
        (initial, steps, maxPoints, q) => {
          const accounts = new Map(initial.map((w, i) => [i, w]))
          const ordered = OrderedBalances.fromValues(initial)
          if (!ordered) throw new Error('below LIMIT')
          expect(ordered.figures(maxPoints, q)).toEqual(reference(initial, maxPoints, q))
          // Several steps in one batch: an account changed twice cancels its middle value.
          expect(ordered.apply(changesOf(accounts, steps))).toBe(true)
          const now = [...accounts.values()]
          expect(ordered.count).toBe(now.length)
          expect(ordered.sum).toBe(now.reduce((a, w) => a + w, 0n))
          expect(ordered.figures(maxPoints, q)).toEqual(reference(now, maxPoints, q))
        },
      ),
      {numRuns: 300},
    )
  })

  it('takes changes as sorted lists of leaving and entering balances, refresh after refresh, past its capacity', () => {
    /** The changes as head-balances.ts reads them: the positive old and new balances, each list sorted ascending. */
    const sortedLists = (changes: BalanceChange[]) => {
      const limbs = (ws: bigint[]) => {
        const sorted = ws.filter((w) => w > 0n).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        return [Float64Array.from(sorted, (w) => Number(w / 2n ** 52n)), Float64Array.from(sorted, (w) => Number(w % 2n ** 52n))] as const
      }
      const [oldHi, oldLo] = limbs(changes.map((c) => c.old ?? 0n))
      const [newHi, newLo] = limbs(changes.map((c) => c.new))
      return {oldHi, oldLo, newHi, newLo}
    }
    fc.assert(
      fc.property(
        fc.array(balance, {minLength: 1, maxLength: 30}),
        fc.array(fc.array(fc.record({account: fc.nat(3000), to: fc.oneof(fc.constant(0n), balance)}), {maxLength: 1500}), {minLength: 1, maxLength: 5}),
        (initial, steps) => {
          const accounts = new Map(initial.map((w, i) => [i, w]))
          const ordered = OrderedBalances.fromValues(initial)!
          // One refresh per step, alternating the two forms: the merge writes into the arrays the last one left.
          for (const [i, step] of steps.entries()) {
            const changes = changesOf(accounts, [step])
            expect(i % 2 === 0 ? ordered.applyLimbs(sortedLists(changes)) : ordered.apply(changes)).toBe(true)
            const now = [...accounts.values()]
            expect(ordered.count).toBe(now.length)
            expect(ordered.figures(101, 3n * 10n ** 17n)).toEqual(reference(now, 101, 3n * 10n ** 17n))
          }
        },
      ),
      {numRuns: 40},
    )
    // A list that is not sorted is sorted first.
    const ordered = OrderedBalances.fromValues([3n, 1n])!
    expect(ordered.applyLimbs({oldHi: Float64Array.of(0, 0), oldLo: Float64Array.of(3, 1), newHi: Float64Array.of(0, 0), newLo: Float64Array.of(9, 2)})).toBe(true)
    expect(ordered.figures(101, null)).toEqual(reference([9n, 2n], 101, null))
  })

  it('refuses, changing nothing, a change whose old balance it does not hold, and values at the limit', () => {
    const ordered = OrderedBalances.fromValues([5n, 7n, 7n])!
    expect(ordered.apply([{old: 6n, new: 1n}])).toBe(false)
    expect(ordered.apply([{old: 7n, new: 0n}, {old: 7n, new: 0n}, {old: 7n, new: 0n}])).toBe(false)
    expect(ordered.apply([{old: null, new: LIMIT}])).toBe(false)
    expect(ordered.figures(101, null)).toEqual(reference([5n, 7n, 7n], 101, null))
    // Exactly the held multiset can leave: then nothing is left to measure.
    expect(ordered.apply([{old: 7n, new: 0n}, {old: 7n, new: 0n}, {old: 5n, new: 0n}])).toBe(true)
    expect(ordered.count).toBe(0)
    expect(ordered.figures(101, null)).toBeUndefined()
    expect(OrderedBalances.fromValues([LIMIT - 1n, 1n])).toBeUndefined()
    expect(OrderedBalances.fromValues([LIMIT - 2n, 1n])).toBeDefined()
  })

  it('hand-worked: 10, 5, 5, 1 (quorum 40 %)', () => {
    const f = OrderedBalances.fromValues([5n, 1n, 10n, 5n])!.figures(101, 4n * 10n ** 17n)!
    // D = 10, 15, 20, 21; Σ D = 66; 2·66 − 5·21 = 27 (Gini 27 / (4·21)).
    expect(f).toMatchObject({n: 4, total: 21n, giniNumerator: 27n, nakamoto50: 2, nakamotoQuorum: 1, top1: 10n, top10: 21n, top1pct: 10n})
    // 2·10 = 20 is not above 21, 2·15 is; floor(21·0.4) = 8 < 10: one holder passes the quorum share; Lorenz keeps every rank below n, largest first.
    expect(f.lorenzK).toEqual([3, 2, 1])
    expect(f.lorenzCum).toEqual([20n, 15n, 10n])
  })

  it('Nakamoto counts exactly at and one wei past each threshold, where the doubles cannot tell D_k from it', () => {
    // x ≈ 2^100: a double of D_k or W is off by up to ~2^47, so only the exact comparison decides these.
    const x = 2n ** 100n + 12345n
    const cases: {values: bigint[]; quorumWad: bigint; nakamoto50: number; nakamotoQuorum: number}[] = [
      // 2·D_1 = W: not above half; D_1 = floor(W / 2) is not above a 50 % quorum either.
      {values: [x, x], quorumWad: 5n * 10n ** 17n, nakamoto50: 2, nakamotoQuorum: 2},
      // One wei more for the largest: 2·D_1 = W + 1 is above half, and D_1 above floor(W / 2).
      {values: [x + 1n, x], quorumWad: 5n * 10n ** 17n, nakamoto50: 1, nakamotoQuorum: 1},
      // A quorum share one 10^-18 below a half: floor(W · q / 10^18) < D_1.
      {values: [x, x], quorumWad: 5n * 10n ** 17n - 1n, nakamoto50: 2, nakamotoQuorum: 1},
      // Four equal holders: 2·D_2 = W exactly; and the same total split x + 1, x, x, x − 1: 2·D_2 = W + 2.
      {values: [x, x, x, x], quorumWad: 5n * 10n ** 17n, nakamoto50: 3, nakamotoQuorum: 3},
      {values: [x + 1n, x, x, x - 1n], quorumWad: 5n * 10n ** 17n, nakamoto50: 2, nakamotoQuorum: 2},
    ]
    for (const c of cases) {
      const f = OrderedBalances.fromValues(c.values)!.figures(101, c.quorumWad)!
      const want = reference(c.values, 101, c.quorumWad)!
      expect({nakamoto50: f.nakamoto50, nakamotoQuorum: f.nakamotoQuorum}).toEqual({nakamoto50: want.nakamoto50, nakamotoQuorum: want.nakamotoQuorum})
      expect({nakamoto50: f.nakamoto50, nakamotoQuorum: f.nakamotoQuorum}).toEqual({nakamoto50: c.nakamoto50, nakamotoQuorum: c.nakamotoQuorum})
    }
  })

  it('keeps the Lorenz ranks of the rule for every size (1 … 400) and point count', () => {
    for (const maxPoints of [2, 3, 5, 17, 101]) {
      for (let n = 1; n <= 400; n++) {
        const values = Array.from({length: n}, (_, i) => BigInt(i + 1))
        expect(OrderedBalances.fromValues(values)!.figures(maxPoints, null)!.lorenzK).toEqual(reference(values, maxPoints, null)!.lorenzK)
      }
    }
  })
})
