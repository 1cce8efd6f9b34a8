import type {DuckDBConnection} from '@duckdb/node-api'
import {CONCENTRATION_SQL} from '../metrics/concentration'
import {CONCENTRATION_BY_GROUP_SQL, PARTICIPATION_BY_GROUP_SQL} from '../metrics/grouped'
import {PARTICIPATION_SQL} from '../metrics/participation'
import {queryRows, type BoundValue, type Row} from '../metrics/sql-values'
import * as inputs from '../store/inputs'
import {materialize} from '../store/inputs'
import {type InputProvenance, type Measurement, type MetricRecord, toRecords} from './measurement'

/**
 * The per-proposal measurements of a suite, computed in a few grouped queries instead of four queries each.
 *
 * A measurement is batched only when it is exactly one of the shapes below (one input of a known per-proposal
 * query, one known metric query); everything is read off the declarative Measurement, so the batch cannot drift
 * from what runMeasurement (and the reproduce command) would compute for it. Per proposal, the grouped input has
 * exactly the single input's rows, the grouped digest hashes them exactly as INPUT_DIGEST_SQL does (each row
 * rendered as the same struct text), and the grouped metric query is the single one partitioned by proposal
 * (metrics/grouped.ts, checked group by group by its property tests). So every value keeps its own input row
 * count, input digest and SQL digest, and `reproduce` recomputes it from the single-proposal SQL.
 */
interface Shape {
  inputSql: string
  querySql: string
  /** Columns of the single input relation, in order: the digest renders each row as this struct. */
  columns: readonly string[]
  groupedInputSql: string
  groupedRelation: string
  groupedQuerySql: string
  /** Query parameters that differ per proposal and go into group_keys instead (in this order), as VARCHAR. */
  perGroupParams: readonly string[]
}

const SHAPES: readonly Shape[] = [
  {
    inputSql: inputs.PROPOSAL_WEIGHTS,
    querySql: CONCENTRATION_SQL,
    columns: ['entity', 'w'],
    groupedInputSql: inputs.PROPOSAL_WEIGHTS_BY_PROPOSAL,
    groupedRelation: 'group_dist',
    groupedQuerySql: CONCENTRATION_BY_GROUP_SQL,
    perGroupParams: [],
  },
  {
    inputSql: inputs.PROPOSAL_VOTES,
    querySql: PARTICIPATION_SQL,
    columns: ['voter', 'support', 'weight'],
    groupedInputSql: inputs.PROPOSAL_VOTES_BY_PROPOSAL,
    groupedRelation: 'group_votes',
    groupedQuerySql: PARTICIPATION_BY_GROUP_SQL,
    perGroupParams: ['supply', 'quorum'],
  },
]

/** Per-group row count and digest, exactly INPUT_DIGEST_SQL over each group's rows (groups without rows included). */
const groupedDigestSql = (relation: string, columns: readonly string[]) => `
SELECT k.g, count(x.h) AS n, sha256(coalesce(string_agg(x.h, '' ORDER BY x.h), '')) AS digest
FROM group_keys k LEFT JOIN (SELECT g, md5(CAST(struct_pack(${columns.join(', ')}) AS VARCHAR)) AS h FROM ${relation}) x ON x.g = k.g
GROUP BY k.g`

interface Batch {
  shape: Shape
  /** governor, block and the shared query parameters: what every measurement of the batch has in common. */
  inputParams: Record<string, string | number | bigint | null>
  sharedParams: Record<string, BoundValue>
  members: {index: number; m: Measurement; proposal: string; perGroup: string[]}[]
}

/**
 * Splits `plan` into the measurements computed here (by index) and the rest; then computes the batched ones.
 * Returns the records per plan index.
 */
export async function runBatched(conn: DuckDBConnection, plan: readonly Measurement[], inputFromBlock: number): Promise<Map<number, MetricRecord[]>> {
  const batches = new Map<string, Batch>()
  plan.forEach((m, index) => {
    const found = batchable(m)
    if (!found) return
    const {shape, proposal, inputParams, sharedParams, perGroup} = found
    const key = JSON.stringify([SHAPES.indexOf(shape), inputParams, sharedParams])
    let batch = batches.get(key)
    if (!batch) batches.set(key, (batch = {shape, inputParams, sharedParams, members: []}))
    batch.members.push({index, m, proposal, perGroup})
  })
  const out = new Map<number, MetricRecord[]>()
  for (const batch of batches.values()) for (const [index, records] of await runBatch(conn, batch, inputFromBlock)) out.set(index, records)
  return out
}

function batchable(m: Measurement) {
  if (m.inputs.length !== 1 || m.queries.length !== 1) return undefined
  const input = m.inputs[0]!
  const query = m.queries[0]!
  const shape = SHAPES.find((s) => s.inputSql === input.sql && s.querySql === query.sql)
  if (!shape) return undefined
  const {proposal, ...inputParams} = input.params
  if (typeof proposal !== 'string') return undefined
  const perGroup = shape.perGroupParams.map((p) => query.params[p])
  if (perGroup.some((v) => typeof v !== 'string')) return undefined
  const sharedParams = Object.fromEntries(Object.entries(query.params).filter(([k]) => !shape.perGroupParams.includes(k)))
  return {shape, proposal, inputParams, sharedParams, perGroup: perGroup as string[]}
}

async function runBatch(conn: DuckDBConnection, batch: Batch, inputFromBlock: number): Promise<Map<number, MetricRecord[]>> {
  const {shape} = batch
  // A proposal id appears once per batch (the plan has one measurement per distribution and proposal); if not,
  // the grouped rows could not be told apart.
  const ids = new Set(batch.members.map((x) => x.proposal))
  if (ids.size !== batch.members.length) throw new Error('batch: a proposal appears twice in one batch')
  await conn.run(`CREATE OR REPLACE TEMP TABLE group_keys (g VARCHAR NOT NULL${shape.perGroupParams.map((p) => `, ${p} VARCHAR NOT NULL`).join('')})`)
  const appender = await conn.createAppender('group_keys', 'main', 'temp')
  for (const x of batch.members) {
    appender.appendVarchar(x.proposal)
    for (const v of x.perGroup) appender.appendVarchar(v)
    appender.endRow()
  }
  appender.closeSync()
  await materialize(conn, shape.groupedRelation, shape.groupedInputSql, batch.inputParams)
  const digests = byGroup(await queryRows(conn, groupedDigestSql(shape.groupedRelation, shape.columns)))
  const rows = byGroup(await queryRows(conn, shape.groupedQuerySql, batch.sharedParams))
  const out = new Map<number, MetricRecord[]>()
  for (const x of batch.members) {
    const d = digests.get(x.proposal)
    const row = rows.get(x.proposal)
    if (!d || !row) throw new Error(`batch: no grouped result for proposal ${x.proposal}`)
    const provenance: InputProvenance = {rowCount: Number(d.n), digest: String(d.digest)}
    const {g: _g, ...single} = row
    out.set(x.index, toRecords(x.m, x.m.queries[0]!, single, provenance, inputFromBlock))
  }
  return out
}

function byGroup(rows: Row[]): Map<string, Row> {
  return new Map(rows.map((r) => [String(r.g), r]))
}
