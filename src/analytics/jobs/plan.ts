import type {DuckDBConnection} from '@duckdb/node-api'
import {CONCENTRATION_SQL, concentrationParams} from '../metrics/concentration'
import {FAIRNESS_MARGIN, FAIRNESS_SQL} from '../metrics/fairness'
import {INSIDER_OVERLAP_SQL} from '../metrics/insiders'
import {MODEL_OWNER_CONCENTRATION_SQL} from '../metrics/model-owners'
import {DELEGATE_ACTIVITY_SQL, PARTICIPATION_SQL, REPEAT_VOTERS_SQL} from '../metrics/participation'
import {queryOne, queryRows} from '../metrics/sql-values'
import {SELF_VALIDATION_SQL, VALIDATOR_CONCENTRATION_SQL} from '../metrics/validators'
import * as inputs from '../store/inputs'
import {type ProposalSnapshot, proposalSnapshotsAt} from '../store/proposal-snapshots'
import type {ContractsConfig} from '../../processor/contracts-config'
import type {Measurement} from './measurement'
import {
  concentrationReadings,
  concentrationWithAliases,
  delegateActivityReadings,
  fairnessReadings,
  insiderReadings,
  participationReadings,
  repeatVoterReadings,
  selfValidationReadings,
} from './readings'

/**
 * What a refresh recomputes, and how stored values are read ("latest value at or below block B").
 *
 * A stored value of (metric, distribution, scope) at block S stands for every block B >= S up to the next stored
 * block of that series: readers (the API) take, for a block B, the row with the greatest as_of_block <= B. A refresh
 * at head B therefore skips measurements whose inputs provably did not change since their latest stored block S
 * (S <= B, same JOB_VERSION), and writes nothing for them:
 *
 * - Proposal scopes (weight_cast, votes): they read the proposal's votes and, for votes (turnout, pivotality), the
 *   snapshot figures (supply, quorum, voting power at vote_start), fixed once the mirror passed vote_start. Votes are
 *   cast at blocks <= vote_end only. While open, a measurement is skipped when no vote on the proposal lies in (S, B]
 *   (for votes, with S past vote_start): most open proposals get no vote between two refreshes. It is measured once
 *   more at the first refresh at a block >= vote_end; after that (stored S with vote_end <= S <= B) it is skipped:
 *   its time series ends at its final value.
 * - Fairness scopes (model / protocol): contributions_vs_rewards and validations read contribution, validation,
 *   reward_paid and epoch rows only; insiders also reads votes_change (top holders). A scope is skipped when no row
 *   of the tables it reads (of its registry / distributor / token) lies in (S, B].
 * - The model registry's owner concentration (model_owners) reads model and model_owner_change rows of its registry
 *   only, and is skipped when none lies in (S, B].
 * - Token and governor scopes are measured at every head (transfers and votes change nearly every block).
 *
 * Without `stored` (the reproduce command, tests, the benchmark's full suite) every measurement is planned, so a
 * stored value's measurement can always be rebuilt at its as_of_block. Rows above the finalized height are dropped
 * by the refresh before `stored` is read, so a reorg never leaves a skipped scope without its recomputed value.
 */
export interface PlanOptions {
  /** Latest stored as_of_block per storedKey(distribution, scopeKind, scopeId), of the current JOB_VERSION. */
  stored?: ReadonlyMap<string, number>
  /**
   * A second connection to the same database on which the governors' proposal snapshots are read (and their cache
   * extended), beside the rest of the plan on the first: at the head that is the plan's largest part (a point query
   * per proposal whose snapshot became final, ~20 ms at the benchmark's size), and both of a suite's connections wait
   * for the plan. Default: all on the first connection.
   */
  snapshotConnection?: DuckDBConnection
}

export const storedKey = (distribution: string, scopeKind: string, scopeId: string) => `${distribution}/${scopeKind}/${scopeId}`

/**
 * The metric suite at one block: which measurements exist is read from the contracts file (tokens, governors,
 * registries) and from the mirror (proposals and models known at that block). Every measurement is declarative,
 * so the reproduce command can rebuild exactly the one that produced a stored value.
 */
export function planSuite(conn: DuckDBConnection, contracts: ContractsConfig, block: number, options: PlanOptions = {}): Promise<Measurement[]> {
  return planInStages(conn, contracts, block, options).full
}

/**
 * planSuite in two stages: `withoutProposals`, the plan without the per-proposal measurements (in the full plan's
 * order), known as soon as the first connection has read what it needs; `full`, the whole plan, once the proposal
 * snapshots are read too (on options.snapshotConnection, beside the first stage, when given). A caller whose work
 * needs no proposal can start it at the first stage. `full` settles only after every read of both connections did,
 * even when one failed, so the caller may use either connection right after it.
 */
export function planInStages(
  conn: DuckDBConnection,
  contracts: ContractsConfig,
  block: number,
  options: PlanOptions = {},
): {withoutProposals: Promise<Measurement[]>; full: Promise<Measurement[]>} {
  const second = options.snapshotConnection !== undefined && options.snapshotConnection !== conn ? options.snapshotConnection : undefined
  const snapshots = second ? readProposalsOfEveryGovernor(second, contracts, block, options.stored) : undefined
  // Awaited below; a failure before then must not go unhandled meanwhile.
  snapshots?.catch(() => undefined)
  const snapshotsOf = (governor: string, token: string): Promise<GovernorProposals> =>
    snapshots
      ? snapshots.then((byGovernor) => byGovernor.get(governor) ?? Promise.reject(new Error(`plan: no proposal snapshots read for governor ${governor}`)))
      : readProposals(conn, governor, token, block, options.stored)
  const parts = planParts(conn, contracts, block, options, snapshotsOf, second !== undefined)
  const full = (async () => {
    try {
      const all = await Promise.all((await parts).map((part) => (Array.isArray(part) ? part : part.proposals)))
      return all.flat()
    } finally {
      await snapshots?.then(
        () => undefined,
        () => undefined,
      )
    }
  })()
  const withoutProposals = parts.then((all) => all.flatMap((part) => (Array.isArray(part) ? part : [])))
  withoutProposals.catch(() => undefined)
  return {withoutProposals, full}
}

/** A governor's proposals at a block: their snapshots, and when each open one last had a vote (proposalLastVotes). */
interface GovernorProposals {
  snapshots: ProposalSnapshot[]
  lastVotes: ReadonlyMap<string, number>
}

/** Every governor's proposals (readProposals), one governor after the other on `conn`. */
async function readProposalsOfEveryGovernor(
  conn: DuckDBConnection,
  contracts: ContractsConfig,
  block: number,
  stored: ReadonlyMap<string, number> | undefined,
): Promise<Map<string, GovernorProposals>> {
  const byGovernor = new Map<string, GovernorProposals>()
  for (const g of contracts.contracts) if (g.kind === 'governor') byGovernor.set(g.address, await readProposals(conn, g.address, g.token, block, stored))
  return byGovernor
}

async function readProposals(
  conn: DuckDBConnection,
  governor: string,
  token: string,
  block: number,
  stored: ReadonlyMap<string, number> | undefined,
): Promise<GovernorProposals> {
  const snapshots = await proposalSnapshotsAt(conn, governor, token, block)
  return {snapshots, lastVotes: await proposalLastVotes(conn, governor, snapshots, block, stored)}
}

/** The plan's scope id of a proposal. */
const proposalScopeId = (governor: string, proposalId: string) => `${governor}-${proposalId}`

/**
 * Per proposal id, the last block in (`after`, `block`] with a vote on it, where `after` is the earliest stored block
 * of the per-proposal measurements of the governor's open proposals (absent from the map: no vote in that window). It
 * is compared with stored blocks S >= `after` only, as fairnessChanges' window is (see there). Without stored values,
 * or with none for an open proposal, nothing is read.
 */
async function proposalLastVotes(
  conn: DuckDBConnection,
  governor: string,
  snapshots: readonly ProposalSnapshot[],
  block: number,
  stored: ReadonlyMap<string, number> | undefined,
): Promise<Map<string, number>> {
  if (!stored) return new Map()
  let after: number | undefined
  for (const p of snapshots) {
    if (p.voteEnd !== null && p.voteEnd <= block) continue
    for (const distribution of PROPOSAL_DISTRIBUTIONS) {
      const s = stored.get(storedKey(distribution, 'proposal', proposalScopeId(governor, p.proposalId)))
      if (s !== undefined && s <= block) after = after === undefined ? s : Math.min(after, s)
    }
  }
  if (after === undefined) return new Map()
  const rows = await queryRows(
    conn,
    `SELECT proposal_id, max(block_number) AS last FROM vote_cast
     WHERE governor = $governor AND block_number > $after AND block_number <= $block GROUP BY proposal_id`,
    {governor, after, block},
  )
  return new Map(rows.map((r) => [String(r.proposal_id), Number(r.last)]))
}

/** The per-proposal measurements' distributions (proposalMeasurements). */
const PROPOSAL_DISTRIBUTIONS = ['weight_cast', 'votes'] as const

/** A stretch of the plan: measurements, or a governor's per-proposal measurements still to come. */
type PlanPart = Measurement[] | {proposals: Promise<Measurement[]>}

/**
 * The plan in parts, in order. With `concurrentSnapshots` the per-proposal parts are left pending while the rest is
 * read (their snapshots come from another connection); otherwise each is awaited in its place, so that no two reads
 * share a connection at once.
 */
async function planParts(
  conn: DuckDBConnection,
  contracts: ContractsConfig,
  block: number,
  options: PlanOptions,
  snapshotsOf: (governor: string, token: string) => Promise<GovernorProposals>,
  concurrentSnapshots: boolean,
): Promise<PlanPart[]> {
  const parts: PlanPart[] = []
  let plan: Measurement[] = []
  parts.push(plan)
  const of = (kind: string) => contracts.contracts.filter((c) => c.kind === kind)
  /** Whether (distribution, scope) has a stored value at S with since <= S <= block: nothing it reads changed. */
  const unchangedSince = (distribution: string, scopeKind: string, scopeId: string, since: number | null) => {
    const s = options.stored?.get(storedKey(distribution, scopeKind, scopeId))
    return s !== undefined && s <= block && (since === null || s >= since)
  }
  for (const token of of('token')) {
    const governor = contracts.contracts.find((c) => c.kind === 'governor' && c.token === token.address)
    const quorumShare = governor ? await quorumShareAt(conn, governor.address, block) : undefined
    plan.push(tokenMeasurement('balances', inputs.BALANCES_AT, token.address, block))
    plan.push(tokenMeasurement('voting_power', inputs.VOTING_POWER_AT, token.address, block, quorumShare))
  }
  for (const governor of of('governor')) {
    if (governor.kind !== 'governor') continue
    plan.push({
      distribution: 'votes',
      scopeKind: 'governor',
      scopeId: governor.address,
      asOfBlock: block,
      inputs: [{relation: 'votes_all', sql: inputs.VOTES_ALL, params: {governor: governor.address, block}}],
      queries: [{sql: REPEAT_VOTERS_SQL, params: {min_proposals: 2}, read: repeatVoterReadings}],
    })
    plan.push({
      distribution: 'delegates',
      scopeKind: 'governor',
      scopeId: governor.address,
      asOfBlock: block,
      inputs: [
        {relation: 'dist', sql: inputs.VOTING_POWER_AT, params: {token: governor.token, block}},
        {relation: 'votes_all', sql: inputs.VOTES_ALL, params: {governor: governor.address, block}},
      ],
      queries: [{sql: DELEGATE_ACTIVITY_SQL, params: {}, read: delegateActivityReadings}],
    })
    const address = governor.address
    // A stored turnout or pivotality value was computed with final snapshot figures only when stored past vote_start.
    const storedAfterSnapshot = (m: Measurement, p: ProposalSnapshot) => (options.stored?.get(storedKey(m.distribution, m.scopeKind, m.scopeId)) ?? -1) > p.voteStart
    const proposals = snapshotsOf(address, governor.token).then(({snapshots, lastVotes}) =>
      snapshots.flatMap((p) => {
        const scopeId = proposalScopeId(address, p.proposalId)
        // Closed at this block (no vote after vote_end) and already stored at or after its close: final.
        const closed = p.voteEnd !== null && p.voteEnd <= block
        if (closed && unchangedSince('weight_cast', 'proposal', scopeId, p.voteEnd)) return []
        const all = proposalMeasurements(address, scopeId, p, block)
        if (closed) return all
        // Open: a measurement stored at S stands while no vote on the proposal lies in (S, block], as it reads the
        // proposal's votes and, for turnout and pivotality, the snapshot figures, final once S is past vote_start.
        // (lastVotes covers the open proposals only.)
        const lastVote = lastVotes.get(p.proposalId) ?? null
        return all.filter((m) => !(unchangedSince(m.distribution, 'proposal', scopeId, lastVote) && (m.distribution !== 'votes' || storedAfterSnapshot(m, p))))
      }),
    )
    // Pending, it is awaited only once the rest is planned: a failure meanwhile must not go unhandled.
    if (concurrentSnapshots) proposals.catch(() => undefined)
    parts.push(concurrentSnapshots ? {proposals} : await proposals)
    plan = []
    parts.push(plan)
  }
  const registry = of('contributionRegistry')[0]
  const distributor = of('rewardDistributor')[0]
  const token = of('token')[0]
  if (registry && distributor) {
    const models = await modelsAt(conn, contracts.modelRegistryFor(registry), block)
    const scopes: [kind: 'protocol' | 'model', id: string, model: string | null][] = [
      ['protocol', 'protocol', null],
      ...models.map((m): ['model', string, string] => ['model', m.entityId, m.modelId]),
    ]
    // Last block at or below `block` with a row that the fairness inputs read (only needed to skip unchanged scopes).
    const storedFrom = options.stored ? earliestStored(options.stored, FAIRNESS_DISTRIBUTIONS, scopes, block) : undefined
    const changes = storedFrom === undefined ? undefined : await fairnessChanges(conn, registry.address, distributor.address, token?.address, block, storedFrom)
    for (const [scopeKind, scopeId, modelId] of scopes) {
      const all = fairnessMeasurements(scopeKind, scopeId, modelId, registry.address, distributor.address, token?.address, block)
      plan.push(...all.filter((m) => !changes || !unchangedSince(m.distribution, scopeKind, scopeId, changes[m.distribution as keyof FairnessChanges])))
    }
  }
  for (const modelRegistry of of('modelRegistry')) {
    const scopeId = modelRegistry.address
    const s = options.stored?.get(storedKey('model_owners', 'protocol', scopeId))
    if (s !== undefined && s <= block && unchangedSince('model_owners', 'protocol', scopeId, await modelOwnerChange(conn, scopeId, block, s))) continue
    plan.push({
      distribution: 'model_owners',
      scopeKind: 'protocol',
      scopeId: modelRegistry.address,
      asOfBlock: block,
      inputs: [{relation: 'models', sql: inputs.MODEL_OWNERS_AT, params: {registry: modelRegistry.address, block}}],
      queries: [{sql: MODEL_OWNER_CONCENTRATION_SQL, params: concentrationParams({}), read: concentrationWithAliases('model_owner')}],
    })
  }
  return parts
}

function tokenMeasurement(distribution: string, sql: string, token: string, block: number, quorumShare?: number): Measurement {
  return {
    distribution,
    scopeKind: 'token',
    scopeId: token,
    asOfBlock: block,
    inputs: [{relation: 'dist', sql, params: {token, block}}],
    queries: [{sql: CONCENTRATION_SQL, params: concentrationParams({quorumShare}), read: concentrationReadings('concentration')}],
  }
}

function proposalMeasurements(governor: string, scopeId: string, p: ProposalSnapshot, block: number): Measurement[] {
  const one = {governor, proposal: p.proposalId, block}
  const measurements: Measurement[] = [
    {
      distribution: 'weight_cast',
      scopeKind: 'proposal',
      scopeId,
      asOfBlock: block,
      inputs: [{relation: 'dist', sql: inputs.PROPOSAL_WEIGHTS, params: one}],
      queries: [{sql: CONCENTRATION_SQL, params: concentrationParams({}), read: concentrationReadings('concentration')}],
    },
  ]
  // Turnout and pivotality need the voting power and the quorum at the snapshot, known once the snapshot passed.
  if (p.voteStart < block && p.quorum !== null && p.power !== null) {
    measurements.push({
      distribution: 'votes',
      scopeKind: 'proposal',
      scopeId,
      asOfBlock: block,
      inputs: [{relation: 'votes', sql: inputs.PROPOSAL_VOTES, params: one}],
      queries: [{sql: PARTICIPATION_SQL, params: {supply: p.power, quorum: p.quorum}, read: participationReadings}],
    })
  }
  return measurements
}

interface FairnessChanges {
  contributions_vs_rewards: number | null
  validations: number | null
  insiders: number | null
}

const FAIRNESS_DISTRIBUTIONS: readonly (keyof FairnessChanges)[] = ['contributions_vs_rewards', 'validations', 'insiders']

/**
 * The earliest stored block S <= `block` among the fairness measurements of `scopes`; undefined when none is stored
 * (every one is computed, whatever changed).
 */
function earliestStored(
  stored: ReadonlyMap<string, number>,
  distributions: readonly string[],
  scopes: readonly [kind: string, id: string, model: string | null][],
  block: number,
): number | undefined {
  let earliest: number | undefined
  for (const [kind, id] of scopes) {
    for (const distribution of distributions) {
      const s = stored.get(storedKey(distribution, kind, id))
      if (s !== undefined && s <= block && (earliest === undefined || s < earliest)) earliest = s
    }
  }
  return earliest
}

/**
 * Per fairness distribution, the last block in (`after`, `block`] with a row of a table it reads (NULL: no such row).
 * It is compared with stored blocks S >= `after` only (unchangedSince): a change at or below `after` is at or below
 * every such S, as no change at all is, so the window answers each comparison as the whole history would. The window
 * lets DuckDB skip all but the last row groups by their block ranges (~20 ms over the history at the benchmark's size,
 * ~2 ms over the window).
 */
async function fairnessChanges(
  conn: DuckDBConnection,
  registry: string,
  distributor: string,
  token: string | undefined,
  block: number,
  after: number,
): Promise<FairnessChanges> {
  const window = 'block_number > $after AND block_number <= $block'
  const row = await queryOne(
    conn,
    `SELECT
       (SELECT max(block_number) FROM contribution WHERE registry = $registry AND ${window}) AS contribution,
       (SELECT max(block_number) FROM validation WHERE registry = $registry AND ${window}) AS validation,
       greatest((SELECT max(block_number) FROM reward_paid WHERE distributor = $distributor AND ${window}),
                (SELECT max(block_number) FROM epoch WHERE distributor = $distributor AND ${window})) AS reward,
       (SELECT max(block_number) FROM votes_change WHERE token = CAST($token AS VARCHAR) AND ${window}) AS power`,
    {registry, distributor, token: token ?? null, block, after},
  )
  const n = (v: unknown) => (v == null ? null : Number(v))
  const max = (...xs: (number | null)[]) => xs.reduce<number | null>((a, x) => (x === null ? a : a === null ? x : Math.max(a, x)), null)
  const [c, v, r, w] = [n(row.contribution), n(row.validation), n(row.reward), n(row.power)]
  return {contributions_vs_rewards: max(c, v, r), validations: max(c, v), insiders: max(w, r)}
}

/**
 * The last block in (`after`, `block`] with a model or model_owner_change row of `registry` (NULL: none), which is
 * all model_owners reads (MODEL_OWNERS_AT); `after` is the stored block it is compared with (see fairnessChanges).
 */
async function modelOwnerChange(conn: DuckDBConnection, registry: string, block: number, after: number): Promise<number | null> {
  const window = 'registry = $registry AND block_number > $after AND block_number <= $block'
  const row = await queryOne(
    conn,
    `SELECT greatest((SELECT max(block_number) FROM model WHERE ${window}), (SELECT max(block_number) FROM model_owner_change WHERE ${window})) AS last`,
    {registry, block, after},
  )
  return row.last == null ? null : Number(row.last)
}

function fairnessMeasurements(
  scopeKind: 'model' | 'protocol',
  scopeId: string,
  modelId: string | null,
  registry: string,
  distributor: string,
  token: string | undefined,
  block: number,
): Measurement[] {
  const contrib = {relation: 'contrib', sql: inputs.VALIDATED_CONTRIBUTION, params: {registry, model: modelId, block}}
  const reward = {relation: 'reward', sql: inputs.REWARDS, params: {distributor, model: modelId, block}}
  const out: Measurement[] = [
    {
      distribution: 'contributions_vs_rewards',
      scopeKind,
      scopeId,
      asOfBlock: block,
      inputs: [contrib, reward],
      queries: [{sql: FAIRNESS_SQL, params: {margin: FAIRNESS_MARGIN}, read: fairnessReadings}],
    },
    {
      distribution: 'validations',
      scopeKind,
      scopeId,
      asOfBlock: block,
      inputs: [{relation: 'validations', sql: inputs.VALIDATIONS, params: {registry, model: modelId, block}}],
      queries: [
        {sql: VALIDATOR_CONCENTRATION_SQL, params: concentrationParams({}), read: concentrationWithAliases('validator')},
        {sql: SELF_VALIDATION_SQL, params: {}, read: selfValidationReadings},
      ],
    },
  ]
  if (token) {
    out.push({
      distribution: 'insiders',
      scopeKind,
      scopeId,
      asOfBlock: block,
      inputs: [{relation: 'top_holders', sql: inputs.TOP_HOLDERS_AT, params: {token, block, limit: 10}}, reward],
      queries: [{sql: INSIDER_OVERLAP_SQL, params: {}, read: insiderReadings}],
    })
  }
  return out
}

/** OpenZeppelin's default quorum denominator; a governor that overrides quorumDenominator() is not supported yet. */
async function quorumShareAt(conn: DuckDBConnection, governor: string, block: number): Promise<number | undefined> {
  const rows = await queryRows(
    conn,
    `SELECT CAST(numerator AS VARCHAR) AS n FROM quorum_numerator WHERE governor = $governor AND block_number <= $block
     ORDER BY id DESC LIMIT 1`,
    {governor, block},
  )
  return rows[0] ? Number(rows[0].n) / 100 : undefined
}

async function modelsAt(conn: DuckDBConnection, registry: string | undefined, block: number): Promise<{entityId: string; modelId: string}[]> {
  if (!registry) return []
  const rows = await queryRows(conn, `SELECT model_id FROM model WHERE registry = $registry AND block_number <= $block ORDER BY id`, {
    registry,
    block,
  })
  return rows.map((r) => ({entityId: `${registry}-${String(r.model_id)}`, modelId: String(r.model_id)}))
}
