import { describe, expect, it } from 'vitest'
import { hash32, mulberry32, Rng, tokens } from './prng'

describe('mulberry32', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const c = mulberry32(43)
    const sa = Array.from({ length: 5 }, a)
    expect(Array.from({ length: 5 }, b)).toEqual(sa)
    expect(Array.from({ length: 5 }, c)).not.toEqual(sa)
  })

  it('stays in [0, 1) and is roughly uniform', () => {
    const next = mulberry32(7)
    const buckets = new Array<number>(10).fill(0)
    const n = 100_000
    let outside = 0
    for (let i = 0; i < n; i++) {
      const x = next()
      if (!(x >= 0 && x < 1)) outside++
      else buckets[Math.floor(x * 10)]! += 1
    }
    expect(outside).toBe(0)
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(n / 10 * 0.05)
  })
})

describe('Rng', () => {
  it('fork gives stable, independent streams', () => {
    const r = new Rng(1)
    expect(r.fork('tokens').next()).toBe(new Rng(1).fork('tokens').next())
    expect(r.fork('tokens').next()).not.toBe(r.fork('models').next())
    expect(hash32('a')).not.toBe(hash32('b'))
  })

  it('int covers both ends and nothing outside', () => {
    const r = new Rng(3)
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) seen.add(r.int(2, 5))
    expect([...seen].sort()).toEqual([2, 3, 4, 5])
    expect(() => r.int(3, 2)).toThrow()
  })

  it('weightedIndex follows the weights and never picks zero weight', () => {
    const r = new Rng(5)
    const counts = [0, 0, 0]
    for (let i = 0; i < 30_000; i++) counts[r.weightedIndex([1, 0, 3])]! += 1
    expect(counts[1]).toBe(0)
    expect(counts[2]! / counts[0]!).toBeGreaterThan(2.7)
    expect(counts[2]! / counts[0]!).toBeLessThan(3.3)
  })

  it('shuffle is a permutation and does not mutate its input', () => {
    const input = Array.from({ length: 50 }, (_, i) => i)
    const out = new Rng(9).shuffle(input)
    expect(out).not.toEqual(input)
    expect([...out].sort((a, b) => a - b)).toEqual(input)
    expect(input[0]).toBe(0)
  })

  it('pareto is heavy-tailed with the expected tail exponent', () => {
    const r = new Rng(11)
    const alpha = 1.2
    const xs = Array.from({ length: 50_000 }, () => r.pareto(alpha, 1))
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(1)
    // P(X > x) = x^-alpha: about 6.3% above 10, 0.4% above 100.
    const above10 = xs.filter((x) => x > 10).length / xs.length
    const above100 = xs.filter((x) => x > 100).length / xs.length
    expect(above10).toBeGreaterThan(0.05)
    expect(above10).toBeLessThan(0.078)
    expect(above100).toBeGreaterThan(0.002)
    expect(above100).toBeLessThan(0.007)
    // Heavy tail: the top 1% holds a large part of the total.
    const sorted = [...xs].sort((a, b) => b - a)
    const total = xs.reduce((s, x) => s + x, 0)
    const top1 = sorted.slice(0, xs.length / 100).reduce((s, x) => s + x, 0)
    expect(top1 / total).toBeGreaterThan(0.2)
    expect(r.pareto(alpha, 1, 5)).toBeLessThanOrEqual(5)
  })

  it('tokens converts to 18-decimal wei exactly', () => {
    expect(tokens(1)).toBe(10n ** 18n)
    expect(tokens(0.5)).toBe(5n * 10n ** 17n)
    expect(tokens(1234.000001)).toBe(1234000001n * 10n ** 12n)
  })
})
