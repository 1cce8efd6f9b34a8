import {createHash} from 'node:crypto'
import type {DuckDBConnection} from '@duckdb/node-api'
import {queryOne, type BoundValue, type Row} from '../metrics/sql-values'
import type {InputParams} from '../store/inputs'
import {INPUT_DIGEST_SQL} from '../store/input-digest'
import {materializeInputWithKeptDigest} from '../store/routes'

/**
 * Bumped whenever a metric's SQL or an input's definition changes, so old values are told apart from new ones.
 * 5: HHI, entropy and Theil are summed in fixed point (ORDER_FREE_SUM, concentration.ts) instead of fsum, so they are
 * the same doubles on every run; version 4's could differ from them in the last digit.
 * 6: the fairness TVD is summed in fixed point too (ORDER_FREE_SUM) instead of an fsum in entity order, and on the
 * narrow path (judgedSql, fairness.ts) amounts are summed in HUGEINT and shares divide HUGEINT → DOUBLE casts instead
 * of BIGNUM → DOUBLE ones; shares, TVD and the over/under counts can differ from version 5's in the last digit.
 * 7: every HUGEINT becomes a BIGNUM through its decimal text (metrics/bignum.ts): DuckDB 1.5.6's direct cast drops the
 * 2^120 bit of values in [2^120, 2^120 + 183·2^64) and their negatives, so version 6 was wrong (or failed) wherever an
 * amount, a sum or a cumulative sum on a BIGNUM path fell there. Totals are summed in HUGEINT where that cannot
 * overflow (EXACT_SUM) in every concentration query, and the insider overlap sums only the top holders' rewards per
 * recipient. Values outside that window are the same as version 6's.
 */
export const JOB_VERSION = 'deai-lens-analytics/7'

export type ScopeKind = 'token' | 'governor' | 'proposal' | 'model' | 'protocol'

/** One relation a metric reads, built from the mirror with bound parameters. */
export interface InputSpec {
  relation: string
  sql: string
  params: InputParams
}

/** One metric query over the materialized inputs, and how its single row maps to catalogue ids. */
export interface MetricQuery {
  sql: string
  params: Record<string, BoundValue>
  read(row: Row): MetricReading[]
}

export interface MetricReading {
  metric: string
  value: number | null
  /** Exact decimal for counts and amounts. */
  exact?: string | null
}

/**
 * Everything needed to compute (and later reproduce) a group of metrics over one distribution in one scope at one
 * block: the inputs, the metric SQL and its parameters. The reproduce command rebuilds the same spec.
 */
export interface Measurement {
  distribution: string
  scopeKind: ScopeKind
  scopeId: string
  asOfBlock: number
  inputs: InputSpec[]
  queries: MetricQuery[]
}

export interface MetricRecord extends MetricReading {
  distribution: string
  scopeKind: ScopeKind
  scopeId: string
  asOfBlock: number
  inputFromBlock: number
  inputToBlock: number
  inputRowCount: number
  inputDigest: string
  sqlDigest: string
}

/** Provenance of a measurement's inputs: how many rows, and a digest of them in a fixed order. */
export interface InputProvenance {
  rowCount: number
  digest: string
}

export {DIGEST_OF_SUMS, INPUT_DIGEST_SQL} from '../store/input-digest'

/**
 * Which input each temp relation of a connection currently holds (query + parameters) and its provenance, so a
 * suite run materializes and digests an input shared by consecutive measurements once (voting power for the token
 * and the governor's delegates, the governor's votes, the top holders of every insiders scope, a scope's rewards).
 * Valid only while the mirror does not change: one per computeSuite call.
 */
export type InputCache = Map<string, {key: string; n: number; digest: string}>

/** What an InputCache entry was filled from: the input's query and parameters. */
export const inputCacheKey = (input: Pick<InputSpec, 'sql' | 'params'>): string =>
  `${input.sql}\n${JSON.stringify(input.params, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`

/** Materializes the inputs on `conn` (temp tables belong to one connection) and returns their provenance. */
export async function prepareInputs(conn: DuckDBConnection, m: Measurement, cache?: InputCache, keptInput?: KeptInput): Promise<InputProvenance> {
  const parts: InputPart[] = []
  for (const input of m.inputs) parts.push(await prepareInput(conn, input, cache, keptInput))
  return combineInputs(parts)
}

/** One input's relation, row count and digest. */
export interface InputPart {
  relation: string
  n: number
  digest: string
}

/**
 * State kept in the process that stands for some input relations (kept-fairness.ts): `fill` materializes the relation
 * from it and gives its count and digest; `digestOf` gives them right after the relation was materialized otherwise.
 * Either returns undefined when it does not apply (the relation is materialized and hashed as usual).
 */
export interface KeptInput {
  /** `filled` false: the count and digest only, the relation left as it was (no later input reuses it). */
  fill(relation: string): Promise<{n: number; digest: string; filled?: boolean} | undefined>
  digestOf(relation: string): Promise<{n: number; digest: string} | undefined>
}

/**
 * Materializes one input as its relation (unless `cache` says the relation already holds it); its count and digest,
 * from `keptInput`'s fill, else the route's kept digest, else `keptInput`'s digestOf, else by hashing every row.
 */
export async function prepareInput(conn: DuckDBConnection, input: InputSpec, cache?: InputCache, keptInput?: KeptInput): Promise<InputPart> {
  const key = inputCacheKey(input)
  let held = cache?.get(input.relation)
  if (held?.key !== key) {
    cache?.delete(input.relation)
    // The sync keeps the digests of the largest inputs at the head (store/head-digests.ts); the rest are hashed.
    const filled = await keptInput?.fill(input.relation)
    const kept = filled ?? (await materializeInputWithKeptDigest(conn, input.relation, input.sql, input.params)).kept
    const row = kept ?? (await keptInput?.digestOf(input.relation)) ?? (await queryOne(conn, INPUT_DIGEST_SQL(input.relation)))
    held = {key, n: Number(row.n), digest: String(row.digest)}
    if (filled?.filled !== false) cache?.set(input.relation, held)
  }
  return {relation: input.relation, n: held.n, digest: held.digest}
}

/**
 * A measurement's provenance from its inputs' parts, in the measurement's input order: the row counts added, one
 * input's digest as is, several combined as sha256 of their "relation:digest" lines. Every route (one by one, grouped,
 * from kept state) combines them here, so a value's digest does not depend on how it was computed.
 */
export function combineInputs(parts: readonly InputPart[]): InputProvenance {
  const rowCount = parts.reduce((a, p) => a + p.n, 0)
  const digest = parts.length === 1 ? parts[0]!.digest : sha256(parts.map((p) => `${p.relation}:${p.digest}`).join('\n'))
  return {rowCount, digest}
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/**
 * Runs a measurement: inputs, then each metric query; every reading carries the measurement's provenance. The
 * inputs stay materialized on `conn` afterwards, so follow-up queries over them (Lorenz, fairness table) reuse them.
 */
export async function runMeasurement(
  conn: DuckDBConnection,
  m: Measurement,
  inputFromBlock: number,
  cache?: InputCache,
): Promise<{records: MetricRecord[]; provenance: InputProvenance}> {
  const provenance = await prepareInputs(conn, m, cache)
  const records: MetricRecord[] = []
  for (const q of m.queries) records.push(...toRecords(m, q, await queryOne(conn, q.sql, q.params), provenance, inputFromBlock))
  return {records, provenance}
}

/**
 * The readings of one metric query's result row, each with the measurement's provenance. Shared by runMeasurement
 * and the grouped path (batch.ts), so a value carries the same provenance however it was computed: sqlDigest
 * always names the measurement's own input and metric SQL, the one the reproduce command exports.
 */
export function toRecords(m: Measurement, q: MetricQuery, row: Row, provenance: InputProvenance, inputFromBlock: number): MetricRecord[] {
  const sqlDigest = sha256([...m.inputs.map((i) => i.sql), q.sql].join('\n;\n'))
  return q.read(row).map((reading) => ({
    ...reading,
    distribution: m.distribution,
    scopeKind: m.scopeKind,
    scopeId: m.scopeId,
    asOfBlock: m.asOfBlock,
    inputFromBlock,
    inputToBlock: m.asOfBlock,
    inputRowCount: provenance.rowCount,
    inputDigest: provenance.digest,
    sqlDigest,
  }))
}
