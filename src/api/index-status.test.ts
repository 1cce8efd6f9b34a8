import type {Pool} from 'pg'
import {describe, expect, it} from 'vitest'
import {IndexStatusCache} from './index-status'

/** A pool answering readIndexStatus's three statements with the current `height`; counts status reads. */
function fakePool(state: {height: number; reads: number; fail?: boolean}): Pool {
  return {
    async query(sql: string) {
      if (sql.includes('to_regclass')) {
        state.reads++
        if (state.fail) throw new Error('connection lost')
        return {rows: [{t: 'squid_processor.status'}]}
      }
      if (sql.includes('hot_block')) return {rows: []}
      return {rows: [{height: state.height, hash: `0x${state.height}`}]}
    },
  } as unknown as Pool
}

describe('IndexStatusCache', () => {
  it('serves a read younger than maxAgeMs, re-reads after, and fresh() always reads', async () => {
    const state = {height: 10, reads: 0}
    let now = 1_000
    const cache = new IndexStatusCache(fakePool(state), 1000, () => now)
    expect((await cache.recent()).height).toBe(10)
    state.height = 11
    now += 999
    expect((await cache.recent()).height).toBe(10)
    expect(state.reads).toBe(1)
    now += 1
    expect((await cache.recent()).height).toBe(11)
    state.height = 12
    expect((await cache.fresh()).height).toBe(12)
    // fresh() also refreshes what recent() serves.
    expect((await cache.recent()).height).toBe(12)
    expect(state.reads).toBe(3)
  })

  it('does not keep a failed read', async () => {
    const state = {height: 5, reads: 0, fail: true}
    const cache = new IndexStatusCache(fakePool(state), 1000, () => 0)
    await expect(cache.recent()).rejects.toThrow('connection lost')
    state.fail = false
    expect((await cache.recent()).height).toBe(5)
  })
})
