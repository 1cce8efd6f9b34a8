import {finished} from 'node:stream/promises'
import type {Pool, PoolClient} from 'pg'
import {from as copyFrom} from 'pg-copy-streams'
import {FAIRNESS_LINE_COLUMNS} from '../metrics/fairness'
import {JOB_VERSION, type MetricRecord} from './measurement'
import {storedKey} from './plan'

/**
 * Writes analytics results to Postgres: metric values and Lorenz points with one statement per table per run
 * (json_populate_recordset over a JSON array parameter), upserting by id so a re-run at the same block replaces its
 * own values; fairness tables (up to 10,000 rows per scope) replace the scope's rows at that block: one DELETE, then
 * COPY ... FROM STDIN (several times faster than the JSON upsert at 200,000 rows).
 *
 * Reading (for the API): a refresh does not rewrite what did not change (closed proposals, fairness scopes whose
 * inputs saw no new row; see jobs/plan.ts). The value of a series (metric, distribution, scope) — and the
 * fairness table or Lorenz curve of a scope — at block B is the one stored at the greatest as_of_block <= B.
 * Superseded fairness tables and Lorenz curves are pruned (pruneSupersededTables): at a block between two kept
 * ones, the earlier answers, with its own as_of_block.
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

/**
 * One scope's fairness table at one block: its rows as COPY text, made by DuckDB (fairness.ts, fairnessCopySql), each
 * line the contributor that ends the row's id, then FAIRNESS_LINE_COLUMNS; this module adds the id's start and the
 * scope's columns. Kept as text end to end: 200,000 rows a suite as JavaScript objects cost ~0.9 s to read from DuckDB
 * and as much again to format for COPY.
 */
export interface FairnessTable {
  scopeKind: string
  scopeId: string
  asOfBlock: number
  inputDigest: string
  /** Number of lines in `lines`. */
  rows: number
  /** Newline-separated COPY text lines, in the table's order; '' for no rows. */
  lines: string
}

export interface SuiteResults {
  metrics: MetricRecord[]
  lorenz: LorenzRecord[]
  fairness: FairnessTable[]
}

export const metricValueId = (r: Pick<MetricRecord, 'metric' | 'distribution' | 'scopeKind' | 'scopeId' | 'asOfBlock'>) =>
  `${r.metric}/${r.distribution}/${r.scopeKind}/${r.scopeId}/${r.asOfBlock}`

/**
 * Which superseded fairness tables and Lorenz curves a write deletes (see pruneSupersededTables). Without it (the
 * benchmark's full suite, tests of single writes) nothing is pruned.
 */
export interface TableRetention {
  /** Postgres' finalized height in the sync the results were computed from. */
  finalizedHeight: number
  /** ANALYTICS_TABLES_EVERY: tables at multiples of it are kept; 0 keeps none of them. */
  keepEvery: number
}

/** Writes one suite's results in one transaction (ResultsWriter, given everything at once). */
export async function writeResults(pool: Pool, results: SuiteResults, computedAt = new Date(), retention?: TableRetention): Promise<void> {
  const writer = await ResultsWriter.open(pool, computedAt)
  writer.add(results)
  await writer.finish(results, retention)
}

/** Metric values and Lorenz points a suite has computed so far (SuiteOptions.onResults). */
export type PartialResults = Pick<SuiteResults, 'metrics' | 'lorenz'>

/**
 * One suite's results written in one transaction while the suite still computes: a refresh adds each part as the
 * suite gives it (SuiteOptions.onResults), and the upserts run in Postgres beside DuckDB's work instead of after it.
 * Written once the suite had returned, a refresh's 683 values and 202 Lorenz points took ~45–120 ms of every refresh
 * at the benchmark's size, most of it the upsert into metric_value and its five indexes.
 *
 * Parts added while an upsert runs wait and go together in the next one. finish() writes the fairness tables, prunes,
 * bumps the data version and commits, after checking that the parts were exactly the suite's values and points: a
 * reader sees all of a suite's results or none. A failed upsert fails finish(); abort() rolls everything back.
 */
export class ResultsWriter {
  private pending: PartialResults = {metrics: [], lorenz: []}
  private writing: Promise<void> = Promise.resolve()
  private failure: unknown
  private readonly added = {metrics: new Set<string>(), lorenz: new Set<string>()}
  private done = false
  private released = false

  private constructor(
    private readonly client: PoolClient,
    private readonly computedAt: Date,
  ) {}

  static async open(pool: Pool, computedAt = new Date()): Promise<ResultsWriter> {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
    } catch (e) {
      client.release(true)
      throw e
    }
    return new ResultsWriter(client, computedAt)
  }

  /** Queues a part's upserts; each value and point must come once (finish checks). */
  add(part: PartialResults): void {
    if (this.done) throw new Error('ResultsWriter: add after finish or abort')
    for (const r of part.metrics) this.take(this.added.metrics, metricValueId(r), 'metric value')
    for (const p of part.lorenz) this.take(this.added.lorenz, lorenzPointId(p), 'Lorenz point')
    const wasEmpty = this.pending.metrics.length + this.pending.lorenz.length === 0
    this.pending.metrics.push(...part.metrics)
    this.pending.lorenz.push(...part.lorenz)
    // One flush queued behind the running one takes whatever was added by the time it starts.
    if (wasEmpty) {
      this.writing = this.writing.then(() => this.flush())
      // Kept for finish(), which throws it; handled here so that it is never unhandled meanwhile.
      this.writing = this.writing.catch((e) => void (this.failure ??= e))
    }
  }

  /**
   * Waits for the queued upserts, then writes `results`' fairness tables, prunes with `retention`, bumps the data
   * version and commits. `results` must be the suite's whole results, whose values and points were all added.
   */
  async finish(results: SuiteResults, retention?: TableRetention): Promise<void> {
    try {
      this.done = true
      await this.writing
      if (this.failure !== undefined) throw this.failure
      this.checkAdded(results)
      await replaceFairness(this.client, results.fairness)
      if (retention) await pruneSupersededTables(this.client, results, retention)
      await this.client.query(BUMP_ANALYTICS_VERSION)
      await this.client.query('COMMIT')
      this.release(false)
    } catch (e) {
      await this.rollBack()
      throw e
    }
  }

  /** Rolls back whatever was written (the suite failed); nothing after finish() or an earlier abort(). */
  async abort(): Promise<void> {
    this.done = true
    await this.writing
    await this.rollBack()
  }

  private take(ids: Set<string>, id: string, what: string): void {
    if (ids.has(id)) throw new Error(`ResultsWriter: ${what} ${id} added twice`)
    ids.add(id)
  }

  private checkAdded(results: SuiteResults): void {
    const same = (ids: Set<string>, expected: string[]) => ids.size === expected.length && expected.every((id) => ids.has(id))
    if (!same(this.added.metrics, results.metrics.map(metricValueId)) || !same(this.added.lorenz, results.lorenz.map(lorenzPointId))) {
      throw new Error(
        `ResultsWriter: the parts added (${this.added.metrics.size} values, ${this.added.lorenz.size} points) are not the suite's results ` +
          `(${results.metrics.length} values, ${results.lorenz.length} points)`,
      )
    }
  }

  private async flush(): Promise<void> {
    const {metrics, lorenz} = this.pending
    this.pending = {metrics: [], lorenz: []}
    // After a failed upsert the transaction only refuses statements: finish() throws that failure.
    if (this.failure !== undefined) return
    await upsert(this.client, 'metric_value', metrics.map((r) => metricValueRow(r, this.computedAt)))
    await upsert(this.client, 'lorenz_point', lorenz.map(lorenzPointRow))
  }

  private async rollBack(): Promise<void> {
    if (this.released) return
    const failed = await this.client.query('ROLLBACK').then(
      () => false,
      () => true,
    )
    // A client whose rollback failed may be in an odd protocol state: destroyed rather than reused.
    this.release(failed)
  }

  private release(destroy: boolean): void {
    if (this.released) return
    this.released = true
    this.client.release(destroy)
  }
}

const lorenzPointId = (p: LorenzRecord) => `${p.distribution}/${p.scopeKind}/${p.scopeId}/${p.asOfBlock}/${p.pointIndex}`

const metricValueRow = (r: MetricRecord, computedAt: Date) => ({
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
})

const lorenzPointRow = (p: LorenzRecord) => ({
  id: lorenzPointId(p),
  distribution: p.distribution,
  scope_kind: p.scopeKind,
  scope_id: p.scopeId,
  as_of_block: p.asOfBlock,
  point_index: p.pointIndex,
  x: p.x,
  y: p.y,
  input_digest: p.inputDigest,
  job_version: JOB_VERSION,
})

/** No bound on as_of_block (an int column). */
const MAX_BLOCK = 2147483647

/** Key of a fairness scope in latestFairnessTables' map. */
export const fairnessScopeKey = (scopeKind: string, scopeId: string) => `${scopeKind}/${scopeId}`

/**
 * The block of the latest stored fairness table of every scope. A loose index scan over fairness_entry's
 * (scope_kind, scope_id, as_of_block) index: one descent per scope, not a pass over the (retained) tables' rows.
 * With `upTo`, only tables at or below that block count.
 */
export async function latestFairnessTables(pool: Pool, upTo?: number): Promise<Map<string, number>> {
  const rows = await pool.query<{scope_kind: string; scope_id: string; b: number}>(
    latestBlockPerKeySql('fairness_entry', ['scope_kind', 'scope_id'], 'as_of_block <= $1'),
    [upTo ?? MAX_BLOCK],
  )
  return new Map(rows.rows.map((r) => [fairnessScopeKey(r.scope_kind, r.scope_id), Number(r.b)]))
}

/**
 * The latest stored as_of_block of every skippable series (proposal, model and protocol scopes; see plan.ts), of this
 * JOB_VERSION, by storedKey(distribution, scopeKind, scopeId). A loose index scan over metric_value's (job_version,
 * scope_kind, scope_id, distribution, as_of_block) index: one descent per series. metric_value is never pruned (it is
 * the time series) and grows by a few hundred rows with every refresh that keeps them; a GROUP BY over it, as this
 * was before, took ~0.5 s at 1.8 million rows and grew with them (`npm run bench:analytics` prints both). With
 * `upTo`, only values at or below that block count.
 */
export async function latestStoredBlocks(pool: Pool, upTo?: number): Promise<Map<string, number>> {
  const rows = await pool.query<{distribution: string; scope_kind: string; scope_id: string; b: number}>(
    `SELECT * FROM (${latestBlockPerKeySql('metric_value', ['scope_kind', 'scope_id', 'distribution'], `job_version = $1 AND as_of_block <= $2`)}) x
     WHERE x.scope_kind IN ('proposal', 'model', 'protocol')`,
    [JOB_VERSION, upTo ?? MAX_BLOCK],
  )
  return new Map(rows.rows.map((r) => [storedKey(r.distribution, r.scope_kind, r.scope_id), Number(r.b)]))
}

/**
 * The latest as_of_block per distinct `keys` of `table` (rows matching `filter`, written unqualified), by a loose index
 * scan: the first key, then repeatedly the next key above the last one, each one index descent, and the max block per
 * key by another; needs an index on (filter's equality columns, keys..., as_of_block). Rows: the keys and b.
 * Identifiers are constants of this module.
 */
function latestBlockPerKeySql(table: string, keys: readonly string[], filter = 'true'): string {
  return `WITH RECURSIVE ${distinctKeysCte('k', table, keys, filter)}
     SELECT ${keys.map((c) => `k.${c}`).join(', ')},
       (SELECT max(t.as_of_block) FROM ${table} t WHERE ${filter} AND ${keys.map((c) => `t.${c} = k.${c}`).join(' AND ')}) AS b
     FROM k`
}

/** A recursive CTE `name` of the distinct `keys` of `table` (rows matching `filter`), by the loose index scan above. */
function distinctKeysCte(name: string, table: string, keys: readonly string[], filter = 'true'): string {
  const of = (alias: string) => keys.map((k) => `${alias}.${k}`).join(', ')
  return `${name} AS (
       (SELECT ${keys.join(', ')} FROM ${table} WHERE ${filter} ORDER BY ${keys.join(', ')} LIMIT 1)
       UNION ALL
       SELECT ${of('n')} FROM ${name}, LATERAL (
         SELECT ${of('t')} FROM ${table} t WHERE ${filter} AND (${of('t')}) > (${of(name)})
         ORDER BY ${of('t')} LIMIT 1) n
     )`
}

/** Results computed at blocks that a reorg can still change are dropped before the new ones are written. */
export async function dropResultsAbove(pool: Pool, block: number): Promise<void> {
  // One statement, so one commit, where every refresh made four; the API's version moves only when something went
  // (no answer changed otherwise), after the deletes as for a write: they commit together.
  // fairness_entry and lorenz_point have no index on as_of_block alone: their rows are reached per scope through their
  // (scope..., as_of_block) indexes, one descent each, instead of a pass over the whole index or table (Postgres 15
  // read all of a 1M-row fairness_entry's index for the plain condition, ~5 ms).
  const lorenzKeys = ['scope_kind', 'scope_id', 'distribution']
  const fairnessKeys = ['scope_kind', 'scope_id']
  const per = (alias: string, keys: readonly string[]) => keys.map((c) => `x.${c} = ${alias}.${c}`).join(' AND ')
  await pool.query(
    `WITH RECURSIVE ${distinctKeysCte('lk', 'lorenz_point', lorenzKeys)}, ${distinctKeysCte('fk', 'fairness_entry', fairnessKeys)},
       m AS (DELETE FROM metric_value WHERE as_of_block > $1 RETURNING 1),
       l AS (DELETE FROM lorenz_point x USING lk WHERE ${per('lk', lorenzKeys)} AND x.as_of_block > $1 RETURNING 1),
       f AS (DELETE FROM fairness_entry x USING fk WHERE ${per('fk', fairnessKeys)} AND x.as_of_block > $1 RETURNING 1)
     ${BUMP_ANALYTICS_VERSION} AND EXISTS (SELECT 1 FROM m UNION ALL SELECT 1 FROM l UNION ALL SELECT 1 FROM f)`,
    [block],
  )
}

/**
 * Bounded storage for the per-entity tables. A fairness table holds a row per contributor (200,000 rows per refresh
 * at the benchmark's size) and a Lorenz curve 101 points; written at every refresh of the head, they would grow
 * without bound. Per scope (and distribution, for Lorenz curves) of this write, a table is deleted when all of
 * these hold:
 *  - it lies at or below the finalized height, and a newer table of the scope also does (so the latest finalized
 *    one always stays: a refresh that skips an unchanged scope relies on it, see plan.ts);
 *  - its block is not a multiple of `keepEvery` (ANALYTICS_TABLES_EVERY: the history a dashboard charts).
 * Tables above the finalized height stay until a reorg drops them (dropResultsAbove) or they are superseded.
 * Readers take the latest table at or below a block (the API's fairnessTable / lorenzCurve with atBlock), so a
 * block between two kept tables is answered by the earlier one, labelled with its own asOfBlock and input digest.
 * Metric values (one row each, the time series) are never pruned.
 */
async function pruneSupersededTables(client: PoolClient, results: SuiteResults, retention: TableRetention): Promise<void> {
  const fairnessScopes = uniqueScopes(results.fairness.map((f) => [f.scopeKind, f.scopeId]))
  await pruneTable(client, 'fairness_entry', ['scope_kind', 'scope_id'], fairnessScopes, retention)
  const lorenzScopes = uniqueScopes(results.lorenz.map((p) => [p.distribution, p.scopeKind, p.scopeId]))
  await pruneTable(client, 'lorenz_point', ['distribution', 'scope_kind', 'scope_id'], lorenzScopes, retention)
}

/** The rule above on one table, whose tables are told apart by `scopeColumns` (constants); `scopes` in that order. */
async function pruneTable(
  client: PoolClient,
  table: 'fairness_entry' | 'lorenz_point',
  scopeColumns: readonly string[],
  scopes: string[][],
  {finalizedHeight, keepEvery}: TableRetention,
): Promise<void> {
  if (scopes.length === 0) return
  const same = (a: string, b: string) => scopeColumns.map((c) => `${a}.${c} = ${b}.${c}`).join(' AND ')
  const finalized = `$${scopeColumns.length + 1}`
  const every = `$${scopeColumns.length + 2}::int`
  await client.query(
    `DELETE FROM ${table} t
     USING (
       SELECT s.*, (SELECT max(e.as_of_block) FROM ${table} e WHERE ${same('e', 's')} AND e.as_of_block <= ${finalized}) AS keep
       FROM unnest(${scopeColumns.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS s(${scopeColumns.join(', ')})
     ) k
     WHERE ${same('t', 'k')} AND t.as_of_block < k.keep AND (${every} = 0 OR t.as_of_block % ${every} <> 0)`,
    [...scopeColumns.map((_, i) => scopes.map((s) => s[i])), finalizedHeight, keepEvery],
  )
}

function uniqueScopes(keys: string[][]): string[][] {
  return [...new Map(keys.map((k) => [JSON.stringify(k), k])).values()]
}

/**
 * Tells the API's response cache (src/api/response-cache.ts) that analytics answers may have changed. Last in the
 * transaction of a write (the row lock is then held only until COMMIT), and after a drop's deletes: a reader that
 * sees the old version may see the new results, never the reverse.
 */
const BUMP_ANALYTICS_VERSION = `UPDATE analytics_state SET version = version + 1, written_at = now() WHERE id = 'analytics'`

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

/** COPY text format: tab-separated, backslash escapes. */
const copyText = (v: string | number): string =>
  typeof v === 'number' ? String(v) : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')

/** Replaces the fairness rows of every (scope, block) in `tables` with the tables' rows. */
async function replaceFairness(client: PoolClient, tables: FairnessTable[]): Promise<void> {
  if (tables.length === 0) return
  const scopes = new Map<string, [string, string, number]>()
  for (const f of tables) scopes.set(`${f.scopeKind}/${f.scopeId}/${f.asOfBlock}`, [f.scopeKind, f.scopeId, f.asOfBlock])
  const [kinds, ids, blocks] = [0, 1, 2].map((i) => [...scopes.values()].map((s) => s[i]))
  await client.query(
    `DELETE FROM fairness_entry f USING unnest($1::text[], $2::text[], $3::int[]) AS s(scope_kind, scope_id, as_of_block)
     WHERE f.scope_kind = s.scope_kind AND f.scope_id = s.scope_id AND f.as_of_block = s.as_of_block`,
    [kinds, ids, blocks],
  )
  const columns = ['id', ...FAIRNESS_LINE_COLUMNS, 'scope_kind', 'scope_id', 'as_of_block', 'input_digest', 'job_version']
  const stream = client.query(copyFrom(`COPY fairness_entry (${columns.join(', ')}) FROM STDIN`))
  for (const t of tables) {
    if (t.rows === 0) continue
    // Each line starts with the contributor, the id's last part: the id's start goes before it, the scope's columns
    // after the line.
    const idStart = copyText(`${t.scopeKind}/${t.scopeId}/${t.asOfBlock}/`)
    const scopeEnd = `\t${[t.scopeKind, t.scopeId, t.asOfBlock, t.inputDigest, JOB_VERSION].map(copyText).join('\t')}\n`
    stream.write(idStart + t.lines.replaceAll('\n', scopeEnd + idStart) + scopeEnd)
  }
  stream.end()
  await finished(stream)
}
