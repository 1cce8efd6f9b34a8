import type {DuckDBConnection} from '@duckdb/node-api'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseContractsConfig} from '../../processor/contracts-config'
import {FAIRNESS_MARGIN, FAIRNESS_TABLE_SQL} from '../metrics/fairness'
import {queryRows} from '../metrics/sql-values'
import {copyLinesDiff} from '../metrics/test-compare'
import type {AnalyticsDb} from '../duckdb'
import {extractTyped} from '../store/extract'
import {forgetKeptBalances, headBalanceBuilds} from '../store/head-balances'
import {forgetKeptPower, headPowerBuilds} from '../store/head-power'
import {TEST_GOVERNOR as G, TEST_TOKEN as T, TEST_ZERO as Z, testAccount as acct, testMulberry, insertTestEvents, type TestEvent, openTestMirror, recordStatements} from '../store/test-events'
import {runBatched} from './batch'
import {PARTICIPATION_BY_GROUP_ONE_VOTE_EACH_SQL} from '../metrics/grouped'
import {
  FAIRNESS_BY_GROUP_FROM_SUMS_SQL, FAIRNESS_BY_GROUP_SQL, FAIRNESS_COPY_BY_GROUP_FROM_SUMS_SQL, FAIRNESS_COPY_BY_GROUP_SQL, FAIRNESS_SUMS_RELATION,
} from '../metrics/grouped-fairness'
import {PROPOSAL_WEIGHTS_BY_PROPOSAL_ONE_VOTE_EACH} from '../store/inputs'
import {oneVoteEach} from '../store/one-vote-each'
import {type Measurement, type MetricRecord, runMeasurement} from './measurement'
import {planInStages, planSuite, storedKey} from './plan'
import {computeSuite} from './suite'

const MR = '0x' + '3'.repeat(40)
const CR = '0x' + '4'.repeat(40)
const RD = '0x' + '5'.repeat(40)

/**
 * Pseudo-random governance (mints, vote changes, proposals with windows, votes: repeated, zero-weight, every
 * support) and contributions: models, contributions validated (accepted or not, some self-validated), reward epochs
 * per model and protocol-wide, rewards (some to top holders).
 */
function scenario(oneVoteEach = false): TestEvent[] {
  const rnd = testMulberry(3)
  // With oneVoteEach, a voter's later votes on a proposal are left out (a Governor takes one vote per voter).
  const voted = new Set<string>()
  const events: TestEvent[] = []
  const tok = (block: number, name: string, args: Record<string, unknown>) => events.push({block, contract: T, kind: 'token', name, args})
  const gov = (block: number, name: string, args: Record<string, unknown>) => events.push({block, contract: G, kind: 'governor', name, args})
  const at = (contract: string, kind: string) => (block: number, name: string, args: Record<string, unknown>) => events.push({block, contract, kind, name, args})
  const [reg, cr, rd] = [at(MR, 'modelRegistry'), at(CR, 'contributionRegistry'), at(RD, 'rewardDistributor')]
  for (let m = 1; m <= 4; m++) reg(1, 'ModelRegistered', {modelId: String(m), owner: acct(m % 2), name: `m${m}`, metadataURI: ''})
  let contribution = 0
  let epoch = 0
  gov(1, 'QuorumNumeratorUpdated', {oldQuorumNumerator: '0', newQuorumNumerator: '4'})
  const proposals: {id: string; start: number; end: number}[] = []
  for (let block = 1; block <= 60; block++) {
    for (let k = 0; k < 3; k++) {
      const a = acct(rnd(12))
      const v = String(BigInt(rnd(1000) + 1) * 10n ** 18n)
      if (rnd(2) === 0) tok(block, 'Transfer', {from: Z, to: a, value: v})
      else tok(block, 'DelegateVotesChanged', {delegate: a, previousVotes: '0', newVotes: v})
    }
    if (block % 4 === 0) {
      const p = {id: String(5000 + block), start: block + 2, end: block + 12}
      proposals.push(p)
      gov(block, 'ProposalCreated', {
        proposalId: p.id, proposer: acct(0), targets: [], values: [], signatures: [], calldatas: [],
        voteStart: String(p.start), voteEnd: String(p.end), description: 'p',
      })
    }
    // The models' owners change now and then (model_owners is skipped while they do not).
    if (block === 25 || block === 50) reg(block, 'ModelOwnershipTransferred', {modelId: '2', previousOwner: acct(block === 25 ? 0 : 5), newOwner: acct(block === 25 ? 5 : 6)})
    if (block === 40) reg(block, 'ModelRegistered', {modelId: '5', owner: acct(7), name: 'm5', metadataURI: ''})
    // Model 4 never gets a contribution nor a reward: the empty scope.
    for (let k = rnd(3); k > 0; k--) {
      const id = String(++contribution)
      cr(block, 'ContributionSubmitted', {contributionId: id, modelId: String(1 + rnd(3)), contributor: acct(rnd(8)), kind: 1, units: String(1 + rnd(100)), evidenceHash: '0x00'})
      if (rnd(4) > 0) cr(block, 'ContributionValidated', {contributionId: id, validator: acct(rnd(10)), accepted: rnd(5) > 0, score: 5000 + rnd(5000), reportHash: '0x00'})
    }
    if (block % 10 === 0) rd(block, 'EpochOpened', {epochId: String(++epoch), modelId: String(epoch % 4)})
    if (epoch > 0) rd(block, 'RewardPaid', {epochId: String(1 + rnd(epoch)), recipient: acct(rnd(12)), amount: String(BigInt(1 + rnd(100)) * 10n ** 18n)})
    for (const p of proposals.filter((x) => x.start < block && block <= x.end)) {
      for (let k = rnd(3); k > 0; k--) {
        const voter = acct(rnd(12))
        const vote = {voter, proposalId: p.id, support: rnd(3), weight: rnd(5) === 0 ? '0' : String(BigInt(rnd(500)) * 10n ** 18n), reason: ''}
        if (oneVoteEach && voted.has(`${p.id}/${voter}`)) continue
        voted.add(`${p.id}/${voter}`)
        gov(block, 'VoteCast', vote)
      }
    }
  }
  return events
}

const contracts = parseContractsConfig({
  chainId: 31337,
  contracts: [
    {kind: 'token', address: T, startBlock: 0},
    {kind: 'governor', address: G, startBlock: 0, token: T, timelock: acct(99)},
    {kind: 'timelock', address: acct(99), startBlock: 0},
    {kind: 'modelRegistry', address: MR, startBlock: 0},
    {kind: 'contributionRegistry', address: CR, startBlock: 0, modelRegistry: MR},
    {kind: 'rewardDistributor', address: RD, startBlock: 0, token: T, modelRegistry: MR},
  ],
})

describe('batched proposal and model measurements', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection

  beforeAll(async () => {
    ;({db, conn} = await openTestMirror())
    await insertTestEvents(conn, scenario())
    await extractTyped(conn, -1)
    await conn.run(`INSERT INTO sync_state VALUES (1, NULL, 60, 60, 55, now())`)
  })
  afterAll(() => db.close())

  const comparable = (r: MetricRecord) => ({...r, value: r.value === null ? null : Number(r.value.toPrecision(14))})
  /**
   * Every field equal, DOUBLE values to the last bit: no figure depends on the order in which rows are added
   * (ORDER_FREE_SUM, concentration.ts), so a grouped query returns what the single query returns.
   */
  const expectSameRecords = (got: MetricRecord[], want: MetricRecord[]) => expect(got).toEqual(want)

  it('give every value, row count, input digest, SQL digest and fairness table row that runMeasurement gives', async () => {
    // Voters vote twice on some proposals here: the per-voter sums run (the twin without them, below).
    expect(await oneVoteEach(conn, G)).toBe(false)
    let checked = 0
    const distributions = new Set<string>()
    for (const block of [10, 25, 40, 60]) {
      const plan = await planSuite(conn, contracts, block)
      // Each batch's results are given as it ends: together, each result once, the same as the returned map.
      const given: [number, unknown][] = []
      let batches = 0
      const batched = await runBatched(conn, plan, 0, undefined, undefined, false, (results) => {
        batches++
        given.push(...results)
      })
      expect(batches).toBeGreaterThan(1)
      expect(new Map(given)).toEqual(batched)
      expect(given).toHaveLength(batched.size)
      const expected = plan.filter((m) => m.scopeKind === 'proposal' || m.scopeKind === 'model')
      expect(batched.size).toBe(expected.length)
      for (const [index, result] of batched) {
        const m = plan[index]!
        const single = await runMeasurement(conn, m, 0)
        expectSameRecords(result.records, single.records)
        expect(result.provenance).toEqual(single.provenance)
        if (m.distribution === 'contributions_vs_rewards') {
          // runMeasurement left this scope's inputs materialized: the single table query runs over them.
          // Its COPY text holds, line by line, the single table query's rows; exact, shares included.
          const rows = await queryRows(conn, FAIRNESS_TABLE_SQL, {margin: FAIRNESS_MARGIN, limit: 10_000, offset: 0})
          expect(result.table!.rows).toBe(rows.length)
          expect(copyLinesDiff(result.table!.rows === 0 ? null : result.table!.lines, rows)).toEqual([])
        } else expect(result.table).toBeUndefined()
        checked++
        distributions.add(`${m.distribution}/${m.scopeKind}`)
      }
      // Only proposal and model scopes are batched (the protocol scope, model NULL, runs alone).
      for (const index of batched.keys()) expect(['proposal', 'model']).toContain(plan[index]!.scopeKind)
    }
    expect(checked).toBeGreaterThan(40)
    expect([...distributions].sort()).toEqual([
      'contributions_vs_rewards/model', 'insiders/model', 'validations/model', 'votes/proposal', 'weight_cast/proposal',
    ])
  }, 60_000)
  it('fairnessTableDue: tables only for the scopes it names, and the same metric values either way', async () => {
    const all = await computeSuite(conn, contracts, 60, 0)
    const scopes = [...new Set(all.fairness.map((f) => `${f.scopeKind}/${f.scopeId}`))]
    // The protocol scope (measured alone) and the model scopes (batched) both have tables.
    expect(scopes).toContain('protocol/protocol')
    expect(scopes.filter((s) => s.startsWith('model/')).length).toBeGreaterThan(1)
    const none = await computeSuite(conn, contracts, 60, 0, {fairnessTableDue: () => false})
    expect(none.fairness).toEqual([])
    expect(none.metrics.map(comparable)).toEqual(all.metrics.map(comparable))
    const wanted = scopes[scopes.length - 1]!
    const one = await computeSuite(conn, contracts, 60, 0, {fairnessTableDue: (kind, id) => `${kind}/${id}` === wanted})
    expect(one.fairness).toEqual(all.fairness.filter((f) => `${f.scopeKind}/${f.scopeId}` === wanted))
    expect(one.fairness.length).toBeGreaterThan(0)
  }, 60_000)

  it('plans a fairness or model owner measurement exactly when a row it reads changed after its stored block, or it has none', async () => {
    // What each fairness distribution reads, and the last change of each at or below a block over the whole history
    // (planSuite asks only within a window above the earliest stored block).
    const reads: Record<string, string[]> = {
      contributions_vs_rewards: [`contribution WHERE registry = '${CR}'`, `validation WHERE registry = '${CR}'`, `reward_paid WHERE distributor = '${RD}'`, `epoch WHERE distributor = '${RD}'`],
      validations: [`contribution WHERE registry = '${CR}'`, `validation WHERE registry = '${CR}'`],
      insiders: [`votes_change WHERE token = '${T}'`, `reward_paid WHERE distributor = '${RD}'`, `epoch WHERE distributor = '${RD}'`],
      model_owners: [`model WHERE registry = '${MR}'`, `model_owner_change WHERE registry = '${MR}'`],
    }
    const lastChange = async (distribution: string, block: number) => {
      const maxima = await queryRows(conn, `SELECT ${reads[distribution]!.map((r, i) => `(SELECT max(block_number) FROM ${r} AND block_number <= ${block}) AS m${i}`).join(', ')}`)
      const values = Object.values(maxima[0]!).filter((v) => v !== null).map(Number)
      return values.length === 0 ? null : Math.max(...values)
    }
    const rnd = testMulberry(11)
    let skipped = 0
    let planned = 0
    for (const block of [12, 30, 45, 60]) {
      const all = (await planSuite(conn, contracts, block)).filter((m) => m.distribution in reads)
      for (let round = 0; round < 6; round++) {
        // Each such measurement stored at a random block at or below this one, at this block (nothing can have
        // changed since), above it, or never.
        const stored = new Map<string, number>()
        for (const m of all) {
          const r = rnd(8)
          if (r > 0) stored.set(storedKey(m.distribution, m.scopeKind, m.scopeId), r === 1 ? block + 3 : r <= 3 ? block : rnd(block + 1))
        }
        const got = new Set((await planSuite(conn, contracts, block, {stored})).filter((m) => m.distribution in reads).map((m) => storedKey(m.distribution, m.scopeKind, m.scopeId)))
        for (const m of all) {
          const key = storedKey(m.distribution, m.scopeKind, m.scopeId)
          const s = stored.get(key)
          const since = await lastChange(m.distribution, block)
          const unchanged = s !== undefined && s <= block && (since === null || s >= since)
          expect({key, block, s, since, planned: got.has(key)}).toEqual({key, block, s, since, planned: !unchanged})
          if (unchanged) skipped++
          else planned++
        }
      }
    }
    expect(skipped).toBeGreaterThan(10)
    expect(planned).toBeGreaterThan(10)
    // The registry's one model_owners measurement, stored on each side of every model change (blocks 1, 25, 40, 50).
    const key = storedKey('model_owners', 'protocol', MR)
    for (const block of [30, 45, 60]) {
      const since = await lastChange('model_owners', block)
      for (const s of [0, 24, 25, 39, 40, 49, 50, block].filter((b) => b <= block)) {
        const got = (await planSuite(conn, contracts, block, {stored: new Map([[key, s]])})).some((m) => m.distribution === 'model_owners')
        expect({block, s, since, planned: got}).toEqual({block, s, since, planned: since !== null && s < since})
      }
    }
  }, 60_000)

  it('plans a proposal measurement exactly when a vote on it came after its stored block (turnout: stored past vote_start), or it has none', async () => {
    const proposals = new Map(
      (await queryRows(conn, `SELECT proposal_id, vote_start, vote_end FROM proposal WHERE governor = '${G}'`)).map((r) => [
        `${G}-${String(r.proposal_id)}`,
        {start: Number(r.vote_start), end: Number(r.vote_end)},
      ]),
    )
    // The last vote on a proposal at or below a block, over the whole history (planSuite asks only within a window).
    const lastVote = async (scopeId: string, block: number) => {
      const id = scopeId.slice(G.length + 1)
      const r = await queryRows(conn, `SELECT max(block_number) AS b FROM vote_cast WHERE governor = '${G}' AND proposal_id = '${id}' AND block_number <= ${block}`)
      return r[0]?.b == null ? null : Number(r[0].b)
    }
    const side = await db.connect()
    const perProposal = (m: {scopeKind: string}) => m.scopeKind === 'proposal'
    const rnd = testMulberry(17)
    const skipped = {open: 0, closed: 0}
    let planned = 0
    for (const block of [20, 33, 47, 60]) {
      const all = (await planSuite(conn, contracts, block)).filter(perProposal)
      for (let round = 0; round < 6; round++) {
        const stored = new Map<string, number>()
        for (const m of all) {
          const r = rnd(8)
          if (r > 0) stored.set(storedKey(m.distribution, m.scopeKind, m.scopeId), r === 1 ? block + 3 : r <= 3 ? block : rnd(block + 1))
        }
        const keys = (plan: Measurement[]) => new Set(plan.filter(perProposal).map((m) => storedKey(m.distribution, m.scopeKind, m.scopeId)))
        const got = keys(await planSuite(conn, contracts, block, {stored}))
        // The same plan when the snapshots and the votes' window are read on a second connection.
        expect(keys(await planSuite(conn, contracts, block, {stored, snapshotConnection: side}))).toEqual(got)
        for (const m of all) {
          const key = storedKey(m.distribution, m.scopeKind, m.scopeId)
          const p = proposals.get(m.scopeId)!
          const s = stored.get(key)
          const sWeights = stored.get(storedKey('weight_cast', 'proposal', m.scopeId))
          const closedAndFinal = p.end <= block && sWeights !== undefined && sWeights <= block && sWeights >= p.end
          const since = await lastVote(m.scopeId, block)
          // Open proposals only; a closed one is measured until it is final, as before.
          const unchanged = p.end > block && s !== undefined && s <= block && (since === null || s >= since) && (m.distribution !== 'votes' || s > p.start)
          const expected = !(closedAndFinal || unchanged)
          expect({key, block, s, since, planned: got.has(key)}).toEqual({key, block, s, since, planned: expected})
          if (expected) planned++
          else if (closedAndFinal) skipped.closed++
          else skipped.open++
        }
      }
    }
    expect(skipped.open).toBeGreaterThan(10)
    expect(skipped.closed).toBeGreaterThan(10)
    expect(planned).toBeGreaterThan(10)
  }, 60_000)

  it('a plan with a second connection reads the proposal snapshots there, beside the rest, and equals the plan without', async () => {
    const side = await db.connect()
    const readsProposals = (sql: string) => /FROM proposal p WHERE p\.governor/.test(sql)
    for (const block of [30, 60]) {
      const alone = await planSuite(conn, contracts, block)
      const recorded = [recordStatements(conn), recordStatements(side)]
      const withSide = await planSuite(conn, contracts, block, {snapshotConnection: side}).finally(() => recorded.forEach((r) => r.restore()))
      // Compared as data: each plan makes its own reading functions.
      expect(JSON.stringify(withSide)).toBe(JSON.stringify(alone))
      expect(alone.filter((m) => m.scopeKind === 'proposal').length).toBeGreaterThan(0)
      expect(recorded[0]!.statements.filter(readsProposals)).toEqual([])
      expect(recorded[1]!.statements.filter(readsProposals).length).toBeGreaterThan(0)
      // The first stage is the full plan without its per-proposal measurements.
      const staged = planInStages(conn, contracts, block, {snapshotConnection: side})
      const [partial, full] = await Promise.all([staged.withoutProposals, staged.full])
      expect(JSON.stringify(partial)).toBe(JSON.stringify(full.filter((m) => m.scopeKind !== 'proposal')))
      expect(JSON.stringify(full)).toBe(JSON.stringify(alone))
    }
    // A failure on the second connection fails the plan with its own error (not a missing governor), once it settled.
    const original = side.run.bind(side)
    side.run = (async (...args: Parameters<DuckDBConnection['run']>) => {
      if (readsProposals(args[0])) throw new Error('injected snapshot failure')
      return original(...args)
    }) as DuckDBConnection['run']
    try {
      await expect(planSuite(conn, contracts, 60, {snapshotConnection: side})).rejects.toThrow('injected snapshot failure')
    } finally {
      side.run = original
    }
  })

  it('computeSuite with a second connection gives what it gives alone, in the same order, and runs the rest there', async () => {
    const side = await db.connect()
    for (const block of [30, 60]) {
      const alone = await computeSuite(conn, contracts, block, 0)
      const onSide = recordStatements(side)
      const withSide = await computeSuite(conn, contracts, block, 0, {sideConnection: side}).finally(onSide.restore)
      expect(withSide).toEqual(alone)
      expect(alone.metrics.length).toBeGreaterThan(50)
      expect(onSide.statements.length).toBeGreaterThan(10)
    }
    // A follower: the kept state stays on the first connection, refresh after refresh.
    const kept = [await computeSuite(conn, contracts, 60, 0, {keepState: true, sideConnection: side}), await computeSuite(conn, contracts, 60, 0, {keepState: true, sideConnection: side})]
    for (const results of kept) expect(results).toEqual(await computeSuite(conn, contracts, 60, 0))
  }, 60_000)

  it('a one-off suite reads the token distributions by the query and keeps nothing; a follower builds the kept balances and power once', async () => {
    await forgetKeptBalances(conn)
    forgetKeptPower(conn)
    const [balances, power] = [headBalanceBuilds(), headPowerBuilds()]
    const oneOff = await computeSuite(conn, contracts, 60, 0)
    expect([headBalanceBuilds(), headPowerBuilds()]).toEqual([balances, power])
    for (let i = 0; i < 2; i++) expect(await computeSuite(conn, contracts, 60, 0, {keepState: true})).toEqual(oneOff)
    expect([headBalanceBuilds(), headPowerBuilds()]).toEqual([balances + 1, power + 1])
  })

  it('inside a suite, the per-proposal and per-model head digests come from the snapshot, not a join with head_digest', async () => {
    const side = await db.connect()
    const recorded = [recordStatements(conn), recordStatements(side)]
    const results = await computeSuite(conn, contracts, 60, 0, {sideConnection: side}).finally(() => recorded.forEach((r) => r.restore()))
    expect(recorded.flatMap((r) => r.statements).filter((sql) => /JOIN head_digest|FROM head_digest WHERE/.test(sql))).toEqual([])
    expect(results.metrics.filter((r) => r.scopeKind === 'proposal').length).toBeGreaterThan(0)
  })

  it('the top holders, read by the per-model and the protocol-wide insider overlap, are materialized and hashed once a suite', async () => {
    for (const keepState of [false, true, true]) {
      const recorded = recordStatements(conn)
      const results = await computeSuite(conn, contracts, 60, 0, {keepState}).finally(recorded.restore)
      expect(recorded.statements.filter((sql) => /TEMP TABLE top_holders AS/.test(sql))).toHaveLength(1)
      expect(recorded.statements.filter((sql) => /FROM top_holders/.test(sql) && /md5_number/.test(sql))).toHaveLength(1)
      expect(results.metrics.filter((r) => r.distribution === 'insiders' && r.scopeKind === 'protocol').length).toBeGreaterThan(0)
    }
  })

  it('the rewards per model, read by the fairness and the insider-overlap shapes, are materialized and hashed once', async () => {
    const plan = await planSuite(conn, contracts, 60)
    const recorded = recordStatements(conn)
    try {
      await runBatched(conn, plan, 0)
    } finally {
      recorded.restore()
    }
    const count = (pattern: RegExp) => recorded.statements.filter((sql) => pattern.test(sql)).length
    expect(count(/TEMP TABLE group_reward AS/)).toBe(1)
    expect(count(/FROM group_reward\) x ON x\.g = k\.g/)).toBe(1)
    // Both shapes were batched, so the second one did reuse the first one's rows.
    expect(count(/TEMP TABLE group_contrib AS/)).toBe(1)
    expect(count(/TEMP TABLE top_holders AS/)).toBe(1)
    // The fairness summary and table share their per-entity sums: summed once, read by both twins.
    expect(count(new RegExp(`TEMP TABLE ${FAIRNESS_SUMS_RELATION} AS`))).toBe(1)
    expect(recorded.statements.filter((sql) => sql === FAIRNESS_BY_GROUP_FROM_SUMS_SQL || sql === FAIRNESS_COPY_BY_GROUP_FROM_SUMS_SQL)).toHaveLength(2)
    expect(recorded.statements.filter((sql) => sql === FAIRNESS_BY_GROUP_SQL || sql === FAIRNESS_COPY_BY_GROUP_SQL)).toHaveLength(0)
  })
})

describe('batched proposal measurements where each voter votes once per proposal', () => {
  it('take the route and the twin without per-voter sums, and give what runMeasurement gives', async () => {
    const {db, conn} = await openTestMirror()
    try {
      await insertTestEvents(conn, scenario(true))
      await extractTyped(conn, -1)
      await conn.run(`INSERT INTO sync_state VALUES (1, NULL, 60, 60, 55, now())`)
      expect(await oneVoteEach(conn, G)).toBe(true)
      let checked = 0
      for (const block of [25, 60]) {
        const plan = await planSuite(conn, contracts, block)
        const recorded = recordStatements(conn)
        const batched = await runBatched(conn, plan, 0)
        recorded.restore()
        expect(recorded.statements.filter((sql) => sql.includes(PROPOSAL_WEIGHTS_BY_PROPOSAL_ONE_VOTE_EACH))).toHaveLength(1)
        expect(recorded.statements.filter((sql) => sql === PARTICIPATION_BY_GROUP_ONE_VOTE_EACH_SQL)).toHaveLength(1)
        for (const [index, result] of batched) {
          const m = plan[index]!
          if (m.scopeKind !== 'proposal') continue
          const single = await runMeasurement(conn, m, 0)
          expect(result.records).toEqual(single.records)
          expect(result.provenance).toEqual(single.provenance)
          checked++
        }
      }
      expect(checked).toBeGreaterThan(20)
    } finally {
      db.close()
    }
  }, 60_000)
})
