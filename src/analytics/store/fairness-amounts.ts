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
 * Every integer is exact: sums of products go through 26-bit or 35-bit limbs in DOUBLE, moved to BigInt before they
 * could pass 2^53.
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

const TWO_64 = 18446744073709551616
const MASK_64 = (1n << 64n) - 1n
/** DuckDB 1.5's HUGEINT → DOUBLE cast of a non-negative value (Hugeint::Cast<double>). */
export function hugeintToDouble(v: bigint): number {
  return Number(v & MASK_64) + Number(v >> 64n) * TWO_64
}

/** DuckDB's DOUBLE → HUGEINT cast of a non-negative finite double: to the nearest integer, half to even. */
export function roundHalfEven(x: number): number {
  if (x >= 4503599627370496) return x // 2^52: already an integer
  const r = Math.round(x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r
}

/** 2^100 (FIXED_POINT in concentration.ts). */
const FIXED_POINT = 2 ** 100
/** Amounts are split into LIMBS limbs of LIMB_BITS bits for the exact Σ c·a. */
const LIMB_BITS = 26
const LIMBS = 5
const LIMB = 2 ** LIMB_BITS
/** Amounts at or above this (2^125) are refused: the narrow path never has them (2·(rows + 1)·max(C, R) < 2^126). */
const AMOUNT_LIMIT = 1n << 125n

/**
 * The narrow path's bound (fairness.ts: 8.5e37) with a margin: DuckDB judges it on DOUBLE sums, within a relative
 * 1e-9 of the exact ones. A scope at or above it is left to the query (which then takes the wide path, or nearly).
 */
const NARROW_SURELY_BELOW = 8.4e37
/** Above this many entities a product of two doubled ranks (≤ 4n²) could pass 2^53. */
const MAX_ENTITIES = 2 ** 24

export class FairnessAmounts {
  private readonly slotOf = new Map<string, number>()
  private readonly entity: (string | undefined)[] = []
  private readonly c: bigint[] = []
  private readonly r: bigint[] = []
  private readonly cD: number[] = []
  private readonly rD: number[] = []
  /** LIMBS limbs per slot of c, then of r (least significant first). */
  private cLimbs = new Float64Array(0)
  private rLimbs = new Float64Array(0)
  private readonly free: number[] = []
  /** Live slots sorted by (c, slot) and by (r, slot); slots changed since are re-placed by refreshOrders. */
  private cOrder: number[] = []
  private rOrder: number[] = []
  private readonly moved = {c: new Set<number>(), r: new Set<number>()}
  private contributors = 0
  private recipients = 0
  private cTotal = 0n
  private rTotal = 0n

  get entities(): number {
    return this.slotOf.size
  }
  /** Entities with a positive contribution, and with a positive reward: the input rows of each side. */
  get rows(): {contributors: number; recipients: number; contributionTotal: bigint; rewardTotal: bigint} {
    return {contributors: this.contributors, recipients: this.recipients, contributionTotal: this.cTotal, rewardTotal: this.rTotal}
  }

  /** Sets an entity's amount on one side (0 or less: it has none). Throws on an amount the narrow path cannot have. */
  set(entityId: string, side: Side, amount: bigint): void {
    const value = amount > 0n ? amount : 0n
    if (value >= AMOUNT_LIMIT) throw new RangeError(`fairness amount ${value} of ${entityId} is at or above 2^125`)
    let slot = this.slotOf.get(entityId)
    if (slot === undefined) {
      if (value === 0n) return
      slot = this.free.pop() ?? this.entity.length
      this.slotOf.set(entityId, slot)
      this.entity[slot] = entityId
      this.c[slot] = 0n
      this.r[slot] = 0n
      this.cD[slot] = 0
      this.rD[slot] = 0
      this.growLimbs(slot + 1)
      this.cLimbs.fill(0, slot * LIMBS, slot * LIMBS + LIMBS)
      this.rLimbs.fill(0, slot * LIMBS, slot * LIMBS + LIMBS)
      this.moved.c.add(slot)
      this.moved.r.add(slot)
    }
    const [amounts, doubles, limbs] = side === 'c' ? [this.c, this.cD, this.cLimbs] : [this.r, this.rD, this.rLimbs]
    const old = amounts[slot]!
    if (old === value) return
    if (side === 'c') {
      this.cTotal += value - old
      this.contributors += Number(value > 0n) - Number(old > 0n)
    } else {
      this.rTotal += value - old
      this.recipients += Number(value > 0n) - Number(old > 0n)
    }
    amounts[slot] = value
    doubles[slot] = hugeintToDouble(value)
    for (let j = 0, v = value; j < LIMBS; j++, v >>= BigInt(LIMB_BITS)) limbs[slot * LIMBS + j] = Number(v & BigInt(LIMB - 1))
    this.moved[side].add(slot)
    if (this.c[slot] === 0n && this.r[slot] === 0n) {
      // Out of both orders, not only the one whose amount changed.
      this.moved.c.add(slot)
      this.moved.r.add(slot)
      this.slotOf.delete(entityId)
      this.entity[slot] = undefined
      this.free.push(slot)
    }
  }

  /** The summary's integers, or undefined when the scope is not surely on the narrow path (the caller runs the query). */
  figures(margin: number): FairnessFigures | undefined {
    const bound = 2 * (this.contributors + this.recipients + 1) * Number(this.cTotal > this.rTotal ? this.cTotal : this.rTotal)
    if (bound >= NARROW_SURELY_BELOW || this.entities >= MAX_ENTITIES) return undefined
    this.refreshOrders()
    const n = this.cOrder.length
    const base = {n, contributionTotal: this.cTotal, rewardTotal: this.rTotal, over: 0, under: 0}
    if (n === 0) {
      return {...base, tvdFixed: null, giniContributionNumerator: null, giniRewardNumerator: null, rankCov: null, rankVarC: null, rankVarR: null}
    }
    const a = this.doubledRanks(this.cOrder, this.c, this.cD)
    const b = this.doubledRanks(this.rOrder, this.r, this.rD)
    const cTotalD = hugeintToDouble(this.cTotal)
    const rTotalD = hugeintToDouble(this.rTotal)
    const withShares = this.cTotal > 0n && this.rTotal > 0n
    const ca = new ExactLimbSum(LIMBS, LIMB_BITS, 2 ** 53 / (LIMB * 2 * (n + 1)))
    const rb = new ExactLimbSum(LIMBS, LIMB_BITS, 2 ** 53 / (LIMB * 2 * (n + 1)))
    const squares = new ExactLimbSum(3, 0, 2 ** 53 / (4 * (n + 1) * (n + 1)))
    const tvd = new ExactLimbSum(3, 35, 2 ** 18)
    let overCount = 0
    let underCount = 0
    for (const slot of this.cOrder) {
      const as = a[slot]!
      const bs = b[slot]!
      ca.addScaled(this.cLimbs, slot * LIMBS, as)
      rb.addScaled(this.rLimbs, slot * LIMBS, bs)
      squares.add3(as * bs, as * as, bs * bs)
      const cPos = this.cD[slot]! > 0
      const rPos = this.rD[slot]! > 0
      // p, q as FAIRNESS' `shares`: NULL (here NaN, never compared) when the scope's total on that side is 0.
      const p = this.cTotal > 0n ? this.cD[slot]! / cTotalD : NaN
      const q = this.rTotal > 0n ? this.rD[slot]! / rTotalD : NaN
      if (withShares) tvd.addFixedPoint(roundHalfEven(Math.abs(p - q) * FIXED_POINT))
      // FAIRNESS_STATUS: 2 * p * (1 + margin) and 0.5 * p * (1 - margin), evaluated left to right as DuckDB does.
      if (rPos && (!cPos || q > 2 * p * (1 + margin))) overCount++
      else if (cPos && (!rPos || q < 0.5 * p * (1 - margin))) underCount++
    }
    const big = BigInt(n)
    const sumA = big * (big + 1n) // Σ (rank_min + rank_max) over any ranking of n entities
    const [sumAB, sumAA, sumBB] = squares.totals()
    return {
      ...base,
      over: overCount,
      under: underCount,
      tvdFixed: withShares ? tvd.total() : null,
      giniContributionNumerator: ca.total() - (big + 1n) * this.cTotal,
      giniRewardNumerator: rb.total() - (big + 1n) * this.rTotal,
      rankCov: big * sumAB! - sumA * sumA,
      rankVarC: big * sumAA! - sumA * sumA,
      rankVarR: big * sumBB! - sumA * sumA,
    }
  }

  private growLimbs(slots: number): void {
    if (this.cLimbs.length >= slots * LIMBS) return
    const size = Math.max(slots, 2 * (this.cLimbs.length / LIMBS), 64) * LIMBS
    const grow = (old: Float64Array) => {
      const next = new Float64Array(size)
      next.set(old)
      return next
    }
    this.cLimbs = grow(this.cLimbs)
    this.rLimbs = grow(this.rLimbs)
  }

  /** Re-places the slots whose amount changed: out of the order in one pass, sorted among themselves, merged back. */
  private refreshOrders(): void {
    this.cOrder = this.reorder(this.cOrder, this.moved.c, this.c, this.cD)
    this.rOrder = this.reorder(this.rOrder, this.moved.r, this.r, this.rD)
    this.moved.c.clear()
    this.moved.r.clear()
  }

  private reorder(order: number[], moved: Set<number>, amounts: bigint[], doubles: number[]): number[] {
    if (moved.size === 0) return order
    // DuckDB's HUGEINT → DOUBLE cast is monotone on non-negative values, so the doubles order first and the exact
    // amounts only break their ties; the slot makes the order total.
    const less = (x: number, y: number) => {
      const dx = doubles[x]!
      const dy = doubles[y]!
      if (dx !== dy) return dx < dy
      const ax = amounts[x]!
      const ay = amounts[y]!
      return ax !== ay ? ax < ay : x < y
    }
    const kept = order.filter((slot) => !moved.has(slot))
    const placed = [...moved].filter((slot) => this.entity[slot] !== undefined).sort((x, y) => (less(x, y) ? -1 : less(y, x) ? 1 : 0))
    const merged = new Array<number>(kept.length + placed.length)
    let i = 0
    let j = 0
    let k = 0
    while (i < kept.length && j < placed.length) merged[k++] = less(placed[j]!, kept[i]!) ? placed[j++]! : kept[i++]!
    while (i < kept.length) merged[k++] = kept[i++]!
    while (j < placed.length) merged[k++] = placed[j++]!
    return merged
  }

  /**
   * Per slot, rank_min + rank_max of its amount in `order` (ascending, from 1): DuckDB's rank() + count(*) over
   * ORDER BY amount, the doubled average rank of its tie group.
   */
  private doubledRanks(order: number[], amounts: bigint[], doubles: number[]): Float64Array {
    const ranks = new Float64Array(this.entity.length)
    let start = 0
    while (start < order.length) {
      const first = order[start]!
      let end = start + 1
      while (end < order.length && doubles[order[end]!] === doubles[first] && amounts[order[end]!] === amounts[first]) end++
      const doubled = start + 1 + end
      for (let i = start; i < end; i++) ranks[order[i]!] = doubled
      start = end
    }
    return ranks
  }
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

  /** Adds Σ_j limbs[at + j] · 2^(j·limbBits) · factor (each limb · factor below 2^53 / flushEvery). */
  addScaled(limbs: Float64Array, at: number, factor: number): void {
    for (let j = 0; j < this.limbs; j++) this.acc[j]! += limbs[at + j]! * factor
    this.tick()
  }

  /** Adds three separate sums (limbBits 0: the accumulators are independent totals). */
  add3(x: number, y: number, z: number): void {
    this.acc[0]! += x
    this.acc[1]! += y
    this.acc[2]! += z
    this.tick()
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

  /** The separate sums (limbBits 0). */
  totals(): bigint[] {
    this.flush()
    return [...this.big]
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
