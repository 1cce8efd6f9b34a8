import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {initDerivedState} from './derived-state'
import {mirrorDigest} from './digest'
import {DERIVED_TABLES} from './schema'
import {
  applyTestSyncStep, rebuiltMirrorDigest, recordStatements, TEST_GOVERNOR as G, TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, testMulberry, type TestEvent,
  openTestMirror,
} from './test-events'

const CR = '0x' + '4'.repeat(40)

/** Mints, transfers, vote changes, votes, contributions and validations (some self-validated), blocks from..to. */
function history(seed: number, from: number, to: number): TestEvent[] {
  const rnd = testMulberry(seed)
  const events: TestEvent[] = []
  let contribution = from * 100
  for (let block = from; block <= to; block++) {
    const at = (contract: string, kind: string, name: string, args: Record<string, unknown>) => events.push({block, contract, kind, name, args})
    at(T, 'token', 'Transfer', {from: Z, to: acct(rnd(8)), value: String(BigInt(rnd(1000) + 1) * 10n ** 18n)})
    at(T, 'token', 'Transfer', {from: acct(rnd(8)), to: acct(rnd(8)), value: String(rnd(5))})
    at(T, 'token', 'DelegateVotesChanged', {delegate: acct(rnd(8)), previousVotes: '0', newVotes: String(BigInt(rnd(1000)) * 10n ** 18n)})
    at(G, 'governor', 'VoteCast', {voter: acct(rnd(8)), proposalId: String(rnd(3) + 1), support: rnd(3), weight: String(rnd(500)), reason: ''})
    const id = String(++contribution)
    at(CR, 'contributionRegistry', 'ContributionSubmitted', {contributionId: id, modelId: String(1 + rnd(2)), contributor: acct(rnd(6)), kind: 1, units: String(1 + rnd(50)), evidenceHash: '0x00'})
    at(CR, 'contributionRegistry', 'ContributionValidated', {contributionId: id, validator: acct(rnd(6)), accepted: rnd(4) > 0, score: 5000 + rnd(5000), reportHash: '0x00'})
  }
  return events
}

/**
 * initDerivedState repairs the states a mirror kept by older code can be in (a derived table, or an input's head
 * sums, that came after the rows they follow), and asks nothing more than one question of a mirror with everything.
 */
describe('initDerivedState', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection

  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
    await applyTestSyncStep(conn, -1, history(1, 1, 12))
    await applyTestSyncStep(conn, 8, history(2, 9, 16))
  })
  afterEach(() => db.close())

  /** Each state with what older code lacked; every step of initDerivedState repairs at least one. */
  const olderStates: Record<string, string[]> = {
    'no head sums at all': [`DELETE FROM head_digest`],
    'no voting power sums': [`DELETE FROM head_digest WHERE input = 'voting_power'`],
    'no delegate power (nor its sums)': [`DELETE FROM delegate_power`, `DELETE FROM head_digest WHERE input = 'voting_power'`],
    'no voter tallies': [`DELETE FROM voter_tally`, `DELETE FROM governor_tally`],
    'no validation sums': [`DELETE FROM head_digest WHERE input = 'validations'`],
    'no validator tallies': [`DELETE FROM validator_tally`],
    'no validated pairs (nor what came after them)': [
      `DELETE FROM validated_contribution`, `DELETE FROM validator_tally`, `DELETE FROM head_digest WHERE input = 'validations'`,
    ],
    'validated pairs without their digest column': [
      `ALTER TABLE validated_contribution DROP COLUMN m_validation`, `DELETE FROM validator_tally`, `DELETE FROM head_digest WHERE input = 'validations'`,
    ],
    'no per-proposal sums': [`DELETE FROM head_digest WHERE input IN ('proposal_votes', 'proposal_weights')`],
    'no balance totals': [`DELETE FROM balance_total`],
    'no vote row digests (nor their sums)': [`DELETE FROM vote_row_digest`, `DELETE FROM head_digest WHERE input IN ('proposal_votes', 'proposal_weights')`],
  }

  for (const [name, statements] of Object.entries(olderStates)) {
    it(`brings a mirror with ${name} back to what it held`, async () => {
      const kept = await mirrorDigest(conn)
      // (The sync tests compare the kept derived state with a rebuild's.)
      const rebuilt = await rebuiltMirrorDigest(conn)
      for (const table of DERIVED_TABLES) expect(kept[table], table).toEqual(rebuilt[table])
      for (const sql of statements) await conn.run(sql)
      // Not vacuous: the state differs before the repair.
      expect(await mirrorDigest(conn)).not.toEqual(kept)
      await conn.run('BEGIN TRANSACTION')
      await initDerivedState(conn)
      await conn.run('COMMIT')
      expect(await mirrorDigest(conn)).toEqual(kept)
    })
  }

  it('asks one question of a mirror that has everything, and changes nothing', async () => {
    const before = await mirrorDigest(conn)
    const recorded = recordStatements(conn)
    try {
      await initDerivedState(conn)
    } finally {
      recorded.restore()
    }
    expect(recorded.statements.length).toBe(1)
    expect(await mirrorDigest(conn)).toEqual(before)
  })
})
