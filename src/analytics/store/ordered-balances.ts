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
  private constructor(
    private hi: Float64Array,
    private lo: Float64Array,
    private total: bigint,
  ) {}

  get count(): number {
    return this.hi.length
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
    // The total in two limbs with carries, as figures() sums: exact below 2^104.
    let th = 0
    let tl = 0
    for (let i = 0; i < hi.length; i++) {
      const h = hi[i]!
      const l = lo[i]!
      if (h >= BASE) return undefined
      if (!(Number.isInteger(h) && Number.isInteger(l) && h >= 0 && l >= 0 && l < BASE) || (h === 0 && l === 0)) {
        throw new Error(`fromSortedLimbs: not a positive balance in limbs at ${i}: ${h}, ${l}`)
      }
      if (i > 0 && less(h, l, hi[i - 1]!, lo[i - 1]!)) throw new Error(`fromSortedLimbs: not sorted at ${i}`)
      tl += l
      if (tl >= BASE) {
        tl -= BASE
        th += 1
      }
      th += h
      if (th >= BASE) return undefined
    }
    const total = fromLimbs(th, tl)
    if (total >= LIMIT) return undefined
    return new OrderedBalances(hi, lo, total)
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

  /**
   * Applies the changes of one or more sync steps, in any order: every positive old balance leaves the multiset,
   * every positive new balance enters it (a value that leaves in a later step after entering in an earlier one
   * cancels out). Returns false, changing nothing, when a leaving value is not there (the structure does not stand
   * for the state the changes were made to) or a value or the total would reach LIMIT: the caller rebuilds.
   */
  apply(changes: readonly BalanceChange[]): boolean {
    const out: bigint[] = []
    const into: bigint[] = []
    let total = this.total
    for (const c of changes) {
      if (c.old !== null && c.old > 0n) {
        out.push(c.old)
        total -= c.old
      }
      if (c.new > 0n) {
        into.push(c.new)
        total += c.new
      }
    }
    if (total >= LIMIT || into.some((w) => w >= LIMIT)) return false
    const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0)
    out.sort(cmp)
    into.sort(cmp)
    // Cancel the values that both leave and enter (two sorted lists, as multisets).
    const leaving: bigint[] = []
    const entering: bigint[] = []
    let i = 0
    let j = 0
    while (i < out.length || j < into.length) {
      if (j >= into.length || (i < out.length && out[i]! < into[j]!)) leaving.push(out[i++]!)
      else if (i >= out.length || into[j]! < out[i]!) entering.push(into[j++]!)
      else {
        i++
        j++
      }
    }
    const n = this.hi.length - leaving.length + entering.length
    if (n < 0) return false
    const hi = new Float64Array(n)
    const lo = new Float64Array(n)
    const [lh, ll] = [leaving.map((w) => toLimbs(w)[0]), leaving.map((w) => toLimbs(w)[1])]
    const [eh, el] = [entering.map((w) => toLimbs(w)[0]), entering.map((w) => toLimbs(w)[1])]
    // One merge pass: old values in order, skipping one occurrence per leaving value, entering values merged in.
    let a = 0 // old
    let l = 0 // leaving
    let e = 0 // entering
    let k = 0 // out
    const old = this.hi.length
    while (a < old || e < entering.length) {
      if (a < old && l < leaving.length && this.hi[a] === lh[l] && this.lo[a] === ll[l]) {
        a++
        l++
        continue
      }
      if (a < old && l < leaving.length && less(lh[l]!, ll[l]!, this.hi[a]!, this.lo[a]!)) return false // not there
      if (e < entering.length && (a >= old || less(eh[e]!, el[e]!, this.hi[a]!, this.lo[a]!))) {
        hi[k] = eh[e]!
        lo[k++] = el[e++]!
      } else {
        hi[k] = this.hi[a]!
        lo[k++] = this.lo[a++]!
      }
    }
    if (l < leaving.length || k !== n) return false
    this.hi = hi
    this.lo = lo
    this.total = total
    return true
  }

  /**
   * The order statistics (see the module comment), in one pass from the largest balance. `maxPoints` is the query's
   * $max_points (>= 2); `quorumWad` its $quorum_wad as an integer (null: none). Undefined for an empty distribution.
   */
  figures(maxPoints: number, quorumWad: bigint | null): OrderFigures | undefined {
    const n = this.hi.length
    if (n === 0) return undefined
    const W = this.total
    const [wh, wl] = toLimbs(W)
    const quorum = quorumWad === null ? null : (W / 10n ** 18n) * quorumWad + ((W % 10n ** 18n) * quorumWad) / 10n ** 18n
    const [qh, ql] = quorum === null ? [0, 0] : quorum >= LIMIT ? [BASE, 0] : toLimbs(quorum)
    const top1pctK = Math.floor((n + 99) / 100)
    const top10K = Math.min(10, n)
    const m = maxPoints
    const keepAll = n + 1 <= m
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
    for (let k = 1; k <= n; k++) {
      const i = n - k
      dl += this.lo[i]!
      if (dl >= BASE) {
        dl -= BASE
        dh += 1
      }
      dh += this.hi[i]!
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
      if (nakamoto50 === null) {
        // 2·D_k > W, with 2·D_k = (2·dh + carry, 2·dl mod 2^52)
        const twiceLo = dl * 2
        const twiceHi = dh * 2 + (twiceLo >= BASE ? 1 : 0)
        if (less(wh, wl, twiceHi, twiceLo >= BASE ? twiceLo - BASE : twiceLo)) nakamoto50 = k
      }
      if (quorum !== null && nakamotoQuorum === null && less(qh, ql, dh, dl)) nakamotoQuorum = k
      if (k === 1) top1 = fromLimbs(dh, dl)
      if (k === top10K) top10 = fromLimbs(dh, dl)
      if (k === top1pctK) top1pct = fromLimbs(dh, dl)
      if (k < n && (keepAll || Math.floor(((n - k) * (m - 1)) / n) !== Math.floor(((n - k - 1) * (m - 1)) / n))) {
        lorenzK.push(k)
        lorenzCum.push(fromLimbs(dh, dl))
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
