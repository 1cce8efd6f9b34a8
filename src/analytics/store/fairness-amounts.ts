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
  /** Scratch for one side's doubled ranks per slot (compute). */
  private ranks = new Float64Array(0)
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
    // The shares' terms and the over/under counts depend on each entity alone: one pass over the slots in memory
    // order. A free slot has no amount on either side, so it adds a zero term and counts nowhere.
    const tvd = new ExactLimbSum(3, 35, 2 ** 18)
    let overCount = 0
    let underCount = 0
    const cDoubles = c.doubles
    const rDoubles = r.doubles
    for (let slot = 0; slot < this.entity.length; slot++) {
      const cd = cDoubles[slot]!
      const rd = rDoubles[slot]!
      // p, q as FAIRNESS' `shares`: NULL (here NaN, never compared) when the scope's total on that side is 0.
      const p = cShares ? cd / cTotalD : NaN
      const q = rShares ? rd / rTotalD : NaN
      if (withShares) tvd.addFixedPoint(roundHalfEven(Math.abs(p - q) * FIXED_POINT))
      // FAIRNESS_STATUS: 2 * p * (1 + margin) and 0.5 * p * (1 - margin), evaluated left to right as DuckDB does.
      if (rd > 0 && (!(cd > 0) || q > 2 * p * (1 + margin))) overCount++
      else if (cd > 0 && (!(rd > 0) || q < 0.5 * p * (1 - margin))) underCount++
    }
    const b = this.scratchRanks()
    const sumBB = doubledRanksInto(this.rOrder, r, b)
    const {sumAA, sumAB} = rankProducts(this.cOrder, c, b)
    const big = BigInt(n)
    const sumA = big * (big + 1n) // Σ (rank_min + rank_max) over any ranking of n entities
    return {
      ...base,
      over: overCount,
      under: underCount,
      tvdFixed: withShares ? tvd.total() : null,
      giniContributionNumerator: sumByPosition(this.cOrder, c.limbs) - (big + 1n) * cTotal,
      giniRewardNumerator: sumByPosition(this.rOrder, r.limbs) - (big + 1n) * rTotal,
      rankCov: big * sumAB - sumA * sumA,
      rankVarC: big * sumAA - sumA * sumA,
      rankVarR: big * sumBB - sumA * sumA,
    }
  }

  /** A per-slot array for one side's doubled ranks, reused across calls (its contents are overwritten). */
  private scratchRanks(): Float64Array {
    if (this.ranks.length < this.entity.length) this.ranks = new Float64Array(Math.max(this.entity.length, 2 * this.ranks.length, 64))
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
 * Σ_i amount(order[i]) · 2(i + 1) over the positions i of an order, exactly: Σ amount · doubled rank (rank_min +
 * rank_max), the Gini numerator's sum, whatever the ties: a tie group's amounts are equal, and its doubled ranks add
 * up to what its positions' 2(i + 1) add up to. The limbs' products are summed in DOUBLE, `every` terms at a time
 * (each below 2^53 / every), and then moved to BigInt.
 */
function sumByPosition(order: Int32Array, limbs: Float64Array): bigint {
  const n = order.length
  const every = Math.max(1, Math.floor(2 ** 53 / (LIMB * 2 * (n + 1))))
  const big = [0n, 0n, 0n, 0n, 0n]
  for (let from = 0; from < n; from += every) {
    const to = Math.min(n, from + every)
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    let s4 = 0
    for (let i = from; i < to; i++) {
      const at = order[i]! * LIMBS
      const f = 2 * i + 2
      s0 += limbs[at]! * f
      s1 += limbs[at + 1]! * f
      s2 += limbs[at + 2]! * f
      s3 += limbs[at + 3]! * f
      s4 += limbs[at + 4]! * f
    }
    big[0]! += BigInt(s0)
    big[1]! += BigInt(s1)
    big[2]! += BigInt(s2)
    big[3]! += BigInt(s3)
    big[4]! += BigInt(s4)
  }
  let sum = 0n
  for (let j = LIMBS - 1; j >= 0; j--) sum = (sum << BigInt(LIMB_BITS)) + big[j]!
  return sum
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

/** How many products of two doubled ranks (each at most 2n) a DOUBLE sum takes before it could pass 2^53. */
const rankTermsPerFlush = (n: number) => Math.max(1, Math.floor(2 ** 53 / (4 * (n + 1) * (n + 1))))

/**
 * Fills ranks[slot] with each slot's doubled rank in `order` (rank_min + rank_max from 1: DuckDB's rank() +
 * count(*) over ORDER BY amount, the doubled average rank of its tie group), and returns Σ rank², exactly.
 */
function doubledRanksInto(order: Int32Array, x: SideAmounts, ranks: Float64Array): bigint {
  const every = rankTermsPerFlush(order.length)
  let sum = 0n
  let acc = 0
  let pending = 0
  for (let start = 0; start < order.length; ) {
    const end = tieGroupEnd(order, x, start)
    const doubled = start + 1 + end
    for (let i = start; i < end; i++) {
      ranks[order[i]!] = doubled
      acc += doubled * doubled
      if (++pending >= every) {
        sum += BigInt(acc)
        acc = 0
        pending = 0
      }
    }
    start = end
  }
  return sum + BigInt(acc)
}

/** Σ a² and Σ a·b, exactly, with a each slot's doubled rank in `order` and b its rank in `otherRanks`. */
function rankProducts(order: Int32Array, x: SideAmounts, otherRanks: Float64Array): {sumAA: bigint; sumAB: bigint} {
  const every = rankTermsPerFlush(order.length)
  let sumAA = 0n
  let sumAB = 0n
  let aa = 0
  let ab = 0
  let pending = 0
  for (let start = 0; start < order.length; ) {
    const end = tieGroupEnd(order, x, start)
    const a = start + 1 + end
    for (let i = start; i < end; i++) {
      aa += a * a
      ab += a * otherRanks[order[i]!]!
      if (++pending >= every) {
        sumAA += BigInt(aa)
        sumAB += BigInt(ab)
        aa = 0
        ab = 0
        pending = 0
      }
    }
    start = end
  }
  return {sumAA: sumAA + BigInt(aa), sumAB: sumAB + BigInt(ab)}
}

/**
 * An exact sum of non-negative integer terms kept in DOUBLE accumulators (one per limb), each moved to a BigInt
 * before it could pass 2^53: `flushEvery` terms fit below 2^53 per accumulator.
 */
class ExactLimbSum {
  private readonly acc: Float64Array
  private readonly big: bigint[]
  private readonly flushEvery: number
  private pending = 0

  constructor(
    private readonly limbs: number,
    private readonly limbBits: number,
    flushEvery: number,
  ) {
    this.acc = new Float64Array(limbs)
    this.big = new Array<bigint>(limbs).fill(0n)
    this.flushEvery = Math.max(1, Math.floor(flushEvery))
  }

  /** Adds a non-negative integer DOUBLE below 2^105, split into three 35-bit limbs (exact: each is a run of its bits). */
  addFixedPoint(x: number): void {
    const hi = Math.floor(x / 2 ** 70)
    const rest = x - hi * 2 ** 70
    const mid = Math.floor(rest / 2 ** 35)
    this.acc[2]! += hi
    this.acc[1]! += mid
    this.acc[0]! += rest - mid * 2 ** 35
    this.tick()
  }

  /** The limbs combined (limbBits > 0). */
  total(): bigint {
    this.flush()
    let sum = 0n
    for (let j = this.limbs - 1; j >= 0; j--) sum = (sum << BigInt(this.limbBits)) + this.big[j]!
    return sum
  }

  private tick(): void {
    if (++this.pending >= this.flushEvery) this.flush()
  }

  private flush(): void {
    for (let j = 0; j < this.limbs; j++) {
      this.big[j]! += BigInt(this.acc[j]!)
      this.acc[j] = 0
    }
    this.pending = 0
  }
}
