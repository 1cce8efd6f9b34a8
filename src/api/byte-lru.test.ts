import {describe, expect, it} from 'vitest'
import {ByteLru} from './byte-lru'
import {cacheKey, canonicalJson} from './response-cache'

describe('ByteLru', () => {
  it('evicts the least recently used entries until the new one fits, by bytes not by count', () => {
    const lru = new ByteLru<string>(100)
    lru.set('a', 'A', 40)
    lru.set('b', 'B', 40)
    expect(lru.get('a')).toBe('A') // a is now the most recently used
    lru.set('c', 'C', 40) // 120 > 100: b goes, not a
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual(['A', undefined, 'C'])
    expect(lru.bytes).toBe(80)
    lru.set('d', 'D', 90) // only d fits
    expect([lru.size, lru.bytes, lru.get('d')]).toEqual([1, 90, 'D'])
  })

  it('refuses an entry larger than the bound, replaces a key in place, and clears', () => {
    const lru = new ByteLru<string>(100)
    lru.set('a', 'A', 60)
    expect(lru.set('huge', 'H', 101)).toBe(false)
    expect(lru.get('a')).toBe('A') // nothing evicted for it
    lru.set('a', 'A2', 10)
    expect([lru.get('a'), lru.bytes, lru.size]).toEqual(['A2', 10, 1])
    lru.clear()
    expect([lru.size, lru.bytes, lru.get('a')]).toEqual([0, 0, undefined])
  })
})

describe('response cache keys', () => {
  it('are the same for the same variables in any key order, and differ by any value, operationName or text', () => {
    expect(canonicalJson({b: [1, {y: 2, x: null}], a: 'x'})).toBe('{"a":"x","b":[1,{"x":null,"y":2}]}')
    expect(cacheKey('q', null, {a: 1, b: 2})).toBe(cacheKey('q', undefined, {b: 2, a: 1}))
    const keys = [cacheKey('q', null, {a: 1}), cacheKey('q', null, {a: '1'}), cacheKey('q', 'A', {a: 1}), cacheKey('q ', null, {a: 1}), cacheKey('q', null, {})]
    expect(new Set(keys).size).toBe(keys.length)
    // Absent variables and {} are the same request.
    expect(cacheKey('q', null, undefined)).toBe(cacheKey('q', null, {}))
  })
})
