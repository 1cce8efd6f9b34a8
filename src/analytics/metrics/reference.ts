/**
 * Reference implementations of the concentration metrics, written the plain way from the definitions in
 * concentration.ts, on arrays of bigint weights: exact bigint sums and rational values, converted to a number
 * only at the end. They are what the SQL is tested against, and deliberately use different formulas where one
 * exists (Gini from all pairwise differences, not the rank formula; Theil from w/μ, not from shares; the Lorenz
 * down-sampling by ceil positions, not by bucket changes). Not for production: Gini here is O(n²).
 */
import type { ConcentrationResult, LorenzPoint } from './concentration'
import { shareToWad, WAD } from './sql-values'

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length
}

/** num / den as the nearest-ish double (relative error ≈ 2^-53) for any size of bigint. */
export function ratio(num: bigint, den: bigint): number {
  if (den === 0n) throw new RangeError('ratio: division by zero')
  if (den < 0n) return ratio(-num, -den)
  if (num < 0n) return -ratio(-num, den)
  if (num === 0n) return 0
  const shift = bitLength(den) - bitLength(num) + 64 // quotient gets ~64 significant bits
  const q = shift >= 0 ? (num << BigInt(shift)) / den : num / (den << BigInt(-shift))
  return Number(q) * 2 ** -shift
}

/** Positive weights sorted largest first (ties are equal values, so their order cannot matter). */
function positiveDescending(weights: readonly bigint[]): bigint[] {
  return weights.filter((w) => w > 0n).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
}

function sum(values: readonly bigint[]): bigint {
  return values.reduce((acc, v) => acc + v, 0n)
}

/** Smallest k (1-based) such that the k largest weights' sum strictly exceeds num/den of the total. */
export function nakamotoRef(weights: readonly bigint[], num: bigint, den: bigint): number | null {
  const desc = positiveDescending(weights)
  const total = sum(desc)
  let cum = 0n
  for (let k = 1; k <= desc.length; k++) {
    cum += desc[k - 1] ?? 0n
    if (cum * den > total * num) return k
  }
  return null
}

/** Gini from its definition, Σ_i Σ_j |x_i − x_j| / (2 n² μ), over ALL given values (zeros included). */
export function giniOfAll(xs: readonly bigint[]): number | null {
  const n = BigInt(xs.length)
  const total = sum(xs)
  if (n === 0n || total === 0n) return null
  let pairs = 0n
  for (let i = 0; i < xs.length; i++) {
    const xi = xs[i] ?? 0n
    for (let j = i + 1; j < xs.length; j++) {
      const d = xi - (xs[j] ?? 0n)
      pairs += d < 0n ? -d : d
    }
  }
  // Σ over ordered pairs = 2 · pairs; 2 n² μ = 2 n W
  return ratio(2n * pairs, 2n * n * total)
}

/** Gini of the entities of a distribution: the positive weights. */
export function giniRef(weights: readonly bigint[]): number | null {
  return giniOfAll(weights.filter((w) => w > 0n))
}

export function concentrationRef(weights: readonly bigint[], quorumShare?: number): ConcentrationResult {
  const desc = positiveDescending(weights)
  const n = desc.length
  const total = sum(desc)
  const empty: ConcentrationResult = {
    count: 0, total: '0', gini: null, nakamoto50: null, nakamotoQuorum: null, hhi: null, hhiNormalized: null,
    entropy: null, entropyNormalized: null, theil: null, top1Share: null, top10Share: null, top1PctShare: null,
  }
  if (n === 0) return empty
  const bn = BigInt(n)
  const squares = sum(desc.map((w) => w * w))
  const topSum = (k: number): bigint => sum(desc.slice(0, k))
  let entropy = 0
  let theil = 0
  for (const w of desc) {
    const s = ratio(w, total)
    entropy -= s * Math.log(s)
    const relative = ratio(w * bn, total) // w / μ
    theil += (relative * Math.log(relative)) / n
  }
  return {
    count: n,
    total: total.toString(),
    gini: giniRef(desc),
    nakamoto50: nakamotoRef(desc, 1n, 2n),
    nakamotoQuorum: quorumShare === undefined ? null : nakamotoRef(desc, shareToWad(quorumShare), WAD),
    hhi: ratio(squares, total * total),
    // (Σw²/W² − 1/n) / (1 − 1/n) = (n Σw² − W²) / ((n − 1) W²)
    hhiNormalized: n === 1 ? 1 : ratio(bn * squares - total * total, (bn - 1n) * total * total),
    entropy,
    entropyNormalized: n === 1 ? 0 : entropy / Math.log(n),
    theil,
    top1Share: ratio(topSum(1), total),
    top10Share: ratio(topSum(10), total),
    top1PctShare: ratio(topSum(Math.max(1, Math.ceil(n / 100))), total),
  }
}

/** Lorenz curve from the definition in concentration.ts (LORENZ_SQL). */
export function lorenzRef(weights: readonly bigint[], maxPoints?: number): LorenzPoint[] {
  const asc = positiveDescending(weights).reverse()
  const n = asc.length
  if (n === 0) return []
  const total = sum(asc)
  const all: LorenzPoint[] = [{ x: 0, y: 0 }]
  let cum = 0n
  asc.forEach((w, i) => {
    cum += w
    all.push({ x: (i + 1) / n, y: ratio(cum, total) })
  })
  if (maxPoints === undefined || n + 1 <= maxPoints) return all
  const kept: LorenzPoint[] = []
  for (let j = 0; j < maxPoints; j++) {
    const position = (BigInt(j) * BigInt(n) + BigInt(maxPoints - 2)) / BigInt(maxPoints - 1) // ceil(j·n / (m − 1))
    const point = all[Number(position)]
    if (point === undefined) throw new Error('lorenzRef: index out of range')
    kept.push(point)
  }
  return kept
}
