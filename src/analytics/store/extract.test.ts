import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {AnalyticsDb} from '../duckdb'
import {extractTyped} from './extract'
import {BALANCES_AT, QUORUM_AT, VALIDATED_CONTRIBUTION, materialize} from './inputs'
import {insertTestEvents, openTestMirror, recordStatements, type TestEvent} from './test-events'
import {TYPED_TABLES} from './schema'

const Z = '0x0000000000000000000000000000000000000000'
const A = '0x' + 'a'.repeat(40)
const SMALL = '0x' + '1'.repeat(40)
const BIG = '0x' + '2'.repeat(40)
const G = '0x' + '3'.repeat(40)
const CR1 = '0x' + '4'.repeat(40)
const CR2 = '0x' + '5'.repeat(40)
const MAX_HUGEINT = (2n ** 127n - 1n).toString()
const TWO_127 = (2n ** 127n).toString()
const MAX_UINT256 = (2n ** 256n - 1n).toString()

const transfer = (block: number, token: string, to: string, value: string): TestEvent =>
  ({block, contract: token, kind: 'token', name: 'Transfer', args: {from: Z, to, value}})
const cr = (block: number, registry: string, name: string, args: Record<string, unknown>): TestEvent =>
  ({block, contract: registry, kind: 'contributionRegistry', name, args})

/** Tables that only the derived steps of votes, validated pairs and the fairness log name in their statements. */
const DERIVED_FROM_SOME_TABLES = ['voter_tally', 'vote_row_digest', 'pairs_above', 'fairness_log_sources']

describe('extraction into typed tables and the uint256 rule', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  const all = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJson()

  it('keeps 2^127 - 1 exactly; 2^127 and beyond go to oversized_amount with their exact decimal, never rounded', async () => {
    const ids = await insertTestEvents(conn, [
      transfer(1, SMALL, A, MAX_HUGEINT),
      transfer(2, BIG, A, TWO_127),
      transfer(3, BIG, A, MAX_UINT256),
      // Not an integer: the decoder never writes this, and TRY_CAST alone would round it to 2.
      transfer(4, BIG, A, '1.5'),
    ])
    await extractTyped(conn, -1)
    expect(await all('SELECT id, value FROM token_transfer ORDER BY id')).toEqual([
      {id: ids[0], value: MAX_HUGEINT},
      {id: ids[1], value: null},
      {id: ids[2], value: null},
      {id: ids[3], value: null},
    ])
    expect(await all('SELECT id, table_name, column_name, raw FROM oversized_amount ORDER BY id')).toEqual([
      {id: ids[1], table_name: 'token_transfer', column_name: 'value', raw: TWO_127},
      {id: ids[2], table_name: 'token_transfer', column_name: 'value', raw: MAX_UINT256},
      {id: ids[3], table_name: 'token_transfer', column_name: 'value', raw: '1.5'},
    ])
    // A scope containing such a value refuses to be measured and names the event; other scopes are unaffected.
    await expect(materialize(conn, 'dist', BALANCES_AT, {token: BIG, block: 10})).rejects.toThrow(
      new RegExp(`uint256 beyond HUGEINT .* in event ${ids[1]}`),
    )
    await materialize(conn, 'dist', BALANCES_AT, {token: SMALL, block: 10})
    expect(await all('SELECT * FROM dist')).toEqual([{entity: A, w: MAX_HUGEINT}])
    // As of a block before the oversized transfer, the scope is still measurable.
    await expect(materialize(conn, 'dist', BALANCES_AT, {token: BIG, block: 1})).resolves.toBe(0)
  })

  it('an oversized vote_start (BIGINT) is recorded and makes the quorum query fail, not guess', async () => {
    const ids = await insertTestEvents(conn, [
      {block: 1, contract: G, kind: 'governor', name: 'ProposalCreated', args: {proposalId: '7', proposer: A, voteStart: '9223372036854775808', voteEnd: '1'}},
    ])
    await extractTyped(conn, -1)
    expect(await all('SELECT id, column_name, raw FROM oversized_amount')).toEqual([{id: ids[0], column_name: 'vote_start', raw: '9223372036854775808'}])
    await expect(materialize(conn, 'q', QUORUM_AT, {governor: G, proposal: '7', token: SMALL})).rejects.toThrow(/uint256 beyond HUGEINT/)
  })

  it('oversized units fail their registry only; units × score overflowing HUGEINT raises, never wraps', async () => {
    await insertTestEvents(conn, [
      cr(1, CR1, 'ContributionSubmitted', {contributionId: '1', modelId: '1', contributor: A, kind: 0, units: MAX_UINT256, evidenceHash: '0x'}),
      cr(2, CR1, 'ContributionValidated', {contributionId: '1', validator: A, accepted: true, score: 10, reportHash: '0x'}),
      cr(1, CR2, 'ContributionSubmitted', {contributionId: '1', modelId: '1', contributor: A, kind: 0, units: (2n ** 126n).toString(), evidenceHash: '0x'}),
      cr(2, CR2, 'ContributionValidated', {contributionId: '1', validator: A, accepted: true, score: 10000, reportHash: '0x'}),
    ])
    await extractTyped(conn, -1)
    const params = {model: null, block: null}
    await expect(materialize(conn, 'contrib', VALIDATED_CONTRIBUTION, {registry: CR1, ...params})).rejects.toThrow(/uint256 beyond HUGEINT/)
    await expect(materialize(conn, 'contrib', VALIDATED_CONTRIBUTION, {registry: CR2, ...params})).rejects.toThrow(/Overflow/)
  })

  it('rows whose arguments did not decode stay evidence only; only rows above the cut are extracted', async () => {
    await insertTestEvents(conn, [
      transfer(1, SMALL, A, '5'),
      {block: 2, contract: SMALL, kind: 'token', name: 'Transfer', args: {decodeError: 'bad topics', topics: [], data: '0x'}},
      transfer(3, SMALL, A, '6'),
    ])
    const counts = await extractTyped(conn, 1)
    expect(counts.token_transfer).toBe(1)
    expect(await all('SELECT block_number, value FROM token_transfer')).toEqual([{block_number: '3', value: '6'}])
  })

  it('runs the inserts of the tables whose events lie above the cut only, and counts 0 for the others', async () => {
    await insertTestEvents(conn, [
      transfer(1, SMALL, A, '5'),
      cr(2, CR1, 'ContributionSubmitted', {contributionId: '1', modelId: '1', contributor: A, kind: 0, units: '3', evidenceHash: '0x'}),
      {block: 3, contract: G, kind: 'governor', name: 'ProposalCanceled', args: {proposalId: '7'}},
      transfer(4, SMALL, A, '6'),
    ])
    const recorded = recordStatements(conn)
    const counts = await extractTyped(conn, 2)
    recorded.restore()
    const inserted = recorded.statements
      .map((s) => /^INSERT INTO (\w+)/.exec(s)?.[1])
      .filter((name) => TYPED_TABLES.some((t) => t.name === name))
    // Above block 2: a transfer and an outcome; the contribution below the cut and every other table are skipped.
    expect(inserted).toEqual(['token_transfer', 'proposal_outcome'])
    expect(counts).toEqual(Object.fromEntries(TYPED_TABLES.map((t) => [t.name, ['token_transfer', 'proposal_outcome'].includes(t.name) ? 1 : 0])))
    expect(await all('SELECT block_number, value FROM token_transfer')).toEqual([{block_number: '4', value: '6'}])
    expect(await all('SELECT proposal_id, outcome FROM proposal_outcome')).toEqual([{proposal_id: '7', outcome: 'canceled'}])
    expect(await all('SELECT count(*)::INTEGER AS n FROM contribution')).toEqual([{n: 0}])
    // The derived state of votes, validated contributions and the fairness log reads only such rows: not touched.
    const derivedTouched = (statements: string[]) => DERIVED_FROM_SOME_TABLES.filter((name) => statements.some((s) => s.includes(name)))
    expect(derivedTouched(recorded.statements)).toEqual([])
    expect(recorded.statements.some((s) => s.includes('balance_delta'))).toBe(true)

    // A vote, a contribution and its validation above the next cut: their derived state takes them.
    await insertTestEvents(conn, [
      cr(5, CR1, 'ContributionSubmitted', {contributionId: '2', modelId: '1', contributor: A, kind: 0, units: '3', evidenceHash: '0x'}),
      {block: 5, contract: G, kind: 'governor', name: 'VoteCast', args: {voter: A, proposalId: '7', support: 1, weight: '4', reason: ''}},
      cr(5, CR1, 'ContributionValidated', {contributionId: '2', validator: A, accepted: true, score: 10, reportHash: '0x'}),
    ])
    const again = recordStatements(conn)
    await extractTyped(conn, 4)
    again.restore()
    expect(derivedTouched(again.statements)).toEqual(DERIVED_FROM_SOME_TABLES)
    expect(await all('SELECT voter, proposals FROM voter_tally')).toEqual([{voter: A, proposals: '1'}])
    expect(await all('SELECT contributor, validator FROM validated_contribution')).toEqual([{contributor: A, validator: A}])
  })
})
