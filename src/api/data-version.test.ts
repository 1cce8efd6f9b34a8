import type {Pool} from 'pg'
import {describe, expect, it} from 'vitest'
import {DataVersionCache} from './data-version'

/** A pool answering the version statement with whatever `next()` gives (a state text, or an Error to throw). */
function fakePool(next: () => Promise<string | Error>): Pick<Pool, 'query'> {
  return {
    async query() {
      const state = await next()
      if (state instanceof Error) throw state
      return {rows: [{state}]}
    },
  } as unknown as Pick<Pool, 'query'>
}

describe('DataVersionCache', () => {
  it('starts a new generation on every change, also back to an earlier state, and reads at most once per maxAgeMs', async () => {
    const states = ['A', 'A', 'B', 'A']
    let reads = 0
    let now = 0
    const changes: number[] = []
    const v = new DataVersionCache(fakePool(async () => states[reads++]!), 1000, () => now)
    v.onChange((g) => changes.push(g))
    const seen = [await v.current()]
    now += 999
    seen.push(await v.current()) // cached: no read
    for (let i = 0; i < 3; i++) {
      now += 1000
      seen.push(await v.current())
    }
    expect(reads).toBe(4)
    // A, A (cached), A, B, A again: a new generation, so nothing cached under the first A is served.
    expect(seen).toEqual([1, 1, 1, 2, 3])
    expect(changes).toEqual([1, 2, 3])
    expect(v.latest).toBe(3)
  })

  it('lets only a newer read change the generation when reads complete out of order', async () => {
    const pending: ((s: string) => void)[] = []
    let now = 0
    const v = new DataVersionCache(fakePool(() => new Promise<string>((resolve) => pending.push(resolve))), 1000, () => now)
    const older = v.current()
    now += 1000
    const newer = v.current()
    await new Promise((r) => setImmediate(r))
    pending[1]!('B') // the newer read completes first
    expect(await newer).toBe(1)
    pending[0]!('A') // the older one, with the state before B, changes nothing
    expect(await older).toBe(1)
    expect(v.latest).toBe(1)
  })

  it('keeps a failed read for maxAgeMs (no statement per request during an outage), then reads again', async () => {
    let reads = 0
    let fail = true
    let now = 0
    const v = new DataVersionCache(fakePool(async () => (reads++, fail ? new Error('connection refused') : 'A')), 1000, () => now)
    await expect(v.current()).rejects.toThrow('connection refused')
    await expect(v.current()).rejects.toThrow('connection refused')
    expect(reads).toBe(1)
    fail = false
    now += 1000
    expect(await v.current()).toBe(1)
    expect(reads).toBe(2)
  })
})
