import type {Pool, PoolClient} from 'pg'
import {JOB_VERSION, type MetricRecord} from './measurement'

/**
 * Writes analytics results to Postgres: one statement per table per run (json_populate_recordset over a JSON array
 * parameter), upserting by id so a re-run at the same block replaces its own values.
 */
export interface LorenzRecord {
  distribution: string
  scopeKind: string
  scopeId: string
  asOfBlock: number
  pointIndex: number
  x: number
  y: number
  inputDigest: string
}

export interface FairnessRecord {
  scopeKind: string
  scopeId: string
  asOfBlock: number
  contributor: string
  contributionValue: string
  contributionShare: number
  rewardAmount: string
  rewardShare: number
  ratio: number | null
  verdict: 'over_rewarded' | 'under_rewarded' | 'proportionate'
  inputDigest: string
}

export interface SuiteResults {
  metrics: MetricRecord[]
  lorenz: LorenzRecord[]
  fairness: FairnessRecord[]
}

export const metricValueId = (r: Pick<MetricRecord, 'metric' | 'distribution' | 'scopeKind' | 'scopeId' | 'asOfBlock'>) =>
  `${r.metric}/${r.distribution}/${r.scopeKind}/${r.scopeId}/${r.asOfBlock}`

export async function writeResults(pool: Pool, results: SuiteResults, computedAt = new Date()): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await upsert(
      client,
      'metric_value',
      results.metrics.map((r) => ({
        id: metricValueId(r),
        metric: r.metric,
        distribution: r.distribution,
        scope_kind: r.scopeKind,
        scope_id: r.scopeId,
        as_of_block: r.asOfBlock,
        value: r.value != null && Number.isFinite(r.value) ? r.value : null,
        value_exact: r.exact ?? null,
        input_from_block: r.inputFromBlock,
        input_to_block: r.inputToBlock,
        input_row_count: r.inputRowCount,
        input_digest: r.inputDigest,
        sql_digest: r.sqlDigest,
        job_version: JOB_VERSION,
        computed_at: computedAt.toISOString(),
      })),
    )
    await upsert(
      client,
      'lorenz_point',
      results.lorenz.map((p) => ({
        id: `${p.distribution}/${p.scopeKind}/${p.scopeId}/${p.asOfBlock}/${p.pointIndex}`,
        distribution: p.distribution,
        scope_kind: p.scopeKind,
        scope_id: p.scopeId,
        as_of_block: p.asOfBlock,
        point_index: p.pointIndex,
        x: p.x,
        y: p.y,
        input_digest: p.inputDigest,
        job_version: JOB_VERSION,
      })),
    )
    await upsert(
      client,
      'fairness_entry',
      results.fairness.map((f) => ({
        id: `${f.scopeKind}/${f.scopeId}/${f.asOfBlock}/${f.contributor}`,
        scope_kind: f.scopeKind,
        scope_id: f.scopeId,
        as_of_block: f.asOfBlock,
        contributor: f.contributor,
        contribution_value: f.contributionValue,
        contribution_share: f.contributionShare,
        reward_amount: f.rewardAmount,
        reward_share: f.rewardShare,
        ratio: f.ratio,
        verdict: f.verdict,
        input_digest: f.inputDigest,
        job_version: JOB_VERSION,
      })),
    )
    await client.query('COMMIT')
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw e
  } finally {
    client.release()
  }
}

/** Results computed at blocks that a reorg can still change are dropped before the new ones are written. */
export async function dropResultsAbove(pool: Pool, block: number): Promise<void> {
  for (const table of ['metric_value', 'lorenz_point', 'fairness_entry']) {
    await pool.query(`DELETE FROM ${table} WHERE as_of_block > $1`, [block])
  }
}

async function upsert(client: PoolClient, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return
  const columns = Object.keys(rows[0]!)
  const updates = columns.filter((c) => c !== 'id').map((c) => `${c} = EXCLUDED.${c}`)
  await client.query(
    `INSERT INTO ${table} (${columns.join(', ')})
     SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${table}, $1::json)
     ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')}`,
    [JSON.stringify(rows)],
  )
}
