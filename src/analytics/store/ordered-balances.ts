/**
 * A token's positive balances kept sorted in the process, so that a refresh at the head reads the order statistics
 * of the balance distribution (the Gini numerator, Nakamoto counts, top-k sums, the Lorenz curve's kept points) off
 * a linear pass instead of sorting a million balances in DuckDB (the window of CONCENTRATION_WITH_LORENZ_SQL: ~0.2 s
 * of every refresh at the benchmark's size). The changes reach it from the sync (balance_changes, balances.ts); it is
 * rebuilt from balance_state when it has none, and whenever it cannot vouch for itself (see head-balances.ts).
 *
 * Every figure is an exact integer, computed with the same definitions as the query's HUGEINT path
 * (concentration.ts): with the balances w ranked from the largest, D_k the sum of the k largest,
 *   gini numerator  2·Σ_k D_k − (n + 1)·W
 *   nakamoto_50     smallest k with 2·D_k > W
 *   nakamoto_quorum smallest k with D_k > floor(W·q / 10^18)          (none: NULL; no q: NULL)
 *   top1, top10, top1pct   D_1, D_min(10, n), D_ceil(n / 100)
 *   Lorenz          the ranks k the query keeps (LORENZ_KEPT) and their D_k, largest rank first.
 * The DOUBLE figures are then formed by DuckDB from these integers with the query's own expressions, so they are the
 * same doubles (head-balances.ts).
 *
 * Representation: each balance as two doubles, hi = floor(w / 2^52) and lo = w mod 2^52, both exact integers, sorted
 * ascending in two Float64Arrays. Balances and the total must stay below 2^104 (LIMIT); a token beyond it is measured
 * by the query. Sums run in 52-bit limbs with explicit carries, every intermediate an exact integer below 2^53.
 */

/**
 * The limb base. A double holds every integer up to 2^53 exactly, so two limbs below 2^52 always add exactly; the
 * carry is taken after each addition.
 */
const BASE = 2 ** 52
const BASE_N = 2n ** 52n
/** Balances and their total stay below this: the two-limb sums (D_k) are exact up to it. */
export const LIMIT = 2n ** 104n

/** A change of one account's balance as the sync applied it (old NULL: no row before; new 0: no row after). */
export interface BalanceChange {
  old: bigint | null
  new: bigint
}

/** The order statistics of OrderedBalances.figures, as exact integers. */
export interface OrderFigures {
  n: number
  total: bigint
  giniNumerator: bigint
  nakamoto50: number | null
  nakamotoQuorum: number | null
  top1: bigint | null
  top10: bigint | null
  top1pct: bigint | null
  /** Kept Lorenz ranks (largest first, as the query's list) and D_k at each. */
  lorenzK: number[]
  lorenzCum: bigint[]
}

const toLimbs = (w: bigint): [number, number] => [Number(w / BASE_N), Number(w % BASE_N)]
const fromLimbs = (hi: number, lo: number): bigint => BigInt(hi) * BASE_N + BigInt(lo)
/** a < b for limb pairs. */
const less = (ah: number, al: number, bh: number, bl: number) => ah < bh || (ah === bh && al < bl)

export class OrderedBalances {
  /**
   * The arrays the next applyLimbs writes into, swapped with hi and lo after it: a refresh's merge of a million
   * balances then allocates nothing (two new 8 MB arrays per refresh, and the collections they caused, cost ~30 ms).
   * Both pairs have the same capacity; the first `size` slots of hi and lo hold the balances.
   */
  private spareHi: Float64Array
  private spareLo: Float64Array

  private constructor(
    private hi: Float64Array,
    private lo: Float64Array,
    private size: number,
    private total: bigint,
  ) {
    this.spareHi = new Float64Array(hi.length)
    this.spareLo = new Float64Array(hi.length)
  }

  get count(): number {
    return this.size
  }

  get sum(): bigint {
    return this.total
  }

  /**
   * From the balances sorted ascending, as limbs (what head-balances.ts reads from DuckDB: hi, lo columns). Values
   * <= 0 must not be among them. Undefined when a value or the total reaches LIMIT (a hi of 2^52 or more: DuckDB's
   * DOUBLE of a larger hi may be rounded, which the check still sees as too large).
   */
  static fromSortedLimbs(hi: Float64Array, lo: Float64Array): OrderedBalances | undefined {
    if (hi.length !== lo.length) throw new Error('fromSortedLimbs: hi and lo differ in length')
    for (let i = 0; i < hi.length; i++) {
      const h = hi[i]!
      const l = lo[i]!
      if (h >= BASE) return undefined
      if (!(Number.isInteger(h) && Number.isInteger(l) && h >= 0 && l >= 0 && l < BASE) || (h === 0 && l === 0)) {
        throw new Error(`fromSortedLimbs: not a positive balance in limbs at ${i}: ${h}, ${l}`)
      }
      if (i > 0 && less(h, l, hi[i - 1]!, lo[i - 1]!)) throw new Error(`fromSortedLimbs: not sorted at ${i}`)
    }
    const total = limbTotal(hi, lo, hi.length)
    if (total === undefined) return undefined
    // Room for growth, so that most merges fit the arrays they have.
    const capacity = hi.length + Math.max(1024, hi.length >> 6)
    const h = new Float64Array(capacity)
    const l = new Float64Array(capacity)
    h.set(hi)
    l.set(lo)
    return new OrderedBalances(h, l, hi.length, total)
  }

  /** From any positive balances (tests, small tokens). */
  static fromValues(values: readonly bigint[]): OrderedBalances | undefined {
    if (values.some((w) => w <= 0n)) throw new Error('fromValues: balances must be positive')
    if (values.some((w) => w >= LIMIT)) return undefined
    const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const hi = new Float64Array(sorted.length)
    const lo = new Float64Array(sorted.length)
    sorted.forEach((w, i) => ([hi[i], lo[i]] = toLimbs(w)))
    return OrderedBalances.fromSortedLimbs(hi, lo)
  }

  /** apply() of changes given as BigInts (tests, small batches): converted to limbs. */
  apply(changes: readonly BalanceChange[]): boolean {
    const limbs = {oldHi: new Float64Array(changes.length), oldLo: new Float64Array(changes.length), newHi: new Float64Array(changes.length), newLo: new Float64Array(changes.length)}
    changes.forEach((c, i) => {
      ;[limbs.oldHi[i], limbs.oldLo[i]] = c.old !== null && c.old > 0n ? (c.old >= LIMIT ? [BASE, 0] : toLimbs(c.old)) : [-1, 0]
      ;[limbs.newHi[i], limbs.newLo[i]] = c.new > 0n ? (c.new >= LIMIT ? [BASE, 0] : toLimbs(c.new)) : [-1, 0]
    })
    return this.applyLimbs(limbs)
  }

  /**
   * Applies the changes of one or more sync steps, in any order: every positive old balance leaves the multiset,
   * every positive new balance enters it (a value that leaves in a later step after entering in an earlier one
   * cancels out). A change's balances come as limbs, hi −1 for none (no row, or not positive). Returns false,
   * changing nothing, when a leaving value is not there (the structure does not stand for the state the changes were
   * made to) or a value or the total would reach LIMIT: the caller rebuilds.
   */
  applyLimbs(changes: ChangeLimbs): boolean {
    const out = sortedLimbs(changes.oldHi, changes.oldLo)
    const into = sortedLimbs(changes.newHi, changes.newLo)
    if (into.hi.some((h) => h >= BASE)) return false
    // Cancel the values that both leave and enter (two sorted lists, as multisets): what remains has no value in both.
    const lh = new Float64Array(out.hi.length)
    const ll = new Float64Array(out.hi.length)
    const eh = new Float64Array(into.hi.length)
    const el = new Float64Array(into.hi.length)
    let leavingCount = 0
    let enteringCount = 0
    for (let i = 0, j = 0; i < out.hi.length || j < into.hi.length; ) {
      if (j >= into.hi.length || (i < out.hi.length && less(out.hi[i]!, out.lo[i]!, into.hi[j]!, into.lo[j]!))) {
        lh[leavingCount] = out.hi[i]!
        ll[leavingCount++] = out.lo[i++]!
      } else if (i >= out.hi.length || less(into.hi[j]!, into.lo[j]!, out.hi[i]!, out.lo[i]!)) {
        eh[enteringCount] = into.hi[j]!
        el[enteringCount++] = into.lo[j++]!
      } else {
        i++
        j++
      }
    }
    const old = this.size
    const n = old - leavingCount + enteringCount
    if (n < 0) return false
    // The new total, exactly: the old one minus the leaving values plus the entering ones.
    const leavingTotal = limbTotal(lh, ll, leavingCount)
    const enteringTotal = limbTotal(eh, el, enteringCount)
    if (leavingTotal === undefined || enteringTotal === undefined) return false
    const total = this.total - leavingTotal + enteringTotal
    if (total >= LIMIT) return false
    if (n > this.spareHi.length) {
      const capacity = n + Math.max(1024, n >> 6)
      this.spareHi = new Float64Array(capacity)
      this.spareLo = new Float64Array(capacity)
    }
    const hi = this.spareHi
    const lo = this.spareLo
    // The changes in ascending order, each placed by binary search in the old values; the runs of old values between
    // them are copied whole.
    let a = 0 // next old value to copy
    let k = 0 // next slot of the result
    const [oldHi, oldLo] = [this.hi, this.lo]
    const copyUpTo = (p: number): boolean => {
      if (k + p - a > n) return false // more old values stay than the changes allow: one of them was not there
      // An element loop: the runs are short (~30 values at a million balances and 15,000 changes), where set() of a
      // subarray cost three times as much.
      for (; a < p; a++, k++) {
        hi[k] = oldHi[a]!
        lo[k] = oldLo[a]!
      }
      return true
    }
    for (let l = 0, e = 0; l < leavingCount || e < enteringCount; ) {
      if (e >= enteringCount || (l < leavingCount && less(lh[l]!, ll[l]!, eh[e]!, el[e]!))) {
        const vh = lh[l]!
        const vl = ll[l]!
        if (!copyUpTo(this.lowerBound(vh, vl, a))) return false
        if (a >= old || oldHi[a] !== vh || oldLo[a] !== vl) return false // not there
        a++
        l++
      } else {
        const vh = eh[e]!
        const vl = el[e]!
        if (!copyUpTo(this.lowerBound(vh, vl, a)) || k >= n) return false
        hi[k] = vh
        lo[k++] = vl
        e++
      }
    }
    if (!copyUpTo(old) || k !== n) return false
    this.spareHi = oldHi
    this.spareLo = oldLo
    this.hi = hi
    this.lo = lo
    this.size = n
    this.total = total
    return true
  }

  /** The first index at or after `from` whose value is not below (vh, vl). */
  private lowerBound(vh: number, vl: number, from: number): number {
    let lo = from
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (less(this.hi[mid]!, this.lo[mid]!, vh, vl)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * The order statistics (see the module comment), in one pass from the largest balance. `maxPoints` is the query's
   * $max_points (>= 2); `quorumWad` its $quorum_wad as an integer (null: none). Undefined for an empty distribution.
   */
  figures(maxPoints: number, quorumWad: bigint | null): OrderFigures | undefined {
    const n = this.size
    if (n === 0) return undefined
    const W = this.total
    const [wh, wl] = toLimbs(W)
    const quorum = quorumWad === null ? null : (W / 10n ** 18n) * quorumWad + ((W % 10n ** 18n) * quorumWad) / 10n ** 18n
    const [qh, ql] = quorum === null ? [0, 0] : quorum >= LIMIT ? [BASE, 0] : toLimbs(quorum)
    const top1pctK = Math.floor((n + 99) / 100)
    const top10K = Math.min(10, n)
    const kept = keptLorenzRanks(n, maxPoints)
    let next = 0
    let dh = 0
    let dl = 0
    // Σ_k D_k in three limbs: g0 + g1·2^52 + g2·2^104.
    let g0 = 0
    let g1 = 0
    let g2 = 0
    let nakamoto50: number | null = null
    let nakamotoQuorum: number | null = null
    let top1: bigint | null = null
    let top10: bigint | null = null
    let top1pct: bigint | null = null
    const lorenzK: number[] = []
    const lorenzCum: bigint[] = []
    // The ranks where something is read off D_k, in order; the loop checks only the next one (and the Nakamoto
    // thresholds until each is passed): a million ranks per refresh.
    const events = [...new Set([1, top10K, top1pctK, ...kept])].sort((a, b) => a - b)
    let event = 0
    let nextEvent = events[0]!
    let pending50 = true
    let pendingQuorum = quorum !== null
    const surelyBelow = 1 - 2 ** -40
    const near50 = (wh * BASE + wl) * surelyBelow
    const nearQuorum = (qh * BASE + ql) * surelyBelow
    const hiA = this.hi
    const loA = this.lo
    for (let k = 1; k <= n; k++) {
      const i = n - k
      dl += loA[i]!
      if (dl >= BASE) {
        dl -= BASE
        dh += 1
      }
      dh += hiA[i]!
      g0 += dl
      if (g0 >= BASE) {
        g0 -= BASE
        g1 += 1
      }
      g1 += dh
      if (g1 >= BASE) {
        g1 -= BASE
        g2 += 1
      }
      // The exact comparisons run only once D_k is near a threshold: below (1 − 2^-40) times it, the doubles (each
      // within a relative 2^-52 of its integer) already say no. A million ranks per refresh: ~16 → ~10 ms.
      const approx = dh * BASE + dl
      if (pending50 && 2 * approx >= near50) {
        // 2·D_k > W, with 2·D_k = (2·dh + carry, 2·dl mod 2^52)
        const twiceLo = dl * 2
        const twiceHi = dh * 2 + (twiceLo >= BASE ? 1 : 0)
        if (less(wh, wl, twiceHi, twiceLo >= BASE ? twiceLo - BASE : twiceLo)) {
          nakamoto50 = k
          pending50 = false
        }
      }
      if (pendingQuorum && approx >= nearQuorum && less(qh, ql, dh, dl)) {
        nakamotoQuorum = k
        pendingQuorum = false
      }
      if (k === nextEvent) {
        const d = fromLimbs(dh, dl)
        if (k === 1) top1 = d
        if (k === top10K) top10 = d
        if (k === top1pctK) top1pct = d
        if (k === kept[next]) {
          next++
          lorenzK.push(k)
          lorenzCum.push(d)
        }
        nextEvent = events[++event] ?? 0
      }
    }
    if (fromLimbs(dh, dl) !== W) throw new Error('OrderedBalances: the sum of the balances differs from the kept total')
    const sumD = BigInt(g0) + BigInt(g1) * BASE_N + BigInt(g2) * BASE_N * BASE_N
    lorenzK.reverse()
    lorenzCum.reverse()
    return {
      n,
      total: W,
      giniNumerator: 2n * sumD - BigInt(n + 1) * W,
      nakamoto50,
      nakamotoQuorum,
      top1,
      top10,
      top1pct,
      lorenzK,
      lorenzCum,
    }
  }
}

/**
 * Changes as limbs (OrderedBalances.applyLimbs): the old balances (those that leave) and the new ones (those that
 * enter), two lists that may differ in length; hi −1 marks no balance (no row, or not positive), as apply() passes a
 * change's pair. Each list is used as it is when sorted ascending, and sorted otherwise.
 */
export interface ChangeLimbs {
  oldHi: Float64Array
  oldLo: Float64Array
  newHi: Float64Array
  newLo: Float64Array
}

/** The present values (hi >= 0) among limb pairs, sorted ascending. */
function sortedLimbs(hi: Float64Array, lo: Float64Array): {hi: Float64Array; lo: Float64Array} {
  // The changes usually come sorted (head-balances.ts reads them so): then they are used as they are.
  let sorted = true
  for (let i = 0; i < hi.length && sorted; i++) sorted = hi[i]! >= 0 && (i === 0 || !less(hi[i]!, lo[i]!, hi[i - 1]!, lo[i - 1]!))
  if (sorted) return {hi, lo}
  const index: number[] = []
  for (let i = 0; i < hi.length; i++) if (hi[i]! >= 0) index.push(i)
  index.sort((x, y) => hi[x]! - hi[y]! || lo[x]! - lo[y]!)
  return {hi: Float64Array.from(index, (i) => hi[i]!), lo: Float64Array.from(index, (i) => lo[i]!)}
}

/**
 * The ranks k (from the largest, ascending) whose Lorenz point the query keeps (LORENZ_KEPT, concentration.ts):
 * k < n, and with n + 1 > maxPoints only where floor(i·(m − 1) / n) steps, i = n − k. Those steps lie at
 * i = ceil(j·n / (m − 1)) for j = 1 … m − 2; each is checked against the rule itself.
 */
function keptLorenzRanks(n: number, maxPoints: number): number[] {
  const m = maxPoints
  const keep = (k: number) => k >= 1 && k < n && (n + 1 <= m || Math.floor(((n - k) * (m - 1)) / n) !== Math.floor(((n - k - 1) * (m - 1)) / n))
  const ks = new Set<number>()
  if (n + 1 <= m) for (let k = 1; k < n; k++) ks.add(k)
  else for (let j = 1; j < m - 1; j++) for (const i of [Math.ceil((j * n) / (m - 1)), Math.floor((j * n) / (m - 1))]) if (keep(n - i)) ks.add(n - i)
  return [...ks].sort((a, b) => a - b)
}

/**
 * Σ of the first `count` limb pairs, exactly, in two limbs with carries (as figures() sums); undefined when it
 * reaches LIMIT. Every value here is below LIMIT, so each addition stays below 2^53.
 */
function limbTotal(hi: Float64Array, lo: Float64Array, count: number): bigint | undefined {
  let th = 0
  let tl = 0
  for (let i = 0; i < count; i++) {
    tl += lo[i]!
    if (tl >= BASE) {
      tl -= BASE
      th += 1
    }
    th += hi[i]!
    if (th >= BASE) return undefined
  }
  return fromLimbs(th, tl)
}
