import type {DuckDBConnection} from '@duckdb/node-api'
import {CONCENTRATION_SQL, concentrationParams} from '../metrics/concentration'
import {FAIRNESS_MARGIN, FAIRNESS_SQL} from '../metrics/fairness'
import {INSIDER_OVERLAP_SQL} from '../metrics/insiders'
import {MODEL_OWNER_CONCENTRATION_SQL} from '../metrics/model-owners'
import {DELEGATE_ACTIVITY_SQL, PARTICIPATION_SQL, REPEAT_VOTERS_SQL} from '../metrics/participation'
import {queryOne, queryRows} from '../metrics/sql-values'
import {SELF_VALIDATION_SQL, VALIDATOR_CONCENTRATION_SQL} from '../metrics/validators'
import * as inputs from '../store/inputs'
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
 * The metric suite at one block: which measurements exist is read from the contracts file (tokens, governors,
 * registries) and from the mirror (proposals and models known at that block). Every measurement is declarative,
 * so the reproduce command can rebuild exactly the one that produced a stored value.
 */
export async function planSuite(conn: DuckDBConnection, contracts: ContractsConfig, block: number): Promise<Measurement[]> {
  const plan: Measurement[] = []
  const of = (kind: string) => contracts.contracts.filter((c) => c.kind === kind)
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
    for (const p of await proposalsAt(conn, governor.address, block)) {
      plan.push(...(await proposalMeasurements(conn, governor.address, governor.token, p, block)))
    }
  }
  const registry = of('contributionRegistry')[0]
  const distributor = of('rewardDistributor')[0]
  const token = of('token')[0]
  if (registry && distributor) {
    const models = await modelsAt(conn, contracts.modelRegistryFor(registry), block)
    plan.push(...fairnessMeasurements('protocol', 'protocol', null, registry.address, distributor.address, token?.address, block))
    for (const m of models) {
      plan.push(...fairnessMeasurements('model', m.entityId, m.modelId, registry.address, distributor.address, token?.address, block))
    }
  }
  for (const modelRegistry of of('modelRegistry')) {
    plan.push({
      distribution: 'model_owners',
      scopeKind: 'protocol',
      scopeId: modelRegistry.address,
      asOfBlock: block,
      inputs: [{relation: 'models', sql: inputs.MODEL_OWNERS_AT, params: {registry: modelRegistry.address, block}}],
      queries: [{sql: MODEL_OWNER_CONCENTRATION_SQL, params: concentrationParams({}), read: concentrationWithAliases('model_owner')}],
    })
  }
  return plan
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

interface ProposalRow {
  proposalId: string
  voteStart: number
}

async function proposalMeasurements(
  conn: DuckDBConnection,
  governor: string,
  token: string,
  p: ProposalRow,
  block: number,
): Promise<Measurement[]> {
  const scopeId = `${governor}-${p.proposalId}`
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
  if (p.voteStart < block) {
    const quorum = await queryOne(conn, inputs.QUORUM_AT, {governor, proposal: p.proposalId, token})
    const power = await queryOne(conn, `SELECT CAST(coalesce(sum(w::BIGNUM), 0::BIGNUM) AS VARCHAR) AS total FROM (${inputs.VOTING_POWER_AT})`, {
      token,
      block: p.voteStart,
    })
    if (quorum.quorum != null) {
      measurements.push({
        distribution: 'votes',
        scopeKind: 'proposal',
        scopeId,
        asOfBlock: block,
        inputs: [{relation: 'votes', sql: inputs.PROPOSAL_VOTES, params: one}],
        queries: [{sql: PARTICIPATION_SQL, params: {supply: String(power.total), quorum: String(quorum.quorum)}, read: participationReadings}],
      })
    }
  }
  return measurements
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

async function proposalsAt(conn: DuckDBConnection, governor: string, block: number): Promise<ProposalRow[]> {
  const rows = await queryRows(
    conn,
    `SELECT proposal_id, CAST(vote_start AS BIGINT) AS vote_start FROM proposal
     WHERE governor = $governor AND block_number <= $block ORDER BY id`,
    {governor, block},
  )
  return rows.map((r) => ({proposalId: String(r.proposal_id), voteStart: Number(r.vote_start)}))
}

async function modelsAt(conn: DuckDBConnection, registry: string | undefined, block: number): Promise<{entityId: string; modelId: string}[]> {
  if (!registry) return []
  const rows = await queryRows(conn, `SELECT model_id FROM model WHERE registry = $registry AND block_number <= $block ORDER BY id`, {
    registry,
    block,
  })
  return rows.map((r) => ({entityId: `${registry}-${String(r.model_id)}`, modelId: String(r.model_id)}))
}
