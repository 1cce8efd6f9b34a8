import {createHash} from 'node:crypto'
import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, insertTestEvents, openTestMirror, testBlockHash, type TestEvent} from './test-events'
import {firstChangedBlock, mirrorTailBlocks, newestTailRowAtOrBelow, type TailBlock} from './unfinalized-tail'

const block = (n: number, over: Partial<TailBlock> = {}): TailBlock => ({block: n, hash: `h${n}`, rows: 2, idsMd5: `m${n}`, lastId: `id${n}`, ...over})

describe('the unfinalized tail, block by block', () => {
  it('finds the lowest block that differs: a hash, a row count, the ids, or a block on one side only', () => {
    const tail = [block(3), block(5), block(8)]
    expect(firstChangedBlock(tail, tail.map((b) => ({...b})))).toBeUndefined()
    expect(firstChangedBlock([], [])).toBeUndefined()
    expect(firstChangedBlock(tail, [block(3), block(5, {hash: 'other'}), block(8)])).toBe(5)
    expect(firstChangedBlock(tail, [block(3), block(5), block(8, {rows: 3})])).toBe(8)
    expect(firstChangedBlock(tail, [block(3, {idsMd5: 'other'}), block(5), block(8)])).toBe(3)
    // A block that appeared under the tail (an empty block replaced by one with rows), or one that went.
    expect(firstChangedBlock(tail, [block(3), block(4), block(5), block(8)])).toBe(4)
    expect(firstChangedBlock(tail, [block(3), block(8)])).toBe(5)
    expect(firstChangedBlock(tail, [block(3), block(5)])).toBe(8)
    expect(firstChangedBlock([], [block(6)])).toBe(6)
    expect(firstChangedBlock([block(6)], [])).toBe(6)
  })

  it('the newest kept row is the largest id at or below the cut', () => {
    const tail = [block(3, {lastId: '0000000003-a'}), block(5, {lastId: '0000000005-a'}), block(8, {lastId: '0000000008-a'})]
    expect(newestTailRowAtOrBelow(tail, 7)).toEqual({id: '0000000005-a', block: 5})
    expect(newestTailRowAtOrBelow(tail, 8)).toEqual({id: '0000000008-a', block: 8})
    expect(newestTailRowAtOrBelow(tail, 2)).toBeUndefined()
  })

  describe('in the mirror', () => {
    let db: AnalyticsDb
    let conn: DuckDBConnection
    beforeEach(async () => {
      ;({db, conn} = await openTestMirror())
    })
    afterEach(() => db.close())

    it('summarizes each block above the height: its hash, rows, the md5 of its sorted ids and its newest id', async () => {
      const events: TestEvent[] = []
      // Log indexes out of order within a block, and a block with one row.
      for (const [b, logIndex] of [[1, 0], [2, 7], [2, 3], [2, 11], [4, 5], [4, 2]] as const) {
        events.push({block: b, logIndex, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(logIndex), value: '1'}})
      }
      const ids = await insertTestEvents(conn, events)
      const idsOf = (b: number) => ids.filter((_, i) => events[i]!.block === b).sort()
      const md5 = (list: string[]) => createHash('md5').update(list.join(',')).digest('hex')
      expect(await mirrorTailBlocks(conn, 1)).toEqual([
        {block: 2, hash: testBlockHash(2), rows: 3, idsMd5: md5(idsOf(2)), lastId: idsOf(2).at(-1)},
        {block: 4, hash: testBlockHash(4), rows: 2, idsMd5: md5(idsOf(4)), lastId: idsOf(4).at(-1)},
      ])
      expect(await mirrorTailBlocks(conn, 4)).toEqual([])
    })
  })
})
