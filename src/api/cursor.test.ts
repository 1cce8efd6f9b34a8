import {describe, expect, it} from 'vitest'
import {decodeCursor, encodeCursor} from './cursor'
import {type Keyset, readPage, RowBudget, toConnection} from './pagination'
import type {Row} from './rows'
import {afterCondition, Params} from './sql'

describe('cursors', () => {
  it('round-trip the sort key and are opaque URL-safe text', () => {
    const c = encodeCursor('votes:weight', ['6455836200215232188276', '0000000030-cf8d1-000000'])
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeCursor(c, 'votes:weight', ['decimal', 'string'])).toEqual(['6455836200215232188276', '0000000030-cf8d1-000000'])
    expect(decodeCursor(encodeCursor('m', [12, 'x']), 'm', ['int', 'string'])).toEqual([12, 'x'])
  })

  it('refuse cursors of another list, shape or garbage with BAD_USER_INPUT', () => {
    const c = encodeCursor('votes:weight', ['1', 'a'])
    const bad = [
      () => decodeCursor(c, 'proposals:DESC', ['decimal', 'string']),
      () => decodeCursor(c, 'votes:weight', ['decimal']),
      () => decodeCursor(c, 'votes:weight', ['int', 'string']),
      () => decodeCursor(encodeCursor('k', ['1.5']), 'k', ['decimal']),
      () => decodeCursor('not base64!', 'k', ['string']),
      () => decodeCursor(Buffer.from('{"a":1}').toString('base64url'), 'k', ['string']),
      () => decodeCursor('x'.repeat(2000), 'k', ['string']),
    ]
    for (const f of bad) expect(f).toThrow(expect.objectContaining({extensions: expect.objectContaining({code: 'BAD_USER_INPUT'})}))
  })
})

describe('pages', () => {
  const keyset: Keyset<Row> = {kind: 'k', columns: [['s."weight"', 'numeric'], ['s."id"', 'text']], direction: 'DESC', key: (r) => [String(r.weight), r.id]}
  const settings = {defaultPage: 2, maxPage: 5}

  it('default, bound and charge `first`', () => {
    const budget = new RowBudget(7)
    expect(readPage({}, keyset, settings, budget).limit).toBe(2)
    expect(readPage({first: 5}, keyset, settings, budget).limit).toBe(5)
    expect(() => readPage({first: 1}, keyset, settings, budget)).toThrow(/too many rows/)
    for (const first of [0, -1, 6]) {
      expect(() => readPage({first}, keyset, settings, new RowBudget(100))).toThrow(/first must be between 1 and 5/)
    }
  })

  it('build keyset SQL with bound parameters only', () => {
    const p = new Params()
    expect(afterCondition(p, keyset.columns, 'DESC', ['10', 'x'])).toBe('(s."weight", s."id") < ($1::numeric, $2::text)')
    expect(p.values).toEqual(['10', 'x'])
    expect(afterCondition(new Params(), keyset.columns, 'ASC', undefined)).toBe('TRUE')
  })

  it('turn LIMIT n+1 rows into a page with hasNextPage and an endCursor that continues it', async () => {
    const rows: Row[] = [{id: 'c', weight: '9'}, {id: 'b', weight: '5'}, {id: 'a', weight: '5'}]
    const page = readPage({first: 2}, keyset, settings, new RowBudget(100))
    const conn = toConnection(rows, page, keyset, async () => 3)
    expect(conn.edges.map((e) => e.node.id)).toEqual(['c', 'b'])
    expect(conn.pageInfo.hasNextPage).toBe(true)
    expect(decodeCursor(conn.pageInfo.endCursor!, 'k', ['decimal', 'string'])).toEqual(['5', 'b'])
    expect(await conn.totalCount()).toBe(3)
    const last = toConnection(rows.slice(2), readPage({first: 2, after: conn.pageInfo.endCursor}, keyset, settings, new RowBudget(100)), keyset, async () => 3)
    expect(last.pageInfo).toEqual({hasNextPage: false, endCursor: last.edges[0]!.cursor()})
    expect(toConnection([], page, keyset, async () => 0).pageInfo).toEqual({hasNextPage: false, endCursor: null})
  })
})
