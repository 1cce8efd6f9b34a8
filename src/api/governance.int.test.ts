import {getAddress} from 'viem'
import type {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openAnalyticsDb, type AnalyticsDb} from '../analytics/duckdb'
import {refreshAnalytics} from '../analytics/jobs/run'
import {type IndexedDevnet, startIndexedDevnet} from '../test-support/indexed-devnet'
import {createApiPool} from './db'
import {gqlOk, TEST_API_CONFIG} from './testing'
import {type Api, createApi} from './yoga'

/**
 * Proposals, votes, rewards, models and analytics served by the API equal the Postgres rows the processor and the
 * analytics wrote (those rows are themselves checked against the chain by src/e2e and src/analytics tests).
 */
describe('governance, rewards, models and analytics against the indexed rows', () => {
  let net: IndexedDevnet
  let mirror: AnalyticsDb
  let pool: Pool
  let api: Api

  beforeAll(async () => {
    net = await startIndexedDevnet()
    // net.close() ends this pool and then drops the database WITH (FORCE): a client still closing gets a FATAL
    // "terminating connection" that, without a listener, surfaces as an unhandled error of the test file.
    net.pool.on('error', () => undefined)
    mirror = await openAnalyticsDb(':memory:')
    await refreshAnalytics({duck: await mirror.connect(), pg: net.pool, contracts: net.contracts, backfillEvery: 10})
    pool = createApiPool(net.db.url, {statementTimeoutMs: 10_000})
    api = createApi({pool, config: TEST_API_CONFIG})
  })
  afterAll(async () => {
    await pool?.end()
    mirror?.close()
    await net?.close()
  })

  const rows = async (sql: string, params: unknown[] = []) => (await net.pool.query(sql, params)).rows
  const addr = (a: string | null) => (a === null ? null : getAddress(a))
  const iso = (d: Date | null) => (d === null ? null : d.toISOString())

  /** Every node of a connection, `first` at a time, following endCursor. */
  async function all(query: string, pick: (data: any) => any, variables: Record<string, unknown> = {}, first = 3) {
    const nodes: any[] = []
    let after: string | null = null
    for (;;) {
      const conn: any = pick(await gqlOk(api, query, {...variables, first, after}))
      nodes.push(...conn.edges.map((e: {node: unknown}) => e.node))
      if (!conn.pageInfo.hasNextPage) return {nodes, totalCount: conn.totalCount as number}
      after = conn.pageInfo.endCursor
    }
  }

  it('lists every proposal with state, timeline, tallies and quorum equal to the proposal rows', async () => {
    const db = await rows(`SELECT * FROM proposal ORDER BY event_id`)
    const q = `query($first: Int, $after: String) { proposals(orderBy: CREATED_ASC, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id proposalId proposer state stateAtBlock quorum quorumReached governor { address quorumNumerator }
        tallies { forVotes againstVotes abstainVotes voteCount }
        timeline { createdBlock createdTimestamp createdTx voteStart voteEnd queuedBlock eta executedBlock canceledBlock }
        event { eventName txHash } } } } }`
    const {nodes, totalCount} = await all(q, (d) => d.proposals)
    expect(totalCount).toBe(db.length)
    expect(nodes).toEqual(
      db.map((r) => ({
        id: r.id,
        proposalId: r.proposal_id,
        proposer: addr(r.proposer),
        state: r.state,
        stateAtBlock: r.state_at_block,
        quorum: r.quorum,
        quorumReached: r.quorum === null ? null : BigInt(r.for_votes) + BigInt(r.abstain_votes) >= BigInt(r.quorum),
        governor: {address: addr(r.governor_id), quorumNumerator: '4'},
        tallies: {forVotes: r.for_votes, againstVotes: r.against_votes, abstainVotes: r.abstain_votes, voteCount: r.vote_count},
        timeline: {
          createdBlock: r.created_block,
          createdTimestamp: iso(r.created_timestamp),
          createdTx: r.created_tx_hash,
          voteStart: r.vote_start,
          voteEnd: r.vote_end,
          queuedBlock: r.queued_block,
          eta: r.eta,
          executedBlock: r.executed_block,
          canceledBlock: r.canceled_block,
        },
        event: {eventName: 'ProposalCreated', txHash: r.created_tx_hash},
      })),
    )
    // Filters and the default order (newest first).
    const defeated = await gqlOk(api, `{ proposals(where: {state: DEFEATED}) { totalCount edges { node { id } } } }`)
    expect(defeated.proposals.edges.map((e: any) => e.node.id)).toEqual(db.filter((r) => r.state === 'DEFEATED').map((r) => r.id).reverse())
    expect(new Set(db.map((r) => r.state)).size).toBeGreaterThanOrEqual(4)
  })

  it('serves each proposal\'s votes in both orders, and its turnout with provenance', async () => {
    for (const p of await rows(`SELECT id FROM proposal WHERE vote_count > 0`)) {
      for (const [order, sql] of [
        ['WEIGHT_DESC', 'weight DESC, id DESC'],
        ['BLOCK_ASC', 'id ASC'],
      ] as const) {
        const db = await rows(`SELECT * FROM vote WHERE proposal_id = $1 ORDER BY ${sql}`, [p.id])
        const q = `query($id: ID!, $first: Int, $after: String) { proposal(id: $id) { votes(orderBy: ${order}, first: $first, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { id voter support weight reason params blockNumber txHash proposal { id } } } } } }`
        const {nodes, totalCount} = await all(q, (d) => d.proposal.votes, {id: p.id.toUpperCase().replace('0X', '0x')}, 1)
        expect(totalCount).toBe(db.length)
        expect(nodes).toEqual(
          db.map((v) => ({
            id: v.id,
            voter: addr(v.voter),
            support: v.support,
            weight: v.weight,
            reason: v.reason,
            params: v.params,
            blockNumber: v.block_number,
            txHash: v.tx_hash,
            proposal: {id: p.id},
          })),
        )
      }
      const [metric] = await rows(
        `SELECT value::float8 AS v, as_of_block, input_digest FROM metric_value WHERE metric = 'participation.turnout' AND scope_id = $1 ORDER BY as_of_block DESC LIMIT 1`,
        [p.id],
      )
      const {proposal} = await gqlOk(api, `query($id: ID!) { proposal(id: $id) { turnout { value asOfBlock inputDigest metric scopeKind } } }`, {id: p.id})
      expect(proposal.turnout).toEqual(
        metric ? {value: metric.v, asOfBlock: metric.as_of_block, inputDigest: metric.input_digest, metric: 'participation.turnout', scopeKind: 'proposal'} : null,
      )
    }
  })

  it('serves reward epochs, payouts and contributors equal to the reward rows', async () => {
    const payouts = await rows(`SELECT * FROM reward_payout ORDER BY id`)
    const q = `query($first: Int, $after: String) { rewardPayouts(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id recipient amount blockNumber txHash epoch { id } event { eventName } } } } }`
    const {nodes, totalCount} = await all(q, (d) => d.rewardPayouts, {}, 25)
    expect(totalCount).toBe(payouts.length)
    expect(nodes).toEqual(
      payouts.map((r) => ({id: r.id, recipient: addr(r.recipient), amount: r.amount, blockNumber: r.block_number, txHash: r.tx_hash, epoch: {id: r.epoch_id}, event: {eventName: 'RewardPaid'}})),
    )
    const insider = net.scenario.insiders[0]!.toLowerCase()
    const [sum] = await rows(`SELECT sum(amount)::text AS s, count(*)::int AS n FROM reward_payout WHERE recipient = $1`, [insider])
    const {contributor} = await gqlOk(
      api,
      `query($a: Address!) { contributor(address: $a) { address totalRewards payouts(first: 1000) { totalCount } contributions { totalCount } validationsReceived { totalCount } } }`,
      {a: insider},
    )
    const [c] = await rows(`SELECT count(*)::int AS n FROM contribution WHERE contributor = $1`, [insider])
    const [v] = await rows(`SELECT count(*)::int AS n FROM validation v JOIN contribution c ON c.id = v.contribution_id WHERE c.contributor = $1`, [insider])
    expect(contributor).toEqual({
      address: getAddress(insider),
      totalRewards: sum.s,
      payouts: {totalCount: sum.n},
      contributions: {totalCount: c.n},
      validationsReceived: {totalCount: v.n},
    })
    const epochs = await gqlOk(api, `{ rewardEpochs(first: 10) { totalCount edges { node { id totalPaid payouts(first: 50) { totalCount edges { node { amount } } } } } } }`)
    expect(epochs.rewardEpochs.totalCount).toBe((await rows(`SELECT id FROM reward_epoch`)).length)
    expect(epochs.rewardEpochs.totalCount).toBeLessThanOrEqual(10)
    for (const {node} of epochs.rewardEpochs.edges) {
      expect(node.payouts.totalCount).toBeLessThanOrEqual(50)
      expect(node.payouts.edges.reduce((s: bigint, e: any) => s + BigInt(e.node.amount), 0n).toString()).toBe(node.totalPaid)
    }
  })

  it('serves models with versions, filtered contributions and validations equal to the registry rows', async () => {
    const models = await rows(`SELECT * FROM model ORDER BY event_id`)
    const data = await gqlOk(api, `{ models { totalCount edges { node { id modelId owner name versionCount
      versions(first: 100) { totalCount edges { node { versionId parent { versionId } } } }
      accepted: contributions(where: {status: ACCEPTED}, first: 100) { totalCount edges { node { id status kind validations { score accepted } } } }
      validations(first: 1) { totalCount } } } } }`)
    expect(data.models.totalCount).toBe(models.length)
    for (const [i, m] of models.entries()) {
      const node = data.models.edges[i].node
      expect([node.id, node.modelId, node.owner, node.name]).toEqual([m.id, m.model_id, addr(m.owner), m.name])
      expect(node.versions.totalCount).toBe(m.version_count)
      const accepted = await rows(`SELECT id FROM contribution WHERE model_id = $1 AND status = 'ACCEPTED' ORDER BY event_id`, [m.id])
      expect(node.accepted.edges.map((e: any) => e.node.id)).toEqual(accepted.map((r) => r.id))
      for (const e of node.accepted.edges) expect(e.node.validations.some((v: any) => v.accepted)).toBe(true)
      const [v] = await rows(`SELECT count(*)::int AS n FROM validation v JOIN contribution c ON c.id = v.contribution_id WHERE c.model_id = $1`, [m.id])
      expect(node.validations.totalCount).toBe(v.n)
    }
  })

  it('serves metric time series, Lorenz curves and fairness tables with their provenance', async () => {
    const token = net.deployment.token.toLowerCase()
    const db = await rows(
      `SELECT * FROM metric_value WHERE metric = 'concentration.gini' AND distribution = 'balances' AND scope_kind = 'token' AND scope_id = $1
       AND as_of_block BETWEEN 10 AND $2 ORDER BY as_of_block`,
      [token, net.head],
    )
    const q = `query($first: Int, $after: String, $scope: String!, $to: Int) { metricValues(
        where: {metric: "concentration.gini", distribution: "balances", scopeKind: "token", scopeId: $scope}, fromBlock: 10, toBlock: $to, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id asOfBlock value valueExact inputFromBlock inputToBlock inputRowCount inputDigest sqlDigest jobVersion computedAt } } } }`
    const {nodes} = await all(q, (d) => d.metricValues, {scope: getAddress(token), to: net.head}, 2)
    expect(db.length).toBeGreaterThan(2)
    expect(nodes).toEqual(
      db.map((r) => ({
        id: r.id,
        asOfBlock: r.as_of_block,
        value: Number(r.value),
        valueExact: r.value_exact,
        inputFromBlock: r.input_from_block,
        inputToBlock: r.input_to_block,
        inputRowCount: r.input_row_count,
        inputDigest: r.input_digest,
        sqlDigest: r.sql_digest,
        jobVersion: r.job_version,
        computedAt: iso(r.computed_at),
      })),
    )

    const lorenz = await gqlOk(api, `query($s: String!) { lorenzCurve(distribution: "balances", scopeKind: "token", scopeId: $s, atBlock: 25) {
      asOfBlock inputDigest points { x y } } }`, {s: token})
    const points = await rows(`SELECT x::float8 AS x, y::float8 AS y, as_of_block FROM lorenz_point WHERE distribution = 'balances' AND scope_id = $1
      AND as_of_block = (SELECT max(as_of_block) FROM lorenz_point WHERE scope_id = $1 AND distribution = 'balances' AND as_of_block <= 25) ORDER BY point_index`, [token])
    expect(lorenz.lorenzCurve.asOfBlock).toBe(points[0]!.as_of_block)
    expect(lorenz.lorenzCurve.points).toEqual(points.map((p) => ({x: p.x, y: p.y})))

    const fair = await gqlOk(api, `{ fairnessTable(scopeKind: "protocol", scopeId: "protocol", first: 1000) { asOfBlock totalCount edges { node { contributor verdict rewardShare ratio } } } }`)
    expect(fair.fairnessTable.asOfBlock).toBe(net.head)
    const verdicts = new Map(fair.fairnessTable.edges.map((e: any) => [e.node.contributor, e.node.verdict]))
    for (const insider of net.scenario.insiders) expect(verdicts.get(getAddress(insider))).toBe('over_rewarded')
    const [n] = await rows(`SELECT count(*)::int AS n FROM fairness_entry WHERE scope_kind = 'protocol' AND scope_id = 'protocol' AND as_of_block = $1`, [net.head])
    expect(fair.fairnessTable.totalCount).toBe(n.n)
  })

  it('gives the protocol overview from the aggregates', async () => {
    const {protocol} = await gqlOk(api, `{ protocol { tokens { address totalSupply holderCount } governors { address proposalCount }
      modelCount contributionCount rewardEpochCount rewardPayoutCount totalRewardsFunded totalRewardsPaid } }`)
    const [t] = await rows(`SELECT * FROM token`)
    const [sums] = await rows(`SELECT (SELECT sum(amount)::text FROM reward_funding) AS f, (SELECT sum(amount)::text FROM reward_payout) AS p,
      (SELECT count(*)::int FROM model) AS m, (SELECT count(*)::int FROM contribution) AS c, (SELECT count(*)::int FROM reward_epoch) AS e`)
    expect(protocol).toMatchObject({
      tokens: [{address: addr(t.id), totalSupply: t.total_supply, holderCount: t.holder_count}],
      modelCount: sums.m,
      contributionCount: sums.c,
      rewardEpochCount: sums.e,
      totalRewardsFunded: sums.f,
      totalRewardsPaid: sums.p,
    })
  })
})
