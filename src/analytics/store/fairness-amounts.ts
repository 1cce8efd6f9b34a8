/**
 * One fairness scope's amounts kept in the process: per entity its contribution c and reward r (exact), each entity
 * kept in two orders (by c, by r), so that a refresh that changes a few hundred amounts gets the fairness summary's
 * integers (fairness.ts: Gini numerators, the Spearman rank sums, the TVD's fixed-point sum, the over/under counts)
 * from one pass over the entities instead of two sorts in DuckDB. kept-fairness.ts feeds it and forms the DOUBLEs.
 *
 * Only the narrow path (fairness.ts: judgedSql) is computed here, where DuckDB sums and ranks HUGEINT amounts and a
 * share is `c::DOUBLE / C::DOUBLE`. The figures reproduce DuckDB's arithmetic step for step:
 * - HUGEINT → DOUBLE is DuckDB's cast, double(lower 64 bits) + double(upper 64 bits) · 2^64 (hugeintToDouble; it is
 *   not always the correctly rounded double, and fairness-amounts.test.ts checks it against DuckDB's cast);
 * - a share is one IEEE division of two such doubles, as in DuckDB;
 * - a TVD term |p − q| · 2^100 is cast to HUGEINT as DuckDB casts a DOUBLE, rounding half to even;
 * - the over/under tests are the same DOUBLE expressions in the same order (FAIRNESS_STATUS).
 * Every integer is exact without a BigInt per entity: an amount is held as five 26-bit limbs in DOUBLE (read from
 * DuckDB as three 52-bit ones), and sums of products go through limbs in DOUBLE, moved to BigInt before they could
 * pass 2^53.
 */

export type Side = 'c' | 'r'

/** The integers of one scope's fairness summary (the `tot` and `agg` of FAIRNESS_SQL), exact. */
export interface FairnessFigures {
  /** Entities: contributors and recipients with a positive amount. */
  n: number
  contributionTotal: bigint
  rewardTotal: bigint
  /** Σ FIXED_POINT_TERM(|p − q|) over the entities; null when there is none or a total is 0 (the terms are NULL). */
  tvdFixed: bigint | null
  /** Σ c·a − (n + 1)·C with a the doubled average rank by c; null when n = 0. Likewise for r. */
  giniContributionNumerator: bigint | null
  giniRewardNumerator: bigint | null
  /** n Σab − Σa Σb, n Σa² − (Σa)², n Σb² − (Σb)² over the doubled ranks a (by c) and b (by r); null when n = 0. */
  rankCov: bigint | null
  rankVarC: bigint | null
  rankVarR: bigint | null
  over: number
  under: number
}

const TWO_52 = 2 ** 52
const TWO_64 = 2 ** 64
const MASK_52 = (1n << 52n) - 1n
/** DuckDB 1.5's HUGEINT → DOUBLE cast of a non-negative value (Hugeint::Cast<double>). */
export function hugeintToDouble(v: bigint): number {
  const [l0, l1, l2] = limbs52(v)
  return castFromLimbs(l0, l1, l2)
}

/** A non-negative amount as three 52-bit limbs, least significant first (what kept-fairness.ts reads from DuckDB). */
export function limbs52(v: bigint): [number, number, number] {
  return [Number(v & MASK_52), Number((v >> 52n) & MASK_52), Number(v >> 104n)]
}

/**
 * Hugeint::Cast<double> from 52-bit limbs: double(lower 64 bits) + double(upper 64 bits) · 2^64, each double(·) the
 * correctly rounded conversion of a 64-bit integer, which one IEEE addition of its two exact parts is.
 */
function castFromLimbs(l0: number, l1: number, l2: number): number {
  const lower = l0 + (l1 % 4096) * TWO_52
  const upper = Math.floor(l1 / 4096) + l2 * 2 ** 40
  return lower + upper * TWO_64
}

/** DuckDB's DOUBLE → HUGEINT cast of a non-negative finite double: to the nearest integer, half to even. */
export function roundHalfEven(x: number): number {
  if (x >= 4503599627370496) return x // 2^52: already an integer
  const r = Math.round(x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/** 2^100 (FIXED_POINT in concentration.ts). */
const FIXED_POINT = 2 ** 100
/** Amounts are held as LIMBS limbs of LIMB_BITS bits (least significant first) for exact sums of c·a without BigInt. */
const LIMB_BITS = 26
const LIMBS = 5
const LIMB = 2 ** LIMB_BITS
/** Amounts at or above 2^125 (a top 52-bit limb at or above 2^21) are refused: the narrow path never has them. */
const TOP_LIMB_LIMIT = 2 ** 21

/**
 * The narrow path's bound (fairness.ts: 8.5e37) with a margin: DuckDB judges it on DOUBLE sums, within a relative
 * 1e-9 of the exact ones. A scope at or above it is left to the query (which then takes the wide path, or nearly).
 */
const NARROW_SURELY_BELOW = 8.4e37
/** Above this many entities a product of two doubled ranks (≤ 4n²) could pass 2^53. */
const MAX_ENTITIES = 2 ** 24

/** One side's amounts per slot: LIMBS limbs each, and DuckDB's DOUBLE of each. */
interface SideAmounts {
  limbs: Float64Array
  doubles: Float64Array
  moved: Set<number>
  positive: number
  /** Per limb, its sum over the slots: below 2^53 for fewer than 2^27 entities, so exact. */
  limbTotals: Float64Array
}

export class FairnessAmounts {
  private readonly slotOf = new Map<string, number>()
  private readonly entity: (string | undefined)[] = []
  private readonly free: number[] = []
  private readonly sides: Record<Side, SideAmounts> = {
    c: {limbs: new Float64Array(0), doubles: new Float64Array(0), moved: new Set(), positive: 0, limbTotals: new Float64Array(LIMBS)},
    r: {limbs: new Float64Array(0), doubles: new Float64Array(0), moved: new Set(), positive: 0, limbTotals: new Float64Array(LIMBS)},
  }
  /** Live slots sorted by (c, slot) and by (r, slot); slots changed since are re-placed by refreshOrders. */
  private cOrder: Int32Array = new Int32Array(0)
  private rOrder: Int32Array = new Int32Array(0)
  /** Scratch for the sides' doubled ranks per slot (compute). */
  private ranks: [Float64Array, Float64Array] = [new Float64Array(0), new Float64Array(0)]
  /** The last figures, while no amount changed since. */
  private cached: {margin: number; figures: FairnessFigures | undefined} | undefined

  get entities(): number {
    return this.slotOf.size
  }

  /** Entities with a positive contribution, and with a positive reward (each side's input rows), and the exact totals. */
  get rows(): {contributors: number; recipients: number; contributionTotal: bigint; rewardTotal: bigint} {
    return {contributors: this.sides.c.positive, recipients: this.sides.r.positive, contributionTotal: this.total('c'), rewardTotal: this.total('r')}
  }

  /** Sets an entity's amount on one side (0 or less: it has none). */
  set(entityId: string, side: Side, amount: bigint): void {
    const [l0, l1, l2] = amount > 0n ? limbs52(amount) : [0, 0, 0]
    this.setLimbs(entityId, side, l0, l1, l2)
  }

  /**
   * Sets an entity's amount on one side from its three 52-bit limbs (all 0: it has none). Throws on an amount the
   * narrow path cannot have (2^125 or more).
   */
  setLimbs(entityId: string, side: Side, l0: number, l1: number, l2: number): void {
    if (l2 >= TOP_LIMB_LIMIT) throw new RangeError(`fairness amount of ${entityId} is at or above 2^125`)
    const positive = l0 > 0 || l1 > 0 || l2 > 0
    let slot = this.slotOf.get(entityId)
    if (slot === undefined) {
      if (!positive) return
      slot = this.free.pop() ?? this.entity.length
      this.slotOf.set(entityId, slot)
      this.entity[slot] = entityId
      this.grow(slot + 1)
      this.clearSlot(this.sides.c, slot)
      this.clearSlot(this.sides.r, slot)
    }
    const x = this.sides[side]
    const at = slot * LIMBS
    const {limbs} = x
    const a0 = l0 % LIMB
    const a1 = Math.floor(l0 / LIMB)
    const a2 = l1 % LIMB
    const a3 = Math.floor(l1 / LIMB)
    if (limbs[at] === a0 && limbs[at + 1] === a1 && limbs[at + 2] === a2 && limbs[at + 3] === a3 && limbs[at + 4] === l2) return
    this.cached = undefined
    x.positive += Number(positive) - Number(x.doubles[slot]! > 0)
    const totals = x.limbTotals
    totals[0]! += a0 - limbs[at]!
    totals[1]! += a1 - limbs[at + 1]!
    totals[2]! += a2 - limbs[at + 2]!
    totals[3]! += a3 - limbs[at + 3]!
    totals[4]! += l2 - limbs[at + 4]!
    limbs[at] = a0
    limbs[at + 1] = a1
    limbs[at + 2] = a2
    limbs[at + 3] = a3
    limbs[at + 4] = l2
    x.doubles[slot] = castFromLimbs(l0, l1, l2)
    x.moved.add(slot)
    if (this.sides.c.doubles[slot] === 0 && this.sides.r.doubles[slot] === 0) {
      // Out of both orders, not only the one whose amount changed.
      this.sides.c.moved.add(slot)
      this.sides.r.moved.add(slot)
      this.slotOf.delete(entityId)
      this.entity[slot] = undefined
      this.free.push(slot)
    }
  }

  /** The summary's integers, or undefined when the scope is not surely on the narrow path (the caller runs the query). */
  figures(margin: number): FairnessFigures | undefined {
    if (this.cached?.margin === margin) return this.cached.figures
    const figures = this.compute(margin)
    this.cached = {margin, figures}
    return figures
  }

  private compute(margin: number): FairnessFigures | undefined {
    const cTotal = this.total('c')
    const rTotal = this.total('r')
    const bound = 2 * (this.sides.c.positive + this.sides.r.positive + 1) * Number(cTotal > rTotal ? cTotal : rTotal)
    if (bound >= NARROW_SURELY_BELOW || this.entities >= MAX_ENTITIES) return undefined
    this.refreshOrders()
    const n = this.cOrder.length
    const base = {n, contributionTotal: cTotal, rewardTotal: rTotal, over: 0, under: 0}
    if (n === 0) {
      return {...base, tvdFixed: null, giniContributionNumerator: null, giniRewardNumerator: null, rankCov: null, rankVarC: null, rankVarR: null}
    }
    const {c, r} = this.sides
    const cTotalD = hugeintToDouble(cTotal)
    const rTotalD = hugeintToDouble(rTotal)
    const cShares = cTotal > 0n
    const rShares = rTotal > 0n
    const withShares = cShares && rShares
    // Each entity's doubled rank on each side (rank_min + rank_max: ties share their average), written per slot while
    // walking the orders; every sum is then one pass over the slots in memory order. Walking the orders for the sums
    // instead read the amounts in rank order, a cache miss each: ~2.5× the time for 180,000 entities.
    const [a, b] = this.scratchRanks()
    doubledRanksInto(this.cOrder, c, a)
    doubledRanksInto(this.rOrder, r, b)
    const cLimbs = c.limbs
    const rLimbs = r.limbs
    const cDoubles = c.doubles
    const rDoubles = r.doubles
    // Exact sums in DOUBLE accumulators, moved to BigInt every `every` slots, before any could pass 2^53: the Gini
    // numerators' Σ amount · doubled rank per 26-bit limb (a term below 2^26 · 2(n + 1)), the rank products (below
    // 4(n + 1)²), and the TVD's fixed-point terms in three 35-bit limbs (each below 2^35).
    const every = Math.max(1, Math.min(2 ** 18, Math.floor(2 ** 53 / (LIMB * 2 * (n + 1))), Math.floor(2 ** 53 / (4 * (n + 1) * (n + 1)))))
    const ca = new BigLimbs(LIMBS)
    const rb = new BigLimbs(LIMBS)
    const ranks = new BigLimbs(3)
    const tvd = new BigLimbs(3)
    let overCount = 0
    let underCount = 0
    const slots = this.entity.length
    for (let from = 0; from < slots; from += every) {
      const to = Math.min(slots, from + every)
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0
      let r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0
      let aa = 0, bb = 0, ab = 0
      let t0 = 0, t1 = 0, t2 = 0
      for (let slot = from; slot < to; slot++) {
        const cd = cDoubles[slot]!
        const rd = rDoubles[slot]!
        // A free slot (no amount on either side) is in neither order.
        if (!(cd > 0 || rd > 0)) continue
        const as = a[slot]!
        const bs = b[slot]!
        const at = slot * LIMBS
        c0 += cLimbs[at]! * as
        c1 += cLimbs[at + 1]! * as
        c2 += cLimbs[at + 2]! * as
        c3 += cLimbs[at + 3]! * as
        c4 += cLimbs[at + 4]! * as
        r0 += rLimbs[at]! * bs
        r1 += rLimbs[at + 1]! * bs
        r2 += rLimbs[at + 2]! * bs
        r3 += rLimbs[at + 3]! * bs
        r4 += rLimbs[at + 4]! * bs
        aa += as * as
        bb += bs * bs
        ab += as * bs
        // p, q as FAIRNESS' `shares`: NULL (here NaN, never compared) when the scope's total on that side is 0.
        const p = cShares ? cd / cTotalD : NaN
        const q = rShares ? rd / rTotalD : NaN
        if (withShares) {
          // The term |p − q| · 2^100 as DuckDB casts it to HUGEINT (below 2^101), split into 35-bit limbs exactly.
          const x = roundHalfEven(Math.abs(p - q) * FIXED_POINT)
          // (Multiplying by a power of two is exact, as dividing by it is, and cheaper.)
          const hi = Math.floor(x * 2 ** -70)
          const rest = x - hi * 2 ** 70
          const mid = Math.floor(rest * 2 ** -35)
          t2 += hi
          t1 += mid
          t0 += rest - mid * 2 ** 35
        }
        // FAIRNESS_STATUS: 2 * p * (1 + margin) and 0.5 * p * (1 - margin), evaluated left to right as DuckDB does.
        if (rd > 0 && (!(cd > 0) || q > 2 * p * (1 + margin))) overCount++
        else if (cd > 0 && (!(rd > 0) || q < 0.5 * p * (1 - margin))) underCount++
      }
      ca.add5(c0, c1, c2, c3, c4)
      rb.add5(r0, r1, r2, r3, r4)
      ranks.add3(aa, bb, ab)
      tvd.add3(t0, t1, t2)
    }
    const big = BigInt(n)
    const sumA = big * (big + 1n) // Σ (rank_min + rank_max) over any ranking of n entities
    const [sumAA, sumBB, sumAB] = ranks.limbs
    return {
      ...base,
      over: overCount,
      under: underCount,
      tvdFixed: withShares ? tvd.combined(35) : null,
      giniContributionNumerator: ca.combined(LIMB_BITS) - (big + 1n) * cTotal,
      giniRewardNumerator: rb.combined(LIMB_BITS) - (big + 1n) * rTotal,
      rankCov: big * sumAB! - sumA * sumA,
      rankVarC: big * sumAA! - sumA * sumA,
      rankVarR: big * sumBB! - sumA * sumA,
    }
  }

  /** Two per-slot arrays for the sides' doubled ranks, reused across calls (each call overwrites what it reads). */
  private scratchRanks(): [Float64Array, Float64Array] {
    if (this.ranks[0].length < this.entity.length) {
      const size = Math.max(this.entity.length, 2 * this.ranks[0].length, 64)
      this.ranks = [new Float64Array(size), new Float64Array(size)]
    }
    return this.ranks
  }

  /** One side's exact total, from its limb sums. */
  private total(side: Side): bigint {
    const totals = this.sides[side].limbTotals
    let sum = 0n
    for (let j = LIMBS - 1; j >= 0; j--) sum = (sum << BigInt(LIMB_BITS)) + BigInt(totals[j]!)
    return sum
  }

  private clearSlot(x: SideAmounts, slot: number): void {
    x.limbs.fill(0, slot * LIMBS, slot * LIMBS + LIMBS)
    x.doubles[slot] = 0
    x.moved.add(slot)
  }

  private grow(slots: number): void {
    for (const x of [this.sides.c, this.sides.r]) {
      if (x.doubles.length >= slots) continue
      const size = Math.max(slots, 2 * x.doubles.length, 64)
      const limbs = new Float64Array(size * LIMBS)
      limbs.set(x.limbs)
      const doubles = new Float64Array(size)
      doubles.set(x.doubles)
      x.limbs = limbs
      x.doubles = doubles
    }
  }

  /** Re-places the slots whose amount changed: out of the order in one pass, sorted among themselves, merged back. */
  private refreshOrders(): void {
    this.cOrder = this.reorder(this.cOrder, this.sides.c)
    this.rOrder = this.reorder(this.rOrder, this.sides.r)
  }

  private reorder(order: Int32Array, x: SideAmounts): Int32Array {
    if (x.moved.size === 0) return order
    const {limbs, doubles} = x
    // DuckDB's HUGEINT → DOUBLE cast is monotone on non-negative values, so the doubles order first and the limbs
    // (from the most significant) only break their ties; the slot makes the order total.
    const less = (p: number, q: number) => {
      const dp = doubles[p]!
      const dq = doubles[q]!
      if (dp !== dq) return dp < dq
      for (let j = LIMBS - 1; j >= 0; j--) {
        const lp = limbs[p * LIMBS + j]!
        const lq = limbs[q * LIMBS + j]!
        if (lp !== lq) return lp < lq
      }
      return p < q
    }
    const isMoved = new Uint8Array(this.entity.length)
    for (const slot of x.moved) isMoved[slot] = 1
    const kept = new Int32Array(order.length)
    let n = 0
    for (let i = 0; i < order.length; i++) if (isMoved[order[i]!] === 0) kept[n++] = order[i]!
    const placed = [...x.moved].filter((slot) => this.entity[slot] !== undefined).sort((p, q) => (less(p, q) ? -1 : less(q, p) ? 1 : 0))
    x.moved.clear()
    // Each placed slot goes before the first kept slot it is less than (binary search); the runs between are copied.
    const merged = new Int32Array(n + placed.length)
    let from = 0
    let k = 0
    for (const slot of placed) {
      let lo = from
      let hi = n
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (less(kept[mid]!, slot)) lo = mid + 1
        else hi = mid
      }
      merged.set(kept.subarray(from, lo), k)
      k += lo - from
      merged[k++] = slot
      from = lo
    }
    merged.set(kept.subarray(from, n), k)
    return merged
  }
}

/**
 * The tie groups of an order, ascending: [start, end) runs of equal amounts. Equal doubles below 2^53 are equal
 * amounts; above, the limbs decide.
 */
function tieGroupEnd(order: Int32Array, x: SideAmounts, start: number): number {
  const {limbs, doubles} = x
  const first = order[start]!
  const d = doubles[first]!
  let end = start + 1
  if (d < 2 ** 53) {
    while (end < order.length && doubles[order[end]!] === d) end++
    return end
  }
  for (; end < order.length; end++) {
    const p = order[end]!
    if (doubles[p] !== d) break
    let same = true
    for (let j = 0; j < LIMBS && same; j++) same = limbs[p * LIMBS + j] === limbs[first * LIMBS + j]
    if (!same) break
  }
  return end
}

/**
 * Writes ranks[slot], each slot's doubled rank in `order` (rank_min + rank_max from 1: DuckDB's rank() + count(*) over
 * ORDER BY amount, the doubled average rank of its tie group).
 */
function doubledRanksInto(order: Int32Array, x: SideAmounts, ranks: Float64Array): void {
  for (let start = 0; start < order.length; ) {
    const end = tieGroupEnd(order, x, start)
    const doubled = start + 1 + end
    for (let i = start; i < end; i++) ranks[order[i]!] = doubled
    start = end
  }
}

/** Exact non-negative sums kept per limb in BigInt, fed with DOUBLE partial sums that are exact integers. */
class BigLimbs {
  readonly limbs: bigint[]

  constructor(count: number) {
    this.limbs = new Array<bigint>(count).fill(0n)
  }

  add3(x: number, y: number, z: number): void {
    this.limbs[0]! += BigInt(x)
    this.limbs[1]! += BigInt(y)
    this.limbs[2]! += BigInt(z)
  }

  add5(x0: number, x1: number, x2: number, x3: number, x4: number): void {
    this.add3(x0, x1, x2)
    this.limbs[3]! += BigInt(x3)
    this.limbs[4]! += BigInt(x4)
  }

  /** Σ limbs[j] · 2^(j · bits). */
  combined(bits: number): bigint {
    let sum = 0n
    for (let j = this.limbs.length - 1; j >= 0; j--) sum = (sum << BigInt(bits)) + this.limbs[j]!
    return sum
  }
}
