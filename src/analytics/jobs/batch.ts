import type {DuckDBConnection} from '@duckdb/node-api'
import {FAIRNESS_BY_GROUP_SQL} from '../metrics/grouped-fairness'
import {queryOne, queryRows, type BoundValue, type Row} from '../metrics/sql-values'
import type {InputParams} from '../store/inputs'
import {MD5_LOWER, MD5_UPPER} from '../store/input-digest'
import {materializeGroupedInputWithKeptDigests, materializeInputWithKeptDigest} from '../store/routes'
import {forgetGroupKeys, holdGroupKeys} from '../store/group-keys'
import {keptGroupedDigests} from '../store/vote-digests'
import {oneVoteEach} from '../store/one-vote-each'
import {type QueryShape, type Shape, SHAPES} from './batch-shapes'
import {groupedFromValidatorTallies} from './from-tallies'
import {isFollowedRelation, keptFairnessNamespace, keptFairnessSession, writeKeptRewardTotals} from './kept-fairness'
import {combineInputs, DIGEST_OF_SUMS, INPUT_DIGEST_SQL, type InputCache, inputCacheKey, type InputProvenance, type Measurement, type MetricRecord, toRecords} from './measurement'

/**
 * The per-proposal and per-model measurements of a suite, computed in a few grouped queries instead of a handful
 * of queries each (400 proposal measurements at ~20 ms apiece dominated the suite; the 20 model scopes cost ~3 s).
 *
 * A measurement is batched only when it has exactly the inputs and metric queries of a shape (batch-shapes.ts);
 * everything is read off the declarative Measurement, so the batch cannot drift from what runMeasurement (and the
 * reproduce command) computes for it. Per group, a grouped input has exactly the single input's rows, the grouped
 * digest hashes them exactly as INPUT_DIGEST_SQL does (each row rendered as the same struct text), a multi-input
 * digest is combined as prepareInputs combines it, and a grouped metric query is the single one partitioned by
 * group (metrics/grouped*.ts, checked group by group by their property tests; batch.test.ts compares whole records
 * with runMeasurement). So every value keeps its own input row count, input digest and SQL digest.
 */
export interface BatchedResult {
  records: MetricRecord[]
  provenance: InputProvenance
  /** The shape's table of this group (the fairness table) as COPY text: what FAIRNESS_COPY_SQL gives for it alone. */
  table?: {rows: number; lines: string}
}

interface Member {
  index: number
  m: Measurement
  /** The scope's group parameter (a proposal id, a model id): group_keys.id. */
  group: string
  /** Its number in the batch, group_keys.g: the key the grouped rows carry. */
  key: number
  perGroup: Record<string, string>
}

interface Batch {
  shape: Shape
  /** Per input, its parameters without the group parameter: equal for every member. */
  inputParams: InputParams[]
  members: Member[]
}

/** Per-group row count and digest, exactly INPUT_DIGEST_SQL over each group's rows (groups without rows included). */
export const groupedDigestSql = (relation: string, columns: readonly string[]) => `
SELECT k.g, count(x.m) AS n, ${DIGEST_OF_SUMS(`sum(${MD5_UPPER('x.m')})`, `sum(${MD5_LOWER('x.m')})`)} AS digest
FROM group_keys k LEFT JOIN (SELECT g, md5_number(CAST(struct_pack(${columns.join(', ')}) AS VARCHAR)) AS m FROM ${relation}) x ON x.g = k.g
GROUP BY k.g`

/**
 * Computes every batchable measurement of `plan`; returns the results by plan index (the rest is the caller's).
 * Relations it (re)creates are dropped from `cache`, so a later runMeasurement never trusts a stale one.
 */
export async function runBatched(
  conn: DuckDBConnection,
  plan: readonly Measurement[],
  inputFromBlock: number,
  cache?: InputCache,
  /** For shapes with a table: whether a member's table rows are wanted (default all); none wanted, no table query. */
  tableWanted: (m: Measurement) => boolean = () => true,
  /** Whether in-process state that later suites at the head reuse may be built (suite.ts: keepState). */
  keepState = false,
  /** Given each batch's results as soon as the batch is done (suite.ts passes them on to the refresh's writer). */
  onBatch?: (results: ReadonlyMap<number, BatchedResult>) => void,
): Promise<Map<number, BatchedResult>> {
  const batches = new Map<string, Batch>()
  plan.forEach((m, index) => {
    const found = match(m)
    if (!found) return
    const key = JSON.stringify([SHAPES.indexOf(found.shape), found.inputParams, found.sharedQueryParams], (_, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    )
    let batch = batches.get(key)
    if (!batch) batches.set(key, (batch = {shape: found.shape, inputParams: found.inputParams, members: []}))
    batch.members.push({index, m, group: found.group, key: batch.members.length, perGroup: found.perGroup})
  })
  const out = new Map<number, BatchedResult>()
  const grouped: GroupedInputs = new Map()
  for (const batch of batches.values()) {
    for (const input of batch.shape.inputs) cache?.delete(input.relation)
    const results = await runBatch(conn, batch, inputFromBlock, tableWanted, grouped, keepState, cache)
    for (const [index, result] of results) out.set(index, result)
    onBatch?.(results)
  }
  return out
}

/**
 * The grouped relations materialized so far in one runBatched call, by relation name: which query, parameters and
 * groups (in group_keys order: the rows carry their numbers) filled it, and the per-group digests computed over it,
 * by group id. Two shapes read the same grouped input (the rewards per model, for fairness and for insider overlap):
 * the second reuses the rows and digests instead of building them again. When the kept fairness copy gave the
 * digests without filling the relation (no query of the suite reads its rows but through a twin over the copy),
 * unfilledTotals holds each group's total, and the later shape's queries run their twins (fromKeptCopy).
 */
type GroupedInputs = Map<string, {key: string; digests: Map<string, {n: number; digest: string}>; unfilledTotals?: ReadonlyMap<string, string>}>

function match(m: Measurement) {
  for (const shape of SHAPES) {
    if (m.inputs.length !== shape.inputs.length || m.queries.length !== shape.queries.length) continue
    if (!shape.inputs.every((s, i) => s.sql === m.inputs[i]!.sql && s.relation === m.inputs[i]!.relation)) continue
    if (!shape.queries.every((s, i) => s.sql === m.queries[i]!.sql)) continue
    const groups = new Set(shape.inputs.flatMap((s, i) => (s.grouped ? [m.inputs[i]!.params[shape.groupParam]] : [])))
    const group = [...groups][0]
    if (groups.size !== 1 || typeof group !== 'string') return undefined
    const inputParams = m.inputs.map((input, i) => {
      if (!shape.inputs[i]!.grouped) return input.params
      const {[shape.groupParam]: _group, ...rest} = input.params
      return rest
    })
    const perGroup: Record<string, string> = {}
    const sharedQueryParams: Record<string, BoundValue>[] = []
    for (const [i, q] of shape.queries.entries()) {
      const shared: Record<string, BoundValue> = {}
      for (const [k, v] of Object.entries(m.queries[i]!.params)) {
        if (!q.perGroupParams?.includes(k)) shared[k] = v
        else if (typeof v === 'string') perGroup[k] = v
        else return undefined
      }
      sharedQueryParams.push(shared)
    }
    return {shape, group, inputParams, perGroup, sharedQueryParams}
  }
  return undefined
}

async function runBatch(
  conn: DuckDBConnection,
  batch: Batch,
  inputFromBlock: number,
  tableWanted: (m: Measurement) => boolean,
  grouped: GroupedInputs,
  keepState: boolean,
  cache: InputCache | undefined,
): Promise<Map<number, BatchedResult>> {
  const {shape, members} = batch
  // One measurement per group and batch (the plan has one per distribution and scope); else rows would mix.
  if (new Set(members.map((x) => x.group)).size !== members.length) throw new Error('batch: a scope appears twice in one batch')
  await writeGroupKeys(conn, shape, members)

  // Inputs: per input, the digest of each group (a shared input has one digest for all).
  const perInput: {relation: string; digests: Map<string, {n: number; digest: string}>; shared?: {n: number; digest: string}}[] = []
  // The per-model fairness at the head from amounts kept in the process (kept-fairness.ts): its inputs' digests come
  // from the kept copy as it follows them, and the summary from the kept amounts.
  const kept = keepState ? await keptFairnessFor(conn, batch) : undefined
  const tableRowsWanted = shape.table !== undefined && members.some((x) => tableWanted(x.m))
  // The per-model validator metrics at the head from the sync's validator tallies: no validations materialized.
  const tallied = await talliedFor(conn, batch)
  // Set when this batch's group_reward digests came from the kept copy without filling it: per group, its total.
  let unfilledRewardTotals: ReadonlyMap<string, string> | undefined
  const byGroup = (rows: Row[]) => new Map(rows.map((r) => [members[Number(r.g)]!.group, {n: Number(r.n), digest: String(r.digest)}]))
  for (const [i, input] of shape.inputs.entries()) {
    const params = batch.inputParams[i]!
    if (tallied) {
      perInput.push({relation: input.relation, digests: byGroup(tallied.digests)})
    } else if (input.grouped) {
      const key = [input.grouped.sql, JSON.stringify(params, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), ...members.map((x) => x.group)].join('\n')
      const held = grouped.get(input.grouped.relation)
      if (held?.key === key) {
        perInput.push({relation: input.relation, digests: held.digests})
        unfilledRewardTotals = held.unfilledTotals
        continue
      }
      // A follower's fairness inputs filled from the kept copy with its digests (kept-fairness.ts); else by the fastest
      // route to exactly its rows, as a single input (routes.ts), with the digests that route keeps, or the kept copy's
      // once it followed the rows so materialized.
      const relation = input.grouped.relation
      const followed = kept && isFollowedRelation(relation) ? relation : undefined
      // The kept copy fills the relation only when a query reads its rows: the shape's table, or another shape's query
      // that has no twin over the copy.
      const rowsRead = tableRowsWanted || SHAPES.some((other) => other !== shape && readsRowsOf(other, relation))
      const fromCopy = followed && kept ? await kept.fill(followed, rowsRead) : undefined
      const keptByRoute =
        fromCopy ??
        (await materializeGroupedInputWithKeptDigests(conn, relation, input.grouped.sql, params)) ??
        (followed && kept ? await kept.digests(followed) : undefined)
      // Else the kept per-vote numbers when they stand for these rows (vote-digests.ts), else every row hashed.
      const rows =
        keptByRoute ??
        (await keptGroupedDigests(conn, input.grouped.sql, input.grouped.relation, params)) ??
        (await queryRows(conn, groupedDigestSql(input.grouped.relation, input.columns)))
      const digests = byGroup(rows)
      if (fromCopy && !rowsRead) {
        // Left unfilled: the rewards' later readers run their twins over the copy, with its totals per group; any other
        // relation is materialized again by a later reader.
        const totals = new Map(fromCopy.map((r) => [members[Number(r.g)]!.group, String(r.total)]))
        if (relation === REWARDS_BY_MODEL_RELATION) grouped.set(relation, {key, digests, unfilledTotals: totals})
      } else {
        grouped.set(relation, {key, digests})
      }
      perInput.push({relation: input.relation, digests})
    } else {
      const {kept} = await materializeInputWithKeptDigest(conn, input.relation, input.sql, params)
      const row = kept ?? (await queryOne(conn, INPUT_DIGEST_SQL(input.relation)))
      const shared = {n: Number(row.n), digest: String(row.digest)}
      perInput.push({relation: input.relation, digests: new Map(), shared})
      // A shared input is the single input of the same name and parameters: a later measurement reading it (the
      // protocol-wide insider overlap reads the top holders the per-model batch read) takes it from the cache.
      cache?.set(input.relation, {key: inputCacheKey({sql: input.sql, params}), ...shared})
    }
  }
  const provenanceOf = (group: string): InputProvenance => {
    return combineInputs(
      perInput.map((p) => {
        const d = p.shared ?? p.digests.get(group)
        if (!d) throw new Error(`batch: no digest of ${p.relation} for ${group}`)
        return {relation: p.relation, ...d}
      }),
    )
  }

  const results = new Map<number, BatchedResult>()
  for (const x of members) results.set(x.index, {records: [], provenance: provenanceOf(x.group)})
  // The query and the table both over the inputs' rows: what both compute first is kept once (Shape.sums).
  const sums = shape.sums && tableRowsWanted && !kept && !tallied && unfilledRewardTotals === undefined ? shape.sums : undefined
  if (sums) await conn.run(`CREATE OR REPLACE TEMP TABLE ${sums.relation} AS ${sums.sql}`, sums.params)
  for (const [i, q] of shape.queries.entries()) {
    const params = Object.fromEntries(Object.entries(members[0]!.m.queries[i]!.params).filter(([k]) => !q.perGroupParams?.includes(k)))
    const keptRows = kept && q.grouped === FAIRNESS_BY_GROUP_SQL ? await kept.byGroup() : undefined
    const computed =
      keptRows ??
      (tallied ? await queryRows(conn, tallied.twin(q.grouped), {...params, ...tallied.twinParams}) : undefined) ??
      (unfilledRewardTotals
        ? await fromKeptCopy(conn, q, params, members, unfilledRewardTotals)
        : await queryRows(conn, (sums ? q.fromSums : undefined) ?? (await oneVoteEachTwin(conn, q, batch)) ?? q.grouped, params))
    const rows = new Map(computed.map((r) => [String(r.g), r]))
    for (const x of members) {
      const row = rows.get(String(x.key))
      if (!row) throw new Error(`batch: no grouped result for ${x.group}`)
      const {g: _g, ...single} = row
      const result = results.get(x.index)!
      result.records.push(...toRecords(x.m, x.m.queries[i]!, single, result.provenance, inputFromBlock))
    }
  }
  const wanted = members.filter((x) => tableWanted(x.m))
  if (shape.table && tableRowsWanted) {
    const tableSql = (sums ? shape.table.fromSums : undefined) ?? shape.table.sql
    const byGroup = new Map((await queryRows(conn, tableSql, shape.table.params)).map((r) => [String(r.g), r]))
    for (const x of wanted) {
      const row = byGroup.get(String(x.key))
      // A group with no table rows has no row here.
      results.get(x.index)!.table = row ? {rows: Number(row.rows), lines: String(row.lines)} : {rows: 0, lines: ''}
    }
  }
  if (sums) await conn.run(`DROP TABLE IF EXISTS ${sums.relation}`)
  return results
}

/**
 * For the per-model fairness batch, when the kept amounts apply (kept-fairness.ts: at the head): the digests of its
 * two grouped inputs from the kept copy, each following its relation once materialized, and the summary's rows from
 * the kept amounts over the sides so followed. Undefined for any other batch.
 */
async function keptFairnessFor(conn: DuckDBConnection, batch: Batch) {
  if (!batch.shape.queries.some((q) => q.grouped === FAIRNESS_BY_GROUP_SQL)) return undefined
  const [contrib, reward] = batch.inputParams
  const namespace = contrib && reward ? await keptFairnessNamespace(conn, contrib, reward) : undefined
  return namespace === undefined ? undefined : keptFairnessSession(conn, namespace)
}

/** The per-model rewards' relation: the one whose readers may have twins over the kept copy (QueryShape.fromKeptCopy). */
const REWARDS_BY_MODEL_RELATION = 'group_reward'

/**
 * Whether a shape's queries read `relation`'s rows: it is one of its inputs, and (for the per-model rewards) a query
 * has no twin over the kept copy.
 */
const readsRowsOf = (shape: Shape, relation: string) =>
  shape.inputs.some((i) => i.grouped?.relation === relation) &&
  (relation !== REWARDS_BY_MODEL_RELATION || shape.queries.some((q) => q.fromKeptCopy === undefined))

/** A grouped query's rows from its twin over the kept fairness copy, with the copy's totals per group (kept-fairness.ts). */
async function fromKeptCopy(
  conn: DuckDBConnection,
  q: QueryShape,
  params: Record<string, BoundValue>,
  members: readonly Member[],
  totals: ReadonlyMap<string, string>,
): Promise<Row[]> {
  if (q.fromKeptCopy === undefined) throw new Error('batch: group_reward was left unfilled for a query without a twin over the kept copy')
  const byKey = new Map<number, string>()
  for (const x of members) {
    const total = totals.get(x.group)
    if (total === undefined) throw new Error(`batch: no kept reward total for ${x.group}`)
    byKey.set(x.key, total)
  }
  await writeKeptRewardTotals(conn, byKey)
  return queryRows(conn, q.fromKeptCopy, params)
}

/** A query's twin for one vote per voter and proposal, when it has one and the batch's governor has no second votes. */
async function oneVoteEachTwin(conn: DuckDBConnection, q: QueryShape, batch: Batch): Promise<string | undefined> {
  const governor = batch.inputParams[0]?.governor
  if (q.oneVoteEach === undefined || typeof governor !== 'string') return undefined
  return (await oneVoteEach(conn, governor)) ? q.oneVoteEach : undefined
}

/**
 * For a batch whose one grouped input the validator tallies stand for, with every query answered by a twin over them
 * (from-tallies.ts): the input's kept digests per group and the twins. Undefined for any other batch, or below the head.
 */
async function talliedFor(conn: DuckDBConnection, batch: Batch) {
  const [input, ...others] = batch.shape.inputs
  if (!input?.grouped || others.length > 0) return undefined
  return groupedFromValidatorTallies(conn, input.grouped.sql, batch.inputParams[0]!, batch.shape.queries.map((q) => q.grouped))
}

/** group_keys(g, id, per-group parameters...): the groups to measure, each once, numbered in member order. */
async function writeGroupKeys(conn: DuckDBConnection, shape: Shape, members: readonly Member[]): Promise<void> {
  const extra = shape.queries.flatMap((q) => q.perGroupParams ?? [])
  forgetGroupKeys(conn)
  await conn.run(`CREATE OR REPLACE TEMP TABLE group_keys (g BIGINT NOT NULL, id VARCHAR NOT NULL${extra.map((p) => `, ${p} VARCHAR NOT NULL`).join('')})`)
  const appender = await conn.createAppender('group_keys', 'main', 'temp')
  for (const x of members) {
    appender.appendBigInt(BigInt(x.key))
    appender.appendVarchar(x.group)
    for (const p of extra) appender.appendVarchar(x.perGroup[p]!)
    appender.endRow()
  }
  appender.closeSync()
  holdGroupKeys(conn, members.map((x) => ({g: BigInt(x.key), id: x.group})))
}
