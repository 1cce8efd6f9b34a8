import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {runFromTallies} from '../jobs/from-tallies'
import {type Measurement, runMeasurement} from '../jobs/measurement'
import {DELEGATE_ACTIVITY_SQL, REPEAT_VOTERS_SQL} from '../metrics/participation'
import {queryRows} from '../metrics/sql-values'
import {VOTES_ALL, VOTING_POWER_AT} from './inputs'
import {applyTestSyncStep, TEST_GOVERNOR as G, TEST_TOKEN as T, testAccount as acct, testMulberry, type TestEvent, openTestMirror, recordStatements} from './test-events'
import {initVoterTallies} from './voter-tallies'

const G2 = '0x' + '5'.repeat(40)

/**
 * Votes on two governors (repeated (proposal, voter) pairs included: the tallies must count a pair once) and
 * delegate vote changes of the token, blocks from..to.
 */
function history(seed: number, from: number, to: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const events: TestEvent[] = []
  for (let block = from; block <= to; block++) {
    for (let k = 0; k < 5; k++) {
      const voter = acct(rnd(15))
      if (rnd(4) === 0) {
        events.push({block, contract: T, kind: 'token', name: 'DelegateVotesChanged', args: {delegate: acct(rnd(20)), previousVotes: '0', newVotes: String(rnd(3) * 1000)}})
      } else {
        const governor = rnd(3) === 0 ? G2 : G
        events.push({block, contract: governor, kind: 'governor', name: 'VoteCast', args: {voter, proposalId: String(rnd(5) + 1), support: rnd(3), weight: String(rnd(100)), reason: ''}})
      }
    }
  }
  return events
}

/** The tallies by definition, from every vote_cast row. */
const FROM_SCRATCH = {
  voters: `SELECT governor, voter, count(DISTINCT proposal_id) AS proposals FROM vote_cast GROUP BY governor, voter ORDER BY governor, voter`,
  governors: `SELECT governor, count(DISTINCT proposal_id) AS proposals FROM vote_cast GROUP BY governor ORDER BY governor`,
}

const governorMeasurements = (governor: string, block: number): Measurement[] => {
  const votesAll = {relation: 'votes_all', sql: VOTES_ALL, params: {governor, block}}
  const read = (row: Record<string, unknown>) => Object.entries(row).map(([metric, v]) => ({metric, value: v == null ? null : Number(v), exact: v == null ? null : String(v)}))
  return [
    {distribution: 'votes', scopeKind: 'governor', scopeId: governor, asOfBlock: block, inputs: [votesAll], queries: [{sql: REPEAT_VOTERS_SQL, params: {min_proposals: 2}, read}]},
    {
      distribution: 'delegates',
      scopeKind: 'governor',
      scopeId: governor,
      asOfBlock: block,
      inputs: [{relation: 'dist', sql: VOTING_POWER_AT, params: {token: T, block}}, votesAll],
      queries: [{sql: DELEGATE_ACTIVITY_SQL, params: {}, read}],
    },
  ]
}

describe('voter tallies kept by the sync', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection

  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  const step = (cut: number, events: TestEvent[]) => applyTestSyncStep(conn, cut, events)

  const kept = async () => ({
    voters: await queryRows(conn, `SELECT governor, voter, proposals FROM voter_tally ORDER BY governor, voter`),
    governors: await queryRows(conn, `SELECT governor, proposals FROM governor_tally ORDER BY governor`),
  })
  const scratch = async () => ({voters: await queryRows(conn, FROM_SCRATCH.voters), governors: await queryRows(conn, FROM_SCRATCH.governors)})

  /** Tallies equal their definition, and both governors' measurements are the same by either route. */
  async function expectKeptEqualsDefinition(head: number): Promise<void> {
    expect(await kept()).toEqual(await scratch())
    for (const governor of [G, G2]) {
      for (const m of governorMeasurements(governor, head)) {
        const recorded = recordStatements(conn)
        const viaTallies = await runFromTallies(conn, m, 0).finally(recorded.restore)
        expect(viaTallies, `${m.distribution} of ${governor} takes the tallies' route at the head`).toBeDefined()
        // Delegate activity reads the voting power in place (delegate_power), not copied into `dist`.
        expect(recorded.statements.filter((sql) => /TEMP TABLE dist\b/.test(sql))).toEqual([])
        expect(viaTallies).toEqual(await runMeasurement(conn, m, 0))
      }
    }
  }

  it('equal their definition after every step, rollbacks included, and a recomputation from scratch', async () => {
    await step(-1, history(1, 1, 20))
    await expectKeptEqualsDefinition(20)
    // Not vacuous: both governors have voters on several proposals, some voters on one only or none.
    const {voters, governors} = await kept()
    expect(governors.map((g) => Number(g.proposals))).toEqual([5, 5])
    expect(new Set(voters.map((v) => Number(v.proposals) >= 2))).toEqual(new Set([true, false]))
    // A rollback of blocks 16..20 replaced by another history, then plain growth, then a deeper rollback.
    await step(15, history(2, 16, 24))
    await expectKeptEqualsDefinition(24)
    await step(24, history(3, 25, 30))
    await expectKeptEqualsDefinition(30)
    await step(3, history(4, 4, 8))
    await expectKeptEqualsDefinition(8)

    const before = await kept()
    await conn.run(`DELETE FROM voter_tally`)
    await conn.run(`DELETE FROM governor_tally`)
    await initVoterTallies(conn)
    expect(await kept()).toEqual(before)
  })

  it('at a block with every vote but not every vote change, delegate activity copies the voting power at that block', async () => {
    await step(-1, history(7, 1, 20))
    await step(20, [{block: 21, contract: T, kind: 'token', name: 'DelegateVotesChanged', args: {delegate: acct(3), previousVotes: '0', newVotes: '5'}}])
    const delegates = governorMeasurements(G, 20)[1]!
    const recorded = recordStatements(conn)
    const viaTallies = await runFromTallies(conn, delegates, 0).finally(recorded.restore)
    expect(recorded.statements.filter((sql) => /TEMP TABLE dist\b/.test(sql))).toHaveLength(1)
    expect(viaTallies).toEqual(await runMeasurement(conn, delegates, 0))
  })

  it('a rollback of every vote leaves no rows, as a mirror that never had them', async () => {
    await step(-1, history(5, 1, 10))
    await step(0, [])
    expect(await kept()).toEqual({voters: [], governors: []})
  })

  it('are not used below the head: a block before the last vote runs the measurement', async () => {
    await step(-1, history(6, 1, 20))
    const [votes] = governorMeasurements(G, 5)
    expect(await runFromTallies(conn, votes!, 0)).toBeUndefined()
    const [atNull] = governorMeasurements(G, 20)
    expect(await runFromTallies(conn, {...atNull!, inputs: [{...atNull!.inputs[0]!, params: {governor: G, block: null}}]}, 0)).toBeDefined()
  })
})
