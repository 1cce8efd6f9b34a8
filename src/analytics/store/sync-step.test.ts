import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {mirrorDigest, type TableDigest} from './digest'
import {
  applyTestSyncStep, openTestMirror, rebuiltMirrorDigest, recordStatements, TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, testMulberry,
  type TestEvent,
} from './test-events'

/** Per block from..to: a mint, a transfer between accounts and a vote change, from a seeded generator. */
function tokenHistory(seed: number, from: number, to: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const events: TestEvent[] = []
  for (let block = from; block <= to; block++) {
    events.push({block, contract: T, kind: 'token', name: 'Transfer', args: {from: Z, to: acct(rnd(8)), value: String(BigInt(rnd(1000) + 1) * 10n ** 18n)}})
    events.push({block, contract: T, kind: 'token', name: 'Transfer', args: {from: acct(rnd(8)), to: acct(rnd(8)), value: String(rnd(5))}})
    events.push({block, contract: T, kind: 'token', name: 'DelegateVotesChanged', args: {delegate: acct(rnd(8)), previousVotes: '0', newVotes: String(rnd(1000))}})
  }
  return events
}

/** Every table's digest but audit_event's: the rebuild writes its audit rows afresh, with other hashes. */
function derivedAndTyped(digest: Record<string, TableDigest>): Record<string, TableDigest> {
  const {audit_event: _, ...rest} = digest
  return rest
}

const count = (statements: string[], pattern: RegExp) => statements.filter((s) => pattern.test(s)).length

/**
 * A sync step that rolls back unfinalized blocks and takes new ones (replaceRowsAbove): the balances and the
 * delegates' power take the rows that go and the rows that come in one pass, and the mirror equals a rebuild.
 */
describe('replaceRowsAbove', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection

  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
    await applyTestSyncStep(conn, -1, tokenHistory(1, 1, 12))
  })
  afterEach(() => db.close())

  it('joins the balances and re-reads the touched delegates once when it rolls back and takes new rows', async () => {
    const before = await mirrorDigest(conn)
    const recorded = recordStatements(conn)
    try {
      // Blocks 9..12 go, blocks 9..16 of another history come.
      await applyTestSyncStep(conn, 8, tokenHistory(2, 9, 16))
    } finally {
      recorded.restore()
    }
    expect(count(recorded.statements, /TEMP TABLE balance_touch AS/)).toBe(1)
    expect(count(recorded.statements, /^\s*INSERT INTO delegate_power/)).toBe(1)
    const kept = await mirrorDigest(conn)
    expect(kept.balance_state).not.toEqual(before.balance_state)
    expect(kept.delegate_power).not.toEqual(before.delegate_power)
    expect(derivedAndTyped(kept)).toEqual(derivedAndTyped(await rebuiltMirrorDigest(conn)))
  })

  it('equals a rebuild through rollbacks that bring back older rows, take rows away only, or change nothing', async () => {
    // Rolled back and replaced by the same rows; by more blocks; by fewer (the newest delegate rows are then older ones).
    const steps: [cut: number, events: TestEvent[]][] = [
      [8, tokenHistory(1, 9, 12)],
      [10, tokenHistory(3, 11, 20)],
      [4, tokenHistory(4, 5, 6)],
      [6, []],
      [2, tokenHistory(5, 3, 9)],
    ]
    for (const [cut, events] of steps) {
      await applyTestSyncStep(conn, cut, events)
      expect(derivedAndTyped(await mirrorDigest(conn)), `after the step at ${cut}`).toEqual(derivedAndTyped(await rebuiltMirrorDigest(conn)))
    }
  })
})
