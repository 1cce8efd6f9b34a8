import type {DuckDBConnection} from '@duckdb/node-api'
import {type FairnessRow, readFairnessRow, runFairnessTable} from '../metrics/fairness'
import {runLorenz} from '../metrics/concentration'
import type {ContractsConfig} from '../../processor/contracts-config'
import {runBatched} from './batch'
import {FAIRNESS_TABLE_LIMIT} from './batch-shapes'
import {type InputCache, runMeasurement, type Measurement} from './measurement'
import {planSuite, type PlanOptions} from './plan'
import type {FairnessRecord, LorenzRecord, SuiteResults} from './results'

export interface SuiteOptions extends PlanOptions {
  /**
   * Whether the per-contributor fairness table of a recomputed fairness scope is computed and returned at this
   * block (run.ts decides, see ANALYTICS_TABLES_REFRESH_BLOCKS); default: always. The scope's metric values are
   * computed either way.
   */
  fairnessTableDue?: (scopeKind: string, scopeId: string) => boolean
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
  const batched = await runBatched(conn, plan, inputFromBlock, cache, tableDue)
  for (const [index, m] of plan.entries()) {
    const done = batched.get(index)
    if (done) {
      results.metrics.push(...done.records)
      if (tableDue(m)) {
        if (!done.tableRows) throw new Error(`batched ${m.distribution} of ${m.scopeId} has no fairness table`)
        results.fairness.push(...toFairnessRecords(m, done.tableRows.map(readFairnessRow), done.provenance.digest))
      }
      continue
    }
    const {records, provenance} = await runMeasurement(conn, m, inputFromBlock, cache)
    results.metrics.push(...records)
    if (m.scopeKind === 'token') results.lorenz.push(...(await lorenz(conn, m, provenance.digest)))
    if (tableDue(m)) results.fairness.push(...(await fairnessTable(conn, m, provenance.digest)))
  }
  return results
}

/** Over the inputs runMeasurement left materialized on this connection; the digest ties the curve to them. */
async function lorenz(conn: DuckDBConnection, m: Measurement, digest: string): Promise<LorenzRecord[]> {
  return (await runLorenz(conn, LORENZ_POINTS)).map((p, i) => ({
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

async function fairnessTable(conn: DuckDBConnection, m: Measurement, digest: string): Promise<FairnessRecord[]> {
  return toFairnessRecords(m, await runFairnessTable(conn, {limit: FAIRNESS_TABLE_LIMIT}), digest)
}

function toFairnessRecords(m: Measurement, rows: FairnessRow[], digest: string): FairnessRecord[] {
  return rows.map((r) => ({
    scopeKind: m.scopeKind,
    scopeId: m.scopeId,
    asOfBlock: m.asOfBlock,
    contributor: r.entity,
    contributionValue: r.contribution,
    contributionShare: r.contributionShare ?? 0,
    rewardAmount: r.reward,
    rewardShare: r.rewardShare ?? 0,
    ratio: r.rewardToContributionRatio,
    verdict: r.status === 'over' ? 'over_rewarded' : r.status === 'under' ? 'under_rewarded' : 'proportionate',
    inputDigest: digest,
  }))
}
