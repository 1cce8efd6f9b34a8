import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {PROPOSAL_WEIGHTS_BY_PROPOSAL, PROPOSAL_WEIGHTS_BY_PROPOSAL_ONE_VOTE_EACH, materialize} from './inputs'
import {withMirrorSnapshot} from './mirror-snapshot'
import {oneVoteEach} from './one-vote-each'
import {materializeGroupedInputWithKeptDigests} from './routes'
import {applyTestSyncStep, TEST_GOVERNOR as G, testAccount as acct, type TestEvent, openTestMirror, recordStatements} from './test-events'

const G2 = '0x' + '5'.repeat(40)

const vote = (block: number, governor: string, voter: number, proposal: number, support: number, weight: string): TestEvent => ({
  block, contract: governor, kind: 'governor', name: 'VoteCast',
  args: {voter: acct(voter), proposalId: String(proposal), support, weight, reason: ''},
})

/** Votes on proposals 1..3 of G, each voter once per proposal: zero weights, every support, a weight near 2^100. */
const singleVotes = (block: number): TestEvent[] => [
  vote(block, G, 1, 1, 1, '10'), vote(block, G, 2, 1, 0, '0'), vote(block, G, 3, 1, 2, '7'),
  vote(block, G, 1, 2, 0, String(2n ** 100n)), vote(block, G, 2, 2, 1, '3'),
  vote(block + 1, G, 4, 3, 1, '5'), vote(block + 1, G, 1, 3, 1, '0'),
]

describe('one vote per voter and proposal, read off the voter tallies', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  it('holds per governor while no pair repeats; a second vote breaks it, and its rollback restores it', async () => {
    await applyTestSyncStep(conn, 0, [...singleVotes(1), vote(1, G2, 1, 1, 1, '4'), vote(2, G2, 2, 1, 0, '4')])
    expect(await oneVoteEach(conn, G)).toBe(true)
    expect(await oneVoteEach(conn, G2)).toBe(true)
    // Voter 1 votes again on G2's proposal 1 (a governor that allowed it), on another side.
    await applyTestSyncStep(conn, 2, [vote(3, G2, 1, 1, 0, '2')])
    expect(await oneVoteEach(conn, G)).toBe(true)
    expect(await oneVoteEach(conn, G2)).toBe(false)
    // The same vote again, as a re-emitted event: still a second row for the pair.
    await applyTestSyncStep(conn, 3, [vote(4, G2, 1, 1, 1, '4')])
    expect(await oneVoteEach(conn, G2)).toBe(false)
    // Both rolled back, and another voter's vote instead.
    await applyTestSyncStep(conn, 2, [vote(3, G2, 3, 1, 0, '2')])
    expect(await oneVoteEach(conn, G2)).toBe(true)
  })

  it('inside a suite, asks once per governor for every connection; outside, each time', async () => {
    await applyTestSyncStep(conn, 0, [...singleVotes(1), vote(2, G2, 1, 1, 1, '4'), vote(2, G2, 1, 1, 0, '4')])
    const other = await db.connect()
    const asked = (c: DuckDBConnection) => recordStatements(c)
    const [mine, theirs] = [asked(conn), asked(other)]
    await withMirrorSnapshot(conn, [other], async () => {
      for (const c of [conn, other, conn]) {
        expect(await oneVoteEach(c, G)).toBe(true)
        expect(await oneVoteEach(c, G2)).toBe(false)
      }
    })
    const tallyReads = (r: {statements: string[]}) => r.statements.filter((s) => s.includes('FROM voter_tally')).length
    expect(tallyReads(mine) + tallyReads(theirs)).toBe(2)
    expect(await oneVoteEach(conn, G)).toBe(true)
    expect(await oneVoteEach(conn, G)).toBe(true)
    mine.restore()
    theirs.restore()
    expect(tallyReads(mine)).toBe(4)
  })

  it('answers false where the tallies do not stand for the votes: not filled yet, or no such table', async () => {
    await applyTestSyncStep(conn, 0, singleVotes(1))
    expect(await oneVoteEach(conn, G)).toBe(true)
    await conn.run(`DELETE FROM voter_tally`)
    expect(await oneVoteEach(conn, G)).toBe(false)
    await conn.run(`DROP TABLE voter_tally`)
    // A connection that never saw the table (hasDerivedTable remembers a table seen per connection).
    const other = await db.connect()
    expect(await oneVoteEach(other, G)).toBe(false)
  })

  /** group_dist by the route and by the query, at `block`: the same rows and types. Returns whether the route was taken. */
  async function expectRouteEqualsQuery(governor: string, block: number | null): Promise<boolean> {
    await conn.run(`CREATE OR REPLACE TEMP TABLE group_keys AS SELECT * FROM (VALUES (0::BIGINT, '1'), (1::BIGINT, '2'), (2::BIGINT, '3'), (3::BIGINT, '9')) k(g, id)`)
    const read = async () =>
      (await conn.runAndReadAll(`SELECT g, entity, w::VARCHAR AS w, typeof(g) AS tg, typeof(w) AS tw FROM group_dist ORDER BY g, entity`)).getRowObjectsJson()
    const recorded = recordStatements(conn)
    await materializeGroupedInputWithKeptDigests(conn, 'group_dist', PROPOSAL_WEIGHTS_BY_PROPOSAL, {governor, block})
    recorded.restore()
    const routed = await read()
    await materialize(conn, 'group_dist', PROPOSAL_WEIGHTS_BY_PROPOSAL, {governor, block})
    expect(routed).toEqual(await read())
    return recorded.statements.some((s) => s.includes(PROPOSAL_WEIGHTS_BY_PROPOSAL_ONE_VOTE_EACH))
  }

  it('the per-proposal weights by that route are the rows of the query, at every block; with a second vote, the query runs', async () => {
    await applyTestSyncStep(conn, 0, [...singleVotes(1), vote(2, G2, 1, 1, 1, '4')])
    for (const block of [null, 0, 1, 2, 100]) expect(await expectRouteEqualsQuery(G, block)).toBe(true)
    expect((await conn.runAndReadAll(`SELECT count(*) AS n FROM group_dist`)).getRowObjectsJson()[0]?.n).toBe('5')
    // Voter 1's second vote on proposal 1: its weights add up per voter, which only the query does.
    await applyTestSyncStep(conn, 2, [vote(3, G, 1, 1, 0, '6')])
    for (const block of [null, 2, 3]) expect(await expectRouteEqualsQuery(G, block)).toBe(false)
    expect((await conn.runAndReadAll(`SELECT w::VARCHAR AS w FROM group_dist WHERE g = 0 AND entity = $v`, {v: acct(1)})).getRowObjectsJson()).toEqual([{w: '16'}])
  })
})
