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
import {headPowerRow} from '../store/head-power'
import {withMirrorSnapshot} from '../store/mirror-snapshot'
import {balancesInPlaceAt, powerInPlaceAt} from '../store/routes'
import {
  combineInputs, type InputCache, type InputProvenance, type MetricRecord, prepareInput, prepareInputs, runMeasurement, type Measurement, toRecords,
} from './measurement'
import {INSIDER_OVERLAP_SQL} from '../metrics/insiders'
import {REWARDS} from '../store/inputs'
import {planInStages, planSuite, type PlanOptions, storedKey} from './plan'
import type {FairnessTable, LorenzRecord, PartialResults, SuiteResults} from './results'

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
  /**
   * A second connection to the same database. The measurements that read no state kept on the first (readsKeptState)
   * run on it, beside the others: the suite is a chain of small statements and in-process work, each mostly on one
   * core, so two chains use the second core. Each keeps its own temp relations. Default: none, one chain.
   */
  sideConnection?: DuckDBConnection
  /**
   * Given each part of the metric values and Lorenz points as it is computed (a grouped query's measurements, or one
   * measurement), before the suite returns them all: a refresh writes them meanwhile (results.ts, ResultsWriter). A
   * suite that fails after a part was given fails as a whole; the caller drops what it was given.
   */
  onResults?: (part: PartialResults) => void
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
  // What the suite reads again and again from tables only a sync writes, read once (mirror-snapshot.ts).
  const side = options.sideConnection
  return withMirrorSnapshot(conn, side ? [side] : [], () => computeSuiteOnSnapshot(conn, contracts, block, inputFromBlock, options))
}

async function computeSuiteOnSnapshot(
  conn: DuckDBConnection,
  contracts: ContractsConfig,
  block: number,
  inputFromBlock: number,
  options: SuiteOptions,
): Promise<SuiteResults> {
  const tableDue = (m: Measurement) => m.distribution === 'contributions_vs_rewards' && (options.fairnessTableDue?.(m.scopeKind, m.scopeId) ?? true)
  const run = (c: DuckDBConnection, plan: readonly Measurement[], selected: (m: Measurement) => boolean) =>
    computeMeasurements(c, plan, selected, inputFromBlock, tableDue, options.keepState ?? false, options.onResults)
  const side = options.sideConnection
  if (!side) {
    const plan = await planSuite(conn, contracts, block, options)
    return inPlanOrder(plan, await run(conn, plan, () => true))
  }
  // Two chains. The measurements that read kept state (first connection) are never per proposal, so that chain starts
  // once the plan without proposals is known, while the second connection reads the proposal snapshots and then
  // runs the rest: at the head, the snapshots are the plan's largest part, which both chains otherwise waited for.
  const staged = planInStages(conn, contracts, block, {...options, snapshotConnection: side})
  const [onMain, onSide] = await bothSettled(
    staged.withoutProposals.then(async (partial) => ({partial, outcomes: await run(conn, partial, readsKeptState)})),
    staged.full.then((plan) => run(side, plan, (m) => !readsKeptState(m))),
  )
  const plan = await staged.full
  // The first chain's plan is the full plan without its per-proposal measurements, in the same order.
  const fullIndexOf = [...plan.keys()].filter((i) => plan[i]!.scopeKind !== 'proposal')
  const keyOf = (m: Measurement) => storedKey(m.distribution, m.scopeKind, m.scopeId)
  if (fullIndexOf.length !== onMain.partial.length || onMain.partial.some((m, k) => keyOf(m) !== keyOf(plan[fullIndexOf[k]!]!))) {
    throw new Error('suite: the plan without proposals is not the full plan without its proposals')
  }
  const mainByFullIndex = new Map([...onMain.outcomes].map(([k, outcome]) => [fullIndexOf[k]!, outcome]))
  return inPlanOrder(plan, mainByFullIndex, onSide)
}

/**
 * Both promises' values once both settled: each chain runs on its own connection, and neither may still be using it
 * when the suite returns or throws (the first failure is thrown).
 */
async function bothSettled<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b])
  if (x.status === 'rejected') throw x.reason
  if (y.status === 'rejected') throw y.reason
  return [x.value, y.value]
}

/** The outcomes in plan order, whichever connection computed each (by plan index). */
function inPlanOrder(plan: readonly Measurement[], ...outcomes: ReadonlyMap<number, Outcome>[]): SuiteResults {
  const results: SuiteResults = {metrics: [], lorenz: [], fairness: []}
  for (const index of plan.keys()) {
    const found = outcomes.map((o) => o.get(index)).filter((o) => o !== undefined)
    if (found.length !== 1) throw new Error(`suite: measurement ${index} of the plan was computed ${found.length} times`)
    const outcome = found[0]!
    results.metrics.push(...outcome.records)
    results.lorenz.push(...outcome.lorenz)
    if (outcome.table && outcome.table.rows > 0) results.fairness.push(outcome.table)
  }
  return results
}

/**
 * Whether a measurement may read state kept on the connection that synced (the balances kept sorted, head-balances.ts;
 * the kept fairness copy, kept-fairness.ts, which the per-model batches read too): it runs there. Every other
 * measurement reads only the mirror's tables and can run on a second connection (SuiteOptions.sideConnection).
 */
const readsKeptState = (m: Measurement): boolean =>
  (m.scopeKind === 'token' && m.distribution === 'balances') || m.distribution === 'contributions_vs_rewards' || m.distribution === 'insiders'

/** What one measurement gives the suite's results. */
interface Outcome {
  records: MetricRecord[]
  lorenz: LorenzRecord[]
  table?: FairnessTable
}

/**
 * The `selected` measurements of `plan` on `conn`, by plan index: the per-proposal and per-model ones in a few
 * grouped queries (batch.ts), the rest one by one. Temp relations and the input cache belong to `conn`.
 */
async function computeMeasurements(
  conn: DuckDBConnection,
  plan: readonly Measurement[],
  selected: (m: Measurement) => boolean,
  inputFromBlock: number,
  tableDue: (m: Measurement) => boolean,
  keepState: boolean,
  onResults?: (part: PartialResults) => void,
): Promise<Map<number, Outcome>> {
  const indices = [...plan.keys()].filter((i) => selected(plan[i]!))
  const mine = indices.map((i) => plan[i]!)
  const out = new Map<number, Outcome>()
  const give = (outcomes: Outcome[]) => onResults?.({metrics: outcomes.flatMap((o) => o.records), lorenz: outcomes.flatMap((o) => o.lorenz)})
  const cache: InputCache = new Map()
  // Each grouped query's measurements as soon as it is done.
  const batched = await runBatched(conn, mine, inputFromBlock, cache, tableDue, keepState, (results) => {
    const outcomes: Outcome[] = []
    for (const [k, done] of results) {
      const m = mine[k]!
      if (tableDue(m) && !done.table) throw new Error(`batched ${m.distribution} of ${m.scopeId} has no fairness table`)
      const outcome = {records: done.records, lorenz: [], table: tableDue(m) ? tableOf(m, done.table!, done.provenance.digest) : undefined}
      out.set(indices[k]!, outcome)
      outcomes.push(outcome)
    }
    give(outcomes)
  })
  for (const [k, m] of mine.entries()) {
    const index = indices[k]!
    if (batched.has(k)) continue
    if (m.scopeKind === 'token') {
      const {records, provenance, curve} = await concentrationWithLorenz(conn, m, inputFromBlock, cache, keepState)
      const outcome = {records, lorenz: lorenzRecords(m, curve, provenance.digest)}
      out.set(index, outcome)
      give([outcome])
      continue
    }
    // Repeat voters, delegate activity and the protocol-wide validator metrics at the head: from the sync's tallies,
    // not a million votes or 200,000 validations.
    const {records, provenance} =
      (keepState ? await runFromKeptFairness(conn, m, inputFromBlock, cache, tableDue(m)) : undefined) ??
      (keepState ? await insidersFromKeptCopy(conn, m, inputFromBlock, cache) : undefined) ??
      (await runFromTallies(conn, m, inputFromBlock, cache)) ??
      (await runMeasurement(conn, m, inputFromBlock, cache))
    const outcome = {records, lorenz: [], table: tableDue(m) ? tableOf(m, await fairnessTable(conn), provenance.digest) : undefined}
    out.set(index, outcome)
    give([outcome])
  }
  return out
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
  keepState: boolean,
): Promise<{records: MetricRecord[]; provenance: InputProvenance; curve: LorenzPoint[]}> {
  const q = m.queries[0]
  if (m.queries.length !== 1 || q?.sql !== CONCENTRATION_SQL) throw new Error(`token measurement ${m.distribution} is not one concentration query`)
  // The balances, or the voting power, at the head are read where the sync keeps them (balance_state,
  // delegate_power), with their kept digest, not copied into `dist`.
  const input = m.inputs[0]
  const balances = m.inputs.length === 1 && input ? await balancesInPlaceAt(conn, input.sql, input.params) : undefined
  const power = m.inputs.length === 1 && input && !balances ? await powerInPlaceAt(conn, input.sql, input.params) : undefined
  const inPlace = balances ?? power
  if (inPlace && input) {
    const provenance = combineInputs([{relation: input.relation, ...inPlace.kept}])
    // The same row from the values kept sorted in the process when it can (head-balances.ts, head-power.ts), else by
    // the query. Only for a follower (keepState): building that state reads every balance into the process, which a
    // one-off suite pays without reuse (measured on the benchmark's mirror, in the full suite beside the other
    // connection: ~1.45 s of statements to build and check it, against ~0.93 s for the query's sort).
    const quorumWad = typeof q.params.quorum_wad === 'string' ? q.params.quorum_wad : null
    const keptRow = balances ? headBalancesRow : headPowerRow
    const row =
      (keepState ? await keptRow(conn, inPlace.params.token, quorumWad, LORENZ_POINTS) : undefined) ??
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

/** A scope's table with its provenance; a table without rows is not stored (computeSuite: the scope then has no table). */
function tableOf(m: Measurement, table: {rows: number; lines: string}, digest: string): FairnessTable {
  return {scopeKind: m.scopeKind, scopeId: m.scopeId, asOfBlock: m.asOfBlock, inputDigest: digest, ...table}
}
