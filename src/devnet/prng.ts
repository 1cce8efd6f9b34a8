/**
 * Seeded pseudo-random numbers for the scenario generator.
 *
 * mulberry32 is tiny, fast and good enough for simulation (not for cryptography). Everything the scenario
 * randomises goes through an Rng so that one seed reproduces the same chain history, log for log.
 */

/** mulberry32: a 32-bit state generator returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a over a string, used to derive independent sub-seeds from (seed, label). */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export class Rng {
  private readonly nextFloat: () => number

  constructor(readonly seed: number) {
    this.nextFloat = mulberry32(seed)
  }

  /**
   * An independent stream for a named part of the scenario. Forking by label (not by consuming this stream)
   * keeps one phase's draws stable when another phase changes how many numbers it uses.
   */
  fork(label: string): Rng {
    return new Rng(hash32(`${this.seed}:${label}`))
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextFloat()
  }

  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): empty range`)
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** Index drawn with probability proportional to its (non-negative) weight. */
  weightedIndex(weights: readonly number[]): number {
    const total = weights.reduce((s, w) => s + w, 0)
    if (!(total > 0)) throw new RangeError('weightedIndex needs a positive total weight')
    let r = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] as number
      if (r < 0) return i
    }
    return weights.length - 1
  }

  /** Fisher–Yates shuffle into a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const tmp = out[i] as T
      out[i] = out[j] as T
      out[j] = tmp
    }
    return out
  }

  /**
   * Pareto(alpha, xm) by inversion: xm / U^(1/alpha). alpha ≈ 1.2 gives the heavy tail seen in token
   * holdings (a few whales, many small holders); `cap` bounds the rare astronomically large draw.
   */
  pareto(alpha: number, xm: number, cap = Number.POSITIVE_INFINITY): number {
    const u = 1 - this.next() // (0, 1]
    return Math.min(cap, xm / Math.pow(u, 1 / alpha))
  }
}

const WEI_PER_MICRO = 10n ** 12n

/** Whole-token amount (may be fractional) to 18-decimal wei, exact to 1e-6 token. */
export function tokens(amount: number): bigint {
  return BigInt(Math.round(amount * 1e6)) * WEI_PER_MICRO
}
