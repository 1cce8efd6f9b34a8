import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {groupedDigestSql} from '../jobs/batch'
import {queryRows} from '../metrics/sql-values'
import {mirrorDigest} from './digest'
import {extractTyped} from './extract'
import {materialize, PROPOSAL_VOTES_BY_PROPOSAL, PROPOSAL_WEIGHTS_BY_PROPOSAL} from './inputs'
import {MIRROR_TABLES} from './schema'
import {TEST_GOVERNOR as G, testAccount as acct, testMulberry, insertTestEvents, type TestEvent, openTestMirror, rebuiltMirrorDigest} from './test-events'
import {dropVoteRowDigestsAbove, initVoteRowDigests, keptGroupedDigests} from './vote-digests'

/**
 * Votes on proposals 1–4 with distinct voters each (some of weight 0, and a voter with a positive and a zero vote on
 * proposal 2), and on proposal 5 a voter with two positive votes: the case the kept weights cannot stand for.
 */
function votes(fromBlock: number, toBlock: number, seed: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const out: TestEvent[] = []
  const vote = (block: number, proposalId: string, voter: string, weight: string): TestEvent =>
    ({block, contract: G, kind: 'governor', name: 'VoteCast', args: {voter, proposalId, support: rnd(3), weight, reason: ''}})
  for (let block = fromBlock; block <= toBlock; block++) {
    for (let p = 1; p <= 4; p++) {
      const weight = rnd(4) === 0 ? '0' : String(BigInt(1 + rnd(1000)) * 10n ** 18n)
      out.push(vote(block, String(p), acct(1000 * p + block), weight))
    }
  }
  out.push(vote(fromBlock, '2', acct(7 + 100 * seed), '5'), vote(toBlock, '2', acct(7 + 100 * seed), '0'))
  out.push(vote(fromBlock, '5', acct(8 + 100 * seed), '5'), vote(toBlock, '5', acct(8 + 100 * seed), '6'))
  return out
}

describe('per-proposal input digests from the kept per-vote numbers', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  /** group_keys as batch.ts writes it: the proposals numbered in order. */
  const keys = async (proposals: string[]) => {
    await conn.run(`CREATE OR REPLACE TEMP TABLE group_keys (g BIGINT NOT NULL, id VARCHAR NOT NULL)`)
    for (const [g, id] of proposals.entries()) await conn.run(`INSERT INTO group_keys VALUES ($g, $id)`, {g, id})
  }
  const byG = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.g) - Number(b.g))

  /** Both grouped inputs at `block` over `proposals`: kept digests equal the hashed rows, or undefined. */
  async function compare(proposals: string[], block: number | null): Promise<{votes: boolean; weights: boolean}> {
    await keys(proposals)
    const out = {votes: false, weights: false}
    for (const [sql, relation, columns, which] of [
      [PROPOSAL_VOTES_BY_PROPOSAL, 'group_votes', ['voter', 'support', 'weight'], 'votes'],
      [PROPOSAL_WEIGHTS_BY_PROPOSAL, 'group_dist', ['entity', 'w'], 'weights'],
    ] as const) {
      await materialize(conn, relation, sql, {governor: G, block})
      const kept = await keptGroupedDigests(conn, sql, relation, {governor: G, block})
      if (kept === undefined) continue
      expect(byG(kept)).toEqual(byG(await queryRows(conn, groupedDigestSql(relation, columns))))
      out[which] = true
    }
    return out
  }

  it('equal the hashed rows at every bound, after a rollback, and the table equals a rebuild', async () => {
    await insertTestEvents(conn, votes(1, 20, 1))
    await extractTyped(conn, -1)
    for (const block of [null, 20, 9, 1]) expect(await compare(['1', '2', '3', '4', '9'], block)).toEqual({votes: true, weights: true})
    // Proposal 5: a voter with two positive votes, so its row is their sum: the weights are hashed from the rows.
    expect(await compare(['1', '5'], null)).toEqual({votes: true, weights: false})
    // Before the second positive vote of that voter, the kept numbers stand for it again.
    expect(await compare(['1', '5'], 19)).toEqual({votes: true, weights: true})

    await dropVoteRowDigestsAbove(conn, 12)
    for (const table of MIRROR_TABLES) await conn.run(`DELETE FROM ${table} WHERE block_number > 12`)
    await insertTestEvents(conn, votes(13, 25, 2).map((e, i) => ({...e, logIndex: 1000 + i})))
    await extractTyped(conn, 12)
    for (const block of [null, 12, 18]) expect(await compare(['1', '2', '3', '4'], block)).toEqual({votes: true, weights: true})

    expect((await mirrorDigest(conn)).vote_row_digest).toEqual((await rebuiltMirrorDigest(conn)).vote_row_digest)
  })

  it('are the numbers of the votes below the head, and their per-proposal sums at the head: a changed one shows', async () => {
    await insertTestEvents(conn, votes(1, 5, 3))
    await extractTyped(conn, -1)
    await keys(['1'])
    const digestAt = async (block: number | null) => {
      await materialize(conn, 'group_votes', PROPOSAL_VOTES_BY_PROPOSAL, {governor: G, block})
      return (await keptGroupedDigests(conn, PROPOSAL_VOTES_BY_PROPOSAL, 'group_votes', {governor: G, block}))?.[0]
    }
    const [head, below] = [await digestAt(null), await digestAt(4)]
    await conn.run(`UPDATE vote_row_digest SET m_votes = m_votes + 1 WHERE proposal_id = '1'`)
    expect((await digestAt(4))?.digest).not.toBe(below?.digest)
    expect(await digestAt(null)).toEqual(head)
    expect(await digestAt(5)).toEqual(head)
    await conn.run(`UPDATE head_digest SET lower_sum = lower_sum + 1 WHERE input = 'proposal_votes' AND scope = $scope`, {scope: `${G}/1`})
    expect((await digestAt(null))?.digest).not.toBe(head?.digest)
    expect((await digestAt(null))?.n).toBe(head?.n)
  })

  it('a mirror kept before the per-proposal sums gets them, as a rebuild sums them', async () => {
    await insertTestEvents(conn, votes(1, 8, 4))
    await extractTyped(conn, -1)
    const sums = `SELECT input, scope, n, upper_sum::VARCHAR AS u, lower_sum::VARCHAR AS l FROM head_digest WHERE input LIKE 'proposal_%' ORDER BY ALL`
    const kept = await queryRows(conn, sums)
    expect(new Set(kept.map((r) => r.input))).toEqual(new Set(['proposal_votes', 'proposal_weights']))
    await conn.run(`DELETE FROM head_digest WHERE input LIKE 'proposal_%'`)
    await initVoteRowDigests(conn)
    expect(await queryRows(conn, sums)).toEqual(kept)
  })
})
