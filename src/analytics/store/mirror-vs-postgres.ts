import type {DuckDBConnection} from '@duckdb/node-api'
import type {Pool} from 'pg'
import * as inputs from './inputs'
import {TYPED_TABLES} from './schema'
import {readSyncState} from './sync'

/** The protocol's contracts whose relations are compared (lowercased addresses). */
export interface ProtocolAddresses {
  token: string
  governor: string
  modelRegistry: string
  contributionRegistry: string
  rewardDistributor: string
}

export interface MirrorComparison {
  mismatches: string[]
  /** How many rows each check compared, so an empty mirror cannot pass unnoticed. */
  checked: Record<string, number>
}

/**
 * Checks the mirror and its input relations against the processor's own tables in Postgres, at the height of the
 * last sync (Postgres must not have moved since). Two independent derivations of the same numbers: the processor's
 * stateful handlers and the mirror's as-of SQL over the raw events.
 */
export async function compareMirrorWithPostgres(conn: DuckDBConnection, pg: Pool, p: ProtocolAddresses): Promise<MirrorComparison> {
  const state = await readSyncState(conn)
  if (!state) throw new Error('compareMirrorWithPostgres: the mirror was never synced')
  const block = state.height
  const mismatches: string[] = []
  const checked: Record<string, number> = {}
  const same = (what: string, pgRows: Pairs, duckRows: Pairs) => {
    checked[what] = pgRows.length
    const a = JSON.stringify(sortPairs(pgRows))
    const b = JSON.stringify(sortPairs(duckRows))
    if (a !== b) mismatches.push(`${what}: postgres ${a.slice(0, 600)} / mirror ${b.slice(0, 600)}`)
  }
  const duck = (sql: string, params: inputs.InputParams) => relation(conn, sql, params)
  const pgq = async (sql: string, params: unknown[] = []) => (await pg.query<{k: string; v: string}>(sql, params)).rows.map((r): Pair => [String(r.k), String(r.v)])

  same('audit_event rows', await pgq(`SELECT 'all' AS k, count(*)::text AS v FROM audit_event`), await duckPairs(conn, `SELECT 'all' AS k, count(*)::VARCHAR AS v FROM audit_event`))
  for (const t of TYPED_TABLES) {
    same(
      `${t.name} rows`,
      await pgq(`SELECT $1::text AS k, count(*)::text AS v FROM audit_event WHERE contract_kind = $2 AND event_name = ANY($3) AND NOT args ? 'decodeError'`, [t.name, t.contractKind, t.events]),
      await duckPairs(conn, `SELECT '${t.name}' AS k, count(*)::VARCHAR AS v FROM ${t.name}`),
    )
  }
  const tokenAt = {token: p.token, block}
  same('balances', await pgq(`SELECT account_id AS k, balance::text AS v FROM token_holder WHERE token_id = $1 AND balance > 0`, [p.token]), await duck(inputs.BALANCES_AT, tokenAt))
  same('voting power', await pgq(`SELECT account_id AS k, votes::text AS v FROM token_holder WHERE token_id = $1 AND votes > 0`, [p.token]), await duck(inputs.VOTING_POWER_AT, tokenAt))
  same('total supply', await pgq(`SELECT 'supply' AS k, total_supply::text AS v FROM token WHERE id = $1`, [p.token]), await duck(`SELECT 'supply' AS entity, supply AS w FROM (${inputs.TOTAL_SUPPLY_AT})`, tokenAt))

  const proposals = (await pg.query(`SELECT proposal_id::text AS id, quorum::text AS quorum, for_votes::text AS f, against_votes::text AS a,
    abstain_votes::text AS ab FROM proposal WHERE governor_id = $1`, [p.governor])).rows
  const pgTallies: Pairs = []
  const duckTallies: Pairs = []
  for (const pr of proposals) {
    const one = {governor: p.governor, proposal: pr.id as string}
    pgTallies.push([`${pr.id} quorum`, String(pr.quorum)], [`${pr.id} 0`, pr.a], [`${pr.id} 1`, pr.f], [`${pr.id} 2`, pr.ab])
    const [q] = await duck(`SELECT 'q' AS entity, quorum AS w FROM (${inputs.QUORUM_AT})`, {...one, token: p.token})
    duckTallies.push([`${pr.id} quorum`, String(q?.[1] ?? 'missing')])
    const sums = new Map((await duck(`SELECT support::VARCHAR AS entity, sum(weight)::HUGEINT AS w FROM (${inputs.PROPOSAL_VOTES}) GROUP BY support`, {...one, block: null})))
    for (const s of ['0', '1', '2']) duckTallies.push([`${pr.id} ${s}`, sums.get(s) ?? '0'])
  }
  same('proposal quorum and tallies', pgTallies, duckTallies)

  const scope = {registry: p.contributionRegistry, model: null, block: null}
  const contrib = `SELECT contributor AS entity, value AS w FROM (${inputs.VALIDATED_CONTRIBUTION})`
  const reward = `SELECT recipient AS entity, amount AS w FROM (${inputs.REWARDS})`
  same('validated contribution', await pgq(`SELECT contributor AS k, sum(units * score)::text AS v FROM contribution
    WHERE registry = $1 AND status = 'ACCEPTED' GROUP BY contributor HAVING sum(units * score) > 0`, [p.contributionRegistry]), await duck(contrib, scope))
  const [firstModel] = (await pg.query(`SELECT model_id::text AS m FROM model WHERE registry = $1 ORDER BY model_id LIMIT 1`, [p.modelRegistry])).rows
  if (firstModel) {
    same('validated contribution, one model', await pgq(`SELECT contributor AS k, sum(units * score)::text AS v FROM contribution
      WHERE registry = $1 AND status = 'ACCEPTED' AND model_id = $2 GROUP BY contributor HAVING sum(units * score) > 0`, [p.contributionRegistry, `${p.modelRegistry}-${firstModel.m}`]),
    await duck(contrib, {...scope, model: firstModel.m}))
    same('rewards, one model', await pgq(`SELECT r.recipient AS k, sum(r.amount)::text AS v FROM reward_payout r JOIN reward_epoch e ON e.id = r.epoch_id
      WHERE e.distributor = $1 AND e.scope_model_id = $2 GROUP BY r.recipient HAVING sum(r.amount) > 0`, [p.rewardDistributor, firstModel.m]),
    await duck(reward, {distributor: p.rewardDistributor, model: firstModel.m, block: null}))
  }
  same('rewards', await pgq(`SELECT r.recipient AS k, sum(r.amount)::text AS v FROM reward_payout r JOIN reward_epoch e ON e.id = r.epoch_id
    WHERE e.distributor = $1 GROUP BY r.recipient HAVING sum(r.amount) > 0`, [p.rewardDistributor]), await duck(reward, {distributor: p.rewardDistributor, model: null, block: null}))
  same('validations per validator', await pgq(`SELECT validator AS k, count(*)::text AS v FROM validation GROUP BY validator`), await duck(inputs.VALIDATIONS_PER_VALIDATOR, scope))
  same('self-validations', await pgq(`SELECT validator AS k, count(*)::text AS v FROM validation WHERE self_validated GROUP BY validator`), await duck(inputs.SELF_VALIDATIONS, scope))
  same('model owners', await pgq(`SELECT model_id::text AS k, owner AS v FROM model WHERE registry = $1`, [p.modelRegistry]),
    await duck(`SELECT model AS entity, owner AS w FROM (${inputs.MODEL_OWNERS_AT})`, {registry: p.modelRegistry, block: null}))
  return {mismatches, checked}
}

type Pair = [string, string]
type Pairs = Pair[]
const sortPairs = (rows: Pairs) => [...rows].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))

/** An (entity, w) relation as string pairs. */
async function relation(conn: DuckDBConnection, sql: string, params: inputs.InputParams): Promise<Pairs> {
  await inputs.materialize(conn, 'compared', sql, params)
  return duckPairs(conn, 'SELECT entity AS k, CAST(w AS VARCHAR) AS v FROM compared')
}

async function duckPairs(conn: DuckDBConnection, sql: string): Promise<Pairs> {
  const rows = (await conn.runAndReadAll(sql)).getRowObjectsJson()
  return rows.map((r): Pair => [String(r.k), r.v === null ? 'null' : String(r.v)])
}
