import {describe, expect, it} from 'vitest'
import {describeFork, findForkBelowFinality} from './fork-check'

/** A fake of the two queries fork-check makes: the status row and the audit log's blocks. */
function fakeDb(status: {height: number; hash: string} | undefined, auditBlocks: [number, string][]) {
  return {
    query: async (sql: string) => {
      if (sql.includes('to_regclass')) return {rows: [{t: status ? 'squid_processor.status' : null}]}
      if (sql.includes('.status')) return {rows: status ? [{height: String(status.height), hash: status.hash}] : []}
      return {rows: auditBlocks.map(([block_number, block_hash]) => ({block_number, block_hash}))}
    },
  } as never
}

/** A chain whose blocks from `forkAt` on have other hashes ("b…" instead of "a…"), up to `head`. */
const chain = (forkAt: number, head = 100) => async (h: number) => (h > head ? null : h >= forkAt ? `b${h}` : `a${h}`)
const indexed: [number, string][] = [3, 10, 20, 30, 40, 50].map((h) => [h, `a${h}`])

describe('findForkBelowFinality', () => {
  it('finds nothing while the finalized block is still on the chain', async () => {
    expect(await findForkBelowFinality(fakeDb({height: 50, hash: 'a50'}, indexed), chain(60))).toBeUndefined()
  })

  it('finds nothing before the first batch', async () => {
    expect(await findForkBelowFinality(fakeDb(undefined, []), chain(0))).toBeUndefined()
    expect(await findForkBelowFinality(fakeDb({height: -1, hash: '0x'}, []), chain(0))).toBeUndefined()
  })

  it('locates the fork between the last indexed block still on chain and the first one changed', async () => {
    const fork = await findForkBelowFinality(fakeDb({height: 50, hash: 'a50'}, indexed), chain(25))
    expect(fork).toEqual({finalizedHeight: 50, indexedHash: 'a50', chainHash: 'b50', lastGoodBlock: 20, firstChangedBlock: 30})
    expect(describeFork(fork!, 10)).toContain('between block 21 and block 30')
    const adjacent = await findForkBelowFinality(fakeDb({height: 50, hash: 'a50'}, indexed), chain(21))
    expect(describeFork(adjacent!, 10)).toContain('changed between block 21 and block 30')
  })

  it('reports a chain that no longer reaches the finalized block', async () => {
    const fork = await findForkBelowFinality(fakeDb({height: 50, hash: 'a50'}, indexed), chain(1_000, 45))
    expect(fork?.chainHash).toBeNull()
    expect(describeFork(fork!, 10)).toMatch(/no longer on the chain.*\n.*FINALITY_CONFIRMATIONS=10[\s\S]*npm run reset-index -- --yes/)
  })

  it('says when even the first indexed block changed', async () => {
    const fork = await findForkBelowFinality(fakeDb({height: 50, hash: 'a50'}, indexed), chain(0))
    expect(fork).toMatchObject({lastGoodBlock: -1, firstChangedBlock: 3})
    expect(describeFork(fork!, 10)).toContain('between block 0 and block 3')
    const exact = await findForkBelowFinality(fakeDb({height: 50, hash: 'a50'}, [[29, 'a29'], [30, 'a30']]), chain(30))
    expect(describeFork(exact!, 10)).toContain('changed at block 30,')
  })
})
