import type {DuckDBConnection} from '@duckdb/node-api'
import {FAIRNESS_COPY_SQL, FAIRNESS_MARGIN, FAIRNESS_SQL} from '../metrics/fairness'
import {
  CONCENTRATION_SQL, CONCENTRATION_WITH_LORENZ_SQL, concentrationSqlOver, type LorenzPoint, readLorenzOfConcentration, runLorenz,
} from '../metrics/concentration'
import {queryOne, type Row} from '../metrics/sql-values'
import type {ContractsConfig} from '../../processor/contracts-config'
import {runBatched} from './batch'
import {FAIRNESS_TABLE_LIMIT} from './batch-shapes'
import {runFromTallies} from './from-tallies'
import {INSIDER_OVERLAP_FROM_COPY_SQL, isFollowedRelation, keptFairnessNamespace, keptFairnessSession, keptProtocolRewards} from './kept-fairness'
import {headBalancesRow} from '../store/head-balances'
import {balancesInPlaceAt} from '../store/routes'
import {
  combineInputs, type InputCache, type InputProvenance, type MetricRecord, prepareInput, prepareInputs, runMeasurement, type Measurement, toRecords,
} from './measurement'
import {INSIDER_OVERLAP_SQL} from '../metrics/insiders'
import {REWARDS} from '../store/inputs'
import {planSuite, type PlanOptions} from './plan'
import type {FairnessTable, LorenzRecord, SuiteResults} from './results'

export interface SuiteOptions extends PlanOptions {
  /**
   * Whether the per-contributor fairness table of a recomputed fairness scope is computed and returned at this
   * block (run.ts decides, see ANALYTICS_TABLES_REFRESH_BLOCKS); default: always. The scope's metric values are
   * computed either way.
   */
  fairnessTableDue?: (scopeKind: string, scopeId: string) => boolean
  /**
   * More suites at the head will follow on this connection (a follower): state worth keeping across them is built
   * and kept (the contribution and reward amounts of the fairness scopes, kept-fairness.ts; building them costs
   * ~1.3–2 s at the benchmark's size, a waste for a one-off suite). Default false.
   */
  keepState?: boolean
}

/** Points kept per Lorenz curve: enough for a chart, bounded for a million holders. */
const LORENZ_POINTS = 101

/**
 * Computes the whole metric suite at `block` from the mirror: every planned measurement, plus Lorenz curves of the
 * token distributions and the per-contributor fairness table of each fairness scope. With `options.stored`, the
 * measurements whose inputs did not change since their latest stored value are skipped (see plan.ts).
 */
export async function computeSuite(
  conn: DuckDBConnection,
  contracts: ContractsConfig,
  block: number,
  inputFromBlock: number,
  options: SuiteOptions = {},
): Promise<SuiteResults> {
  const tableDue = (m: Measurement) => m.distribution === 'contributions_vs_rewards' && (options.fairnessTableDue?.(m.scopeKind, m.scopeId) ?? true)
  const results: SuiteResults = {metrics: [], lorenz: [], fairness: []}
  const cache: InputCache = new Map()
  const plan = await planSuite(conn, contracts, block, options)
  // Per-proposal and per-model measurements in a few grouped queries (batch.ts); the rest one by one.
  const batched = await runBatched(conn, plan, inputFromBlock, cache, tableDue, options.keepState ?? false)
  for (const [index, m] of plan.entries()) {
    const done = batched.get(index)
    if (done) {
      results.metrics.push(...done.records)
      if (tableDue(m)) {
        if (!done.table) throw new Error(`batched ${m.distribution} of ${m.scopeId} has no fairness table`)
        pushTable(results, m, done.table, done.provenance.digest)
      }
      continue
    }
    if (m.scopeKind === 'token') {
      const {records, provenance, curve} = await concentrationWithLorenz(conn, m, inputFromBlock, cache)
      results.metrics.push(...records)
      results.lorenz.push(...lorenzRecords(m, curve, provenance.digest))
      continue
    }
    // Repeat voters, delegate activity and the protocol-wide validator metrics at the head: from the sync's tallies,
    // not a million votes or 200,000 validations.
    const {records, provenance} =
      (options.keepState ? await runFromKeptFairness(conn, m, inputFromBlock, cache, tableDue(m)) : undefined) ??
      (options.keepState ? await insidersFromKeptCopy(conn, m, inputFromBlock, cache) : undefined) ??
      (await runFromTallies(conn, m, inputFromBlock, cache)) ??
      (await runMeasurement(conn, m, inputFromBlock, cache))
    results.metrics.push(...records)
    if (tableDue(m)) pushTable(results, m, await fairnessTable(conn), provenance.digest)
  }
  return results
}

/**
 * A token distribution's measurement and its Lorenz curve from one sort (CONCENTRATION_WITH_LORENZ_SQL): the same
 * records runMeasurement makes with CONCENTRATION_SQL (they cite it), and the curve of LORENZ_SQL, which runs itself
 * only when the distribution took the BIGNUM path.
 */
async function concentrationWithLorenz(
  conn: DuckDBConnection,
  m: Measurement,
  inputFromBlock: number,
  cache: InputCache,
): Promise<{records: MetricRecord[]; provenance: InputProvenance; curve: LorenzPoint[]}> {
  const q = m.queries[0]
  if (m.queries.length !== 1 || q?.sql !== CONCENTRATION_SQL) throw new Error(`token measurement ${m.distribution} is not one concentration query`)
  // The balances at the head are read where the sync keeps them, with their kept digest, not copied into `dist`.
  const input = m.inputs[0]
  const inPlace = m.inputs.length === 1 && input ? await balancesInPlaceAt(conn, input.sql, input.params) : undefined
  if (inPlace && input) {
    const provenance = combineInputs([{relation: input.relation, ...inPlace.kept}])
    // The same row from the balances kept sorted in the process when it can (head-balances.ts), else by the query.
    const quorumWad = typeof q.params.quorum_wad === 'string' ? q.params.quorum_wad : null
    const row =
      (await headBalancesRow(conn, inPlace.params.token, quorumWad, LORENZ_POINTS)) ??
      (await queryOne(conn, concentrationWithLorenzOver(inPlace.select), {...q.params, ...inPlace.params, max_points: LORENZ_POINTS}))
    let curve = readLorenzOfConcentration(row)
    if (curve === undefined) {
      // The BIGNUM path (a total beyond HUGEINT): LORENZ_SQL reads the rows from `dist`.
      await prepareInputs(conn, m, cache)
      curve = await runLorenz(conn, LORENZ_POINTS)
    }
    return {records: toRecords(m, q, row, provenance, inputFromBlock), provenance, curve}
  }
  const provenance = await prepareInputs(conn, m, cache)
  const row = await queryOne(conn, CONCENTRATION_WITH_LORENZ_SQL, {...q.params, max_points: LORENZ_POINTS})
  const curve = readLorenzOfConcentration(row) ?? (await runLorenz(conn, LORENZ_POINTS))
  return {records: toRecords(m, q, row, provenance, inputFromBlock), provenance, curve}
}

/**
 * The protocol-wide fairness measurement with its row from amounts kept in the process (kept-fairness.ts): the
 * records runMeasurement makes, its inputs materialized and digested the same way. Undefined when `m` is not that
 * measurement or the kept amounts do not apply; the row comes from FAIRNESS_SQL when they refuse it.
 */
async function runFromKeptFairness(
  conn: DuckDBConnection,
  m: Measurement,
  inputFromBlock: number,
  cache: InputCache,
  /** Whether the fairness table is wanted: it alone reads the rows of `contrib` and `reward`. */
  tableWanted: boolean,
): Promise<{records: MetricRecord[]; provenance: InputProvenance} | undefined> {
  const q = m.queries[0]
  const [contrib, reward] = m.inputs
  if (m.queries.length !== 1 || q?.sql !== FAIRNESS_SQL || m.inputs.length !== 2 || contrib?.relation !== 'contrib' || reward?.relation !== 'reward') {
    return undefined
  }
  const namespace = await keptFairnessNamespace(conn, contrib.params, reward.params)
  if (namespace === undefined) return undefined
  // Each input is filled from the kept copy when the copy follows the mirror (only when the table reads its rows),
  // else materialized and then followed by the copy; either way the copy gives its digest.
  const kept = keptFairnessSession(conn, namespace)
  const first = (rows: Row[] | undefined) => (rows?.[0] ? {n: Number(rows[0].n), digest: String(rows[0].digest)} : undefined)
  const provenance = await prepareInputs(conn, m, cache, {
    fill: async (relation) => {
      if (!isFollowedRelation(relation)) return undefined
      // The protocol's insider overlap reads the copy too (insidersFromKeptCopy).
      const withRows = (relation !== 'contrib' && relation !== 'reward') || tableWanted
      const digest = first(await kept.fill(relation, withRows))
      return digest && {...digest, filled: withRows}
    },
    digestOf: async (relation) => (isFollowedRelation(relation) ? first(await kept.digests(relation)) : undefined),
  })
  const row = (await kept.single()) ?? (await queryOne(conn, q.sql, q.params))
  return {records: toRecords(m, q, row, provenance, inputFromBlock), provenance}
}

/**
 * The protocol-wide insider overlap at the head from the kept copy (INSIDER_OVERLAP_FROM_COPY_SQL): the records
 * runMeasurement makes, the rewards' count and digest from the copy, the top holders materialized as usual. Undefined
 * when `m` is not that measurement or the copy does not stand for its rewards (keptProtocolRewards).
 */
async function insidersFromKeptCopy(
  conn: DuckDBConnection,
  m: Measurement,
  inputFromBlock: number,
  cache: InputCache,
): Promise<{records: MetricRecord[]; provenance: InputProvenance} | undefined> {
  const q = m.queries[0]
  const [holders, reward] = m.inputs
  if (m.queries.length !== 1 || q?.sql !== INSIDER_OVERLAP_SQL || m.inputs.length !== 2 || holders?.relation !== 'top_holders' || reward?.sql !== REWARDS) {
    return undefined
  }
  const kept = await keptProtocolRewards(conn, reward.params)
  if (kept === undefined) return undefined
  const provenance = combineInputs([await prepareInput(conn, holders, cache), {relation: reward.relation, n: kept.n, digest: kept.digest}])
  const row = await queryOne(conn, INSIDER_OVERLAP_FROM_COPY_SQL, {total: kept.total})
  return {records: toRecords(m, q, row, provenance, inputFromBlock), provenance}
}

/** CONCENTRATION_WITH_LORENZ_SQL's text over a constant SELECT instead of `dist`, built once per SELECT. */
const withLorenzOver = new Map<string, string>()
function concentrationWithLorenzOver(select: string): string {
  let sql = withLorenzOver.get(select)
  if (sql === undefined) withLorenzOver.set(select, (sql = concentrationSqlOver(select, {lorenz: true})))
  return sql
}

/** The digest ties the curve to the inputs it was computed from. */
function lorenzRecords(m: Measurement, curve: LorenzPoint[], digest: string): LorenzRecord[] {
  return curve.map((p, i) => ({
    distribution: m.distribution,
    scopeKind: m.scopeKind,
    scopeId: m.scopeId,
    asOfBlock: m.asOfBlock,
    pointIndex: i,
    x: p.x,
    y: p.y,
    inputDigest: digest,
  }))
}

/** The fairness table over the relations the measurement just materialized (contrib, reward), as COPY text. */
async function fairnessTable(conn: DuckDBConnection): Promise<{rows: number; lines: string}> {
  const row = await queryOne(conn, FAIRNESS_COPY_SQL, {margin: FAIRNESS_MARGIN, limit: FAIRNESS_TABLE_LIMIT})
  return {rows: Number(row.rows), lines: row.lines === null ? '' : String(row.lines)}
}

/** A scope's table with its provenance; a table without rows is not stored (the scope then has no table). */
function pushTable(results: SuiteResults, m: Measurement, table: {rows: number; lines: string}, digest: string): void {
  if (table.rows === 0) return
  const t: FairnessTable = {scopeKind: m.scopeKind, scopeId: m.scopeId, asOfBlock: m.asOfBlock, inputDigest: digest, ...table}
  results.fairness.push(t)
}
