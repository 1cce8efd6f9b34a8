import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {concentrationSqlOver} from '../metrics/concentration'
import {headPowerBuilds, headPowerRebuilds, headPowerRow} from './head-power'
import {VOTING_POWER_FROM_STATE} from './routes'
import {applyTestSyncStep, TEST_TOKEN as T, testAccount as acct, testMulberry, type TestEvent, openTestMirror} from './test-events'
import {keptAndQueryRows} from './test-kept-rows'

const U = '0x' + '3'.repeat(40)
/** The suite's query over delegate_power in place (suite.ts without head-power.ts). */
const QUERY = concentrationSqlOver(VOTING_POWER_FROM_STATE, {lorenz: true})

/**
 * Vote changes of 60 delegates over two tokens, a few per block: equal powers (ties), wei-sized ones, and some
 * delegates falling to 0 (they leave the distribution) or coming back.
 */
function voteChanges(fromBlock: number, toBlock: number, seed: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const out: TestEvent[] = []
  for (let block = fromBlock; block <= toBlock; block++) {
    for (let k = 0; k < 8; k++) {
      const r = rnd(10)
      const votes = r === 0 ? 0n : r < 4 ? 10n ** 21n : BigInt(1 + rnd(100_000)) * 123456789012345n
      out.push({
        block, contract: rnd(3) === 0 ? U : T, kind: 'token', name: 'DelegateVotesChanged',
        args: {delegate: acct(rnd(60)), previousVotes: '0', newVotes: String(votes)},
      })
    }
  }
  return out
}

describe('the voting-power concentration at the head from the power kept in the process', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  /** For both tokens and two parameter sets: the row equals the query's, value for value. */
  async function expectQueryRow(): Promise<void> {
    for (const {kept, query} of await keptAndQueryRows(conn, headPowerRow, QUERY, [T, U])) {
      expect(Number(query.count)).toBeGreaterThan(1)
      expect(kept).toEqual(query)
    }
  }

  it('equals the query through sync steps, taking the changed delegates without rebuilding, and rebuilds after a rollback that put older rows back', async () => {
    await applyTestSyncStep(conn, -1, voteChanges(1, 6, 1))
    await expectQueryRow()
    const builds = headPowerBuilds()
    let head = 6
    for (let step = 0; step < 6; step++) {
      await applyTestSyncStep(conn, head, voteChanges(head + 1, head + 3, 10 + step))
      head += 3
      await expectQueryRow()
    }
    // Every change reached the kept power through the rows above the last id: no build after the first per token.
    expect(headPowerBuilds()).toBe(builds)
    // A reorg: the last two blocks rolled back and replaced. Delegates whose newest change was rolled back get an
    // older row back (an id below the last one seen), which only the check sees.
    const rebuilds = headPowerRebuilds()
    for (let step = 0; step < 4; step++) {
      const cut = head - 2
      await applyTestSyncStep(conn, cut, voteChanges(cut + 1, cut + 3, 30 + step))
      head = cut + 3
      await expectQueryRow()
    }
    expect(headPowerRebuilds()).toBeGreaterThan(rebuilds)
  })

  it('rebuilds when delegate_power changed without a newer row (a writer the kept state cannot see)', async () => {
    await applyTestSyncStep(conn, -1, voteChanges(1, 6, 2))
    await expectQueryRow()
    const rebuilds = headPowerRebuilds()
    const updated = await conn.run(
      `UPDATE delegate_power SET new_votes = new_votes + 1 WHERE token = $t AND delegate = (SELECT min(delegate) FROM delegate_power WHERE token = $t AND new_votes > 0)`,
      {t: T},
    )
    expect(Number(updated.rowsChanged)).toBe(1)
    await expectQueryRow()
    expect(headPowerRebuilds()).toBe(rebuilds + 1)
  })

  it('leaves a token with no delegate power, or a power beyond the limit, to the query', async () => {
    await applyTestSyncStep(conn, -1, [
      {block: 1, contract: T, kind: 'token', name: 'DelegateVotesChanged', args: {delegate: acct(1), previousVotes: '0', newVotes: String(2n ** 104n)}},
      {block: 1, contract: T, kind: 'token', name: 'DelegateVotesChanged', args: {delegate: acct(2), previousVotes: '0', newVotes: '5'}},
    ])
    expect(await headPowerRow(conn, T, null, 101)).toBeUndefined()
    expect(await headPowerRow(conn, U, null, 101)).toBeUndefined()
  })
})
