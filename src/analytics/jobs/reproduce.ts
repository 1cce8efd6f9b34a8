import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import type {DuckDBConnection} from '@duckdb/node-api'
import {DuckDBInstance} from '../duckdb'
import type {ContractsConfig} from '../../processor/contracts-config'
import type {BoundValue} from '../metrics/sql-values'
import {INPUT_DIGEST_SQL, type Measurement, prepareInputs} from './measurement'
import {planSuite} from './plan'

/**
 * Exports everything needed to recompute one stored metric value with stock DuckDB: the exact input rows (Parquet
 * and CSV), their digest, and one SQL script that loads them and runs the metric's SQL with its parameters.
 *
 *   cd <dir> && duckdb < reproduce.sql
 */
export interface ReproduceExport {
  dir: string
  files: string[]
  metricColumn: string
  /** The value the exported script computes, run here on a fresh in-memory DuckDB as a self-check. */
  recomputed: number | string | null
  inputDigest: string
}

export interface MetricValueKey {
  metric: string
  distribution: string
  scopeKind: string
  scopeId: string
  asOfBlock: number
}

export function parseMetricValueId(id: string): MetricValueKey {
  const parts = id.split('/')
  const block = Number(parts[4])
  if (parts.length !== 5 || !Number.isSafeInteger(block)) {
    throw new Error(`not a metric value id: ${id} (expected metric/distribution/scopeKind/scopeId/asOfBlock)`)
  }
  return {metric: parts[0]!, distribution: parts[1]!, scopeKind: parts[2]!, scopeId: parts[3]!, asOfBlock: block}
}

export async function exportForReproduction(
  conn: DuckDBConnection,
  contracts: ContractsConfig,
  key: MetricValueKey,
  dir: string,
): Promise<ReproduceExport> {
  const plan = await planSuite(conn, contracts, key.asOfBlock)
  const m = plan.find((x) => x.distribution === key.distribution && x.scopeKind === key.scopeKind && x.scopeId === key.scopeId)
  if (!m) throw new Error(`no measurement ${key.distribution} for ${key.scopeKind} ${key.scopeId} at block ${key.asOfBlock}`)
  const query = await findQuery(conn, m, key.metric)
  mkdirSync(dir, {recursive: true})
  const {digest} = await prepareInputs(conn, m)
  const files: string[] = []
  const script: string[] = [`-- Reproduces ${key.metric} (${key.distribution}) for ${key.scopeKind} ${key.scopeId} as of block ${key.asOfBlock}.`]
  for (const input of m.inputs) {
    const parquet = `${input.relation}.parquet`
    const csv = `${input.relation}.csv`
    // Parquet has no 128-bit integer: HUGEINT columns travel as decimal text and are cast back by the script, so
    // no amount is ever rounded on the way.
    const hugeints = await hugeintColumns(conn, input.relation)
    const exported = selectReplacing(input.relation, hugeints, 'VARCHAR')
    await conn.run(`COPY (${exported}) TO '${path.join(dir, parquet).replace(/'/g, "''")}' (FORMAT parquet)`)
    await conn.run(`COPY (${exported}) TO '${path.join(dir, csv).replace(/'/g, "''")}' (FORMAT csv, HEADER true)`)
    files.push(parquet, csv)
    script.push(`CREATE OR REPLACE TABLE ${input.relation} AS ${selectReplacing(`read_parquet('${parquet}')`, hugeints, 'HUGEINT')};`)
    script.push(`-- digest of ${input.relation} (must match the stored input_digest when there is one input):`)
    script.push(`${INPUT_DIGEST_SQL(input.relation)};`)
  }
  script.push(`PREPARE metric AS ${query.sql.trim()};`)
  script.push(`EXECUTE metric${renderParams(query.params)};`)
  writeFileSync(path.join(dir, 'reproduce.sql'), script.join('\n') + '\n')
  files.push('reproduce.sql')
  const metricColumn = metricColumnFor(key.metric)
  const recomputed = await runExportedScript(dir, metricColumn)
  return {dir, files, metricColumn, recomputed, inputDigest: digest}
}

/** The query of the measurement whose readings contain `metric`, found by running them (they are cheap). */
async function findQuery(conn: DuckDBConnection, m: Measurement, metric: string) {
  await prepareInputs(conn, m)
  for (const q of m.queries) {
    const rows = (await conn.runAndReadAll(q.sql, q.params as Record<string, BoundValue>)).getRowObjectsJson()
    if (q.read(rows[0] as never).some((r) => r.metric === metric)) return q
  }
  throw new Error(`measurement ${m.distribution} of ${m.scopeKind} ${m.scopeId} has no metric ${metric}`)
}

async function hugeintColumns(conn: DuckDBConnection, relation: string): Promise<string[]> {
  const rows = (await conn.runAndReadAll(`DESCRIBE ${relation}`)).getRowObjectsJson()
  return rows.filter((r) => r.column_type === 'HUGEINT').map((r) => String(r.column_name))
}

function selectReplacing(from: string, columns: string[], type: string): string {
  if (columns.length === 0) return `SELECT * FROM ${from}`
  return `SELECT * REPLACE (${columns.map((c) => `CAST("${c}" AS ${type}) AS "${c}"`).join(', ')}) FROM ${from}`
}

function renderParams(params: Record<string, BoundValue>): string {
  const entries = Object.entries(params)
  if (entries.length === 0) return ''
  const literal = (v: BoundValue) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v))
  return `(${entries.map(([k, v]) => `${k} := ${literal(v)}`).join(', ')})`
}

/** Column of the metric's result row holding `metric` (catalogue ids map to SQL column names). */
export function metricColumnFor(metric: string): string {
  const name = metric.split('.').slice(1).join('.')
  const renamed: Record<string, string> = {
    insider_overlap_top10: 'overlap',
    insider_overlap_share: 'overlap_share',
    validator_gini: 'gini',
    validator_nakamoto: 'nakamoto_50',
    model_owner_gini: 'gini',
    model_owner_nakamoto: 'nakamoto_50',
  }
  return renamed[name] ?? name
}

/** Runs reproduce.sql on a fresh DuckDB with the directory's files, as a journalist would, and returns the value. */
async function runExportedScript(dir: string, column: string): Promise<number | string | null> {
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  try {
    const sql = readFileSync(path.join(dir, 'reproduce.sql'), 'utf8').replace(
      /read_parquet\('([^']+)'\)/g,
      (_, f: string) => `read_parquet('${path.join(dir, f).replace(/'/g, "''")}')`,
    )
    const statements = sql.split(/;\n/).map((s) => s.trim()).filter((s) => s && !s.split('\n').every((l) => l.startsWith('--')))
    let last: Record<string, unknown>[] = []
    for (const statement of statements) last = (await conn.runAndReadAll(statement)).getRowObjectsJson()
    const value = last[0]?.[column]
    return value === undefined || value === null ? null : (value as number | string)
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}
