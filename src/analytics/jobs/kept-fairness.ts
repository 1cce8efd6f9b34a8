import type {DuckDBConnection} from '@duckdb/node-api'
import {FAIRNESS_COLUMNS, FAIRNESS_MARGIN} from '../metrics/fairness'
import {FROM_FIXED_POINT} from '../metrics/concentration'
import {HUGEINT_TO_BIGNUM} from '../metrics/bignum'
import {insiderOverlapByGroupSqlOver} from '../metrics/grouped-fairness'
import {insiderOverlapSqlOver} from '../metrics/insiders'
import {queryOne, queryRows, type Row} from '../metrics/sql-values'
import {DIGEST_OF_SUMS, MD5_LOWER, MD5_UPPER} from '../store/input-digest'
import {FairnessAmounts, type FairnessFigures, type Side} from '../store/fairness-amounts'
import type {InputParams} from '../store/inputs'
import {ensureFairnessLog} from '../store/fairness-log'
import {heldGroupKeys} from '../store/group-keys'
import {readSyncState} from '../store/sync'

/**
 * The contribution-fairness summaries of a refresh from amounts kept in the process (fairness-amounts.ts):
 * FAIRNESS_BY_GROUP_SQL's rows (grouped-fairness.ts, per model) and FAIRNESS_SQL's row (protocol-wide), value for
 * value. The per-model query ranks ~260,000 entities twice and took ~0.3 s of every refresh at the benchmark's size,
 * though an increment changes a few thousand amounts. For followers only (suite.ts: keepState): building the state
 * costs ~1.3 s at that size, a waste for a one-off suite.
 *
 * How the kept amounts follow the inputs: this connection keeps a copy of the input rows it last saw, per model and
 * for 'protocol' (TEMP tables fairness_kept_contrib, fairness_kept_reward: the positive amounts, and each row's md5
 * number). Following a relation the suite just materialized (group_contrib, group_reward, contrib, reward) is one
 * join in DuckDB that finds the rows that differ from the copy; only those are applied, to the copy and to the
 * amounts in the process. The inputs themselves are the reference: a rollback, a rebuild of the mirror or a scope
 * skipped for a while all show up as differing rows, and nothing in the sync has to tell this module about them.
 *
 * At the head, the copy follows the mirror itself instead (followMirror, keptFairnessSession's `fill`): built once
 * from every contribution and reward, it then takes only the entities the sync logged as touched since
 * (store/fairness-log.ts), and the suite's relations are filled from it. That saves materializing the four relations
 * from ~400,000 mirror rows and joining each with the copy (~0.3 s of every refresh at the benchmark's size). The
 * relations' route above remains for what the mirror path refuses.
 *
 * The copy also gives the inputs' digests (keptInputDigests): the md5 number of a row is computed when the row
 * changes, so a digest adds kept numbers instead of hashing every row of every refresh. A caller that took the
 * digests right after materializing a relation has followed that side and says so (`followed`); the summary then
 * does not compare it again.
 *
 * Checks: every summary compares each scope's row counts and exact totals with the relations'; a copy that drifted
 * from the amounts in the process would show there, and both are then rebuilt from the inputs (a diff against an
 * empty copy). A call that fails between changing the copy and the amounts leaves both to be rebuilt by the next
 * call. A digest is taken from the copy only when each group's relation has exactly the copy's rows.
 * kept-fairness.test.ts compares rows and digests with the queries', value for value, over random histories.
 *
 * Undefined (the caller runs the query) when a scope is not surely on the narrow path (fairness-amounts.ts), or the
 * totals do not fit HUGEINT.
 */
export function keptFairnessByGroup(conn: DuckDBConnection, namespace: string, followed: Followed = NONE): Promise<Row[] | undefined> {
  return keptFairnessRows(conn, namespace, GROUPED, followed)
}

/**
 * The sides a caller followed since materializing their relations (keptInputDigests), each with the copy's rows per
 * group as the digests read them (count and exact total, the summary's check), when the digests were taken.
 */
type Followed = ReadonlyMap<Side, Row[] | undefined>
const NONE: Followed = new Map()

/**
 * FAIRNESS_SQL's row over the materialized `contrib` and `reward` (the protocol-wide scope) from amounts kept the same
 * way, as the scope 'protocol' of the same copy (a model id is a decimal number); undefined when the query must run.
 */
export async function keptFairnessSingle(conn: DuckDBConnection, namespace: string, followed: Followed = NONE): Promise<Row | undefined> {
  return (await keptFairnessRows(conn, namespace, SINGLE, followed))?.[0]
}

/** The input relations the kept copy follows, with their side and source. */
const FOLLOWED_RELATIONS = {
  group_contrib: {side: 'c', grouped: true},
  group_reward: {side: 'r', grouped: true},
  contrib: {side: 'c', grouped: false},
  reward: {side: 'r', grouped: false},
} as const satisfies Record<string, {side: Side; grouped: boolean}>

export type FollowedRelation = keyof typeof FOLLOWED_RELATIONS
export const isFollowedRelation = (relation: string): relation is FollowedRelation => relation in FOLLOWED_RELATIONS

/**
 * One suite's use of the kept amounts for one scope family: each input's digests as it is materialized (which
 * follows its side), then the summary rows over the sides so followed.
 */
export function keptFairnessSession(conn: DuckDBConnection, namespace: string) {
  const followed = new Map<Side, Row[] | undefined>()
  let mirrored: boolean | undefined
  return {
    /**
     * Fills the input relation from the kept copy, once the copy follows the mirror (followMirror), and returns its
     * digest rows as `digests` does; undefined when the copy cannot follow the mirror (the caller materializes the
     * relation and calls `digests`).
     */
    async fill(relation: FollowedRelation, withRows = true): Promise<Row[] | undefined> {
      mirrored ??= await followMirror(conn, namespace)
      const kept = keptByConnection.get(conn)
      if (!mirrored || !kept?.valid) return undefined
      const {side, grouped} = FOLLOWED_RELATIONS[relation]
      const groups = grouped ? await groupsOf(conn) : [{g: 0, model: PROTOCOL}]
      const rows: Row[] = []
      for (const {g, model} of groups) {
        const digest = digestOfSums(kept.digestSums.get(`${side}/${String(model)}`))
        if (!digest) return undefined
        const amounts = kept.scopes.get(String(model))?.rows
        const total = (side === 'c' ? amounts?.contributionTotal : amounts?.rewardTotal) ?? 0n
        rows.push({g: g ?? null, model: model ?? null, n: digest.n, digest: digest.digest, total: total.toString()})
      }
      if (withRows) await conn.run(FILL_SQL[relation])
      followed.set(side, rows)
      return rows
    },
    async digests(relation: FollowedRelation): Promise<Row[] | undefined> {
      const rows = await keptInputDigests(conn, namespace, relation)
      followed.set(FOLLOWED_RELATIONS[relation].side, rows)
      return rows
    },
    byGroup: () => keptFairnessByGroup(conn, namespace, followed),
    single: () => keptFairnessSingle(conn, namespace, followed),
  }
}

/**
 * group_keys' rows (g, model) in g order: as batch.ts holds them in the process (group-keys.ts), else read. Asked twice
 * a refresh, the statement cost ~3–6 ms each beside the other connection's work.
 */
async function groupsOf(conn: DuckDBConnection): Promise<Row[]> {
  const held = heldGroupKeys(conn)
  if (!held) return queryRows(conn, `SELECT g, id AS model FROM group_keys ORDER BY g`)
  // As the query gives them: a BIGINT as its decimal text.
  return held.map((k) => ({g: k.g.toString(), model: k.id}))
}

/**
 * Brings the kept copy of one just-materialized input relation up to it, and returns that relation's row count and
 * digest per group (g, n, digest; the single relations as g 0) from the copy: exactly what groupedDigestSql and
 * INPUT_DIGEST_SQL compute by hashing every row, since the copy holds each row's md5 number, computed when the row
 * last changed. Undefined when a group's relation has rows the copy does not hold (amounts not positive, a key twice):
 * the caller hashes the rows. The side counts as followed for the fairness rows computed over the same relations.
 */
async function keptInputDigests(conn: DuckDBConnection, namespace: string, relation: FollowedRelation): Promise<Row[] | undefined> {
  const {side, grouped} = FOLLOWED_RELATIONS[relation]
  const source = grouped ? GROUPED : SINGLE
  await followSide(conn, await keptFor(conn, namespace), source, side)
  let rows: Row[]
  try {
    rows = await queryRows(conn, source.sides[side].digest)
  } catch {
    return undefined // a total beyond HUGEINT: hashed, and left to the query's wide path
  }
  return rows.every((r) => Number(r.n) === Number(r.relation_rows)) ? rows.map(({relation_rows: _, ...r}) => r) : undefined
}

/**
 * The kept amounts' namespace for inputs with these parameters (VALIDATED_CONTRIBUTION's, REWARDS' or their per-model
 * twins'), when they are read at the mirror's head, where refreshes follow one another with small changes; undefined
 * otherwise (the caller runs the query). A backfill's older blocks use the query: following them would swing the kept
 * amounts back and forth over the history.
 */
export async function keptFairnessNamespace(conn: DuckDBConnection, contrib: InputParams, reward: InputParams): Promise<string | undefined> {
  const block = contrib.block
  if (block === null || block === undefined || reward.block !== block || typeof contrib.registry !== 'string' || typeof reward.distributor !== 'string') {
    return undefined
  }
  const state = await readSyncState(conn)
  if (state === undefined || BigInt(state.height) !== BigInt(block)) return undefined
  return JSON.stringify([contrib.registry, reward.distributor])
}

/** Where the inputs are: the grouped relations with their group_keys, or the single ones as one group. */
interface Source {
  sides: Record<Side, {diff: string; digest: string}>
  check: string
  rows: string
}

async function keptFairnessRows(conn: DuckDBConnection, namespace: string, source: Source, followed: Followed): Promise<Row[] | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) {
      rebuilds++
      await forgetKeptFairness(conn)
    }
    const kept = await keptFor(conn, namespace)
    for (const side of ['c', 'r'] as const) if (attempt > 0 || !followed.has(side)) await followSide(conn, kept, source, side)
    // The check's counts and totals: from the digests' reading of the copy when both sides were just read so (the
    // copy then has exactly the relations' rows), else from the relations.
    let checks = attempt === 0 ? checksFromDigests(followed.get('c'), followed.get('r')) : undefined
    try {
      checks ??= await queryRows(conn, source.check)
    } catch {
      return undefined // a total beyond HUGEINT: the query's wide path
    }
    const figures = figuresIfChecked(kept, checks)
    if (figures === 'mismatch') continue
    if (figures === undefined) return undefined
    await writeFigures(conn, figures)
    return queryRows(conn, source.rows)
  }
  // Even amounts rebuilt from the inputs differ from them: rows the diff cannot follow (a key twice); the query copes.
  await forgetKeptFairness(conn)
  return undefined
}

/** The check rows (g, model, cn, cs, rn, rs) from both sides' digest rows, when both are there for the same groups. */
function checksFromDigests(c: Row[] | undefined, r: Row[] | undefined): Row[] | undefined {
  if (!c || !r || c.length !== r.length || c.some((x, i) => x.g !== r[i]!.g)) return undefined
  return c.map((x, i) => ({g: x.g ?? null, model: x.model ?? null, cn: x.n ?? null, cs: x.total ?? null, rn: r[i]!.n ?? null, rs: r[i]!.total ?? null}))
}

/** Brings one side of the kept copy and of the amounts in the process to the materialized input relation. */
async function followSide(conn: DuckDBConnection, kept: Kept, source: Source, side: Side): Promise<void> {
  await applyDiff(conn, kept, side, source.sides[side].diff)
}

/** Runs a diff statement (it fills fairness_amount_diff) and applies the differing rows to the copy and the amounts. */
async function applyDiff(conn: DuckDBConnection, kept: Kept, side: Side, diffSql: string, params?: Record<string, string>): Promise<void> {
  await applyDiffs(conn, kept, [{side, diffSql, params}])
}

/**
 * applyDiff for several sides in one transaction: each side's diff, its read and its delete and insert, one side after
 * the other, then the amounts in the process once all committed. A sync's follow of both sides (followMirror) used two
 * transactions, and each BEGIN and COMMIT is a statement that waits its turn beside the other connection's work.
 */
async function applyDiffs(conn: DuckDBConnection, kept: Kept, diffs: readonly {side: Side; diffSql: string; params?: Record<string, string>}[]): Promise<void> {
  kept.valid = false
  // One transaction from each diff to its delete: the delete finds the old rows by the rowids the diff read.
  await conn.run('BEGIN TRANSACTION')
  const read: {side: Side; diff: (string | number)[][]}[] = []
  try {
    for (const {side, diffSql, params} of diffs) {
      await conn.run(diffSql, params)
      read.push({side, diff: (await conn.runAndReadAll(READ_DIFF_SQL)).getColumnsJS() as (string | number)[][]})
      for (const sql of APPLY_DIFF_SQL[side]) await conn.run(sql)
    }
    await conn.run('COMMIT')
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined)
    throw e
  }
  for (const {side, diff} of read) {
    // No rows, no columns.
    const [models = [], entities = [], l0 = [], l1 = [], l2 = []] = diff as [string[]?, string[]?, number[]?, number[]?, number[]?]
    const hashLimbs = diff.slice(5) as number[][]
    for (let i = 0; i < models.length; i++) {
      const model = models[i]!
      scopeOf(kept, model).setLimbs(entities[i]!, side, l0[i]!, l1[i]!, l2[i]!)
      const sums = digestSumsOf(kept, side, model)
      // Columns 5..9: the new row's four 32-bit limbs and presence, 10..14 the old row's.
      for (let j = 0; j < 5; j++) sums[j]! += hashLimbs[j]![i]! - hashLimbs[5 + j]![i]!
    }
  }
  kept.valid = true
}

/**
 * Per side and scope, the copy's row count and the sums of its rows' md5 numbers as four 32-bit limbs (limbs 0–1: the
 * upper half, MD5_UPPER; 2–3: the lower half, MD5_LOWER), then the count: exact in doubles while below 2^53, i.e.
 * for up to 2^21 rows per scope (digestOfSums refuses beyond).
 */
function digestSumsOf(kept: Kept, side: Side, model: string): Float64Array {
  const key = `${side}/${model}`
  let sums = kept.digestSums.get(key)
  if (!sums) kept.digestSums.set(key, (sums = new Float64Array(5)))
  return sums
}

const TWO_64 = 1n << 64n
/**
 * INPUT_DIGEST_SQL's digest (DIGEST_OF_SUMS) from the kept sums: (U·2^64 + L) mod 2^128 as two 16-digit hex halves,
 * U and L the sums of the upper and lower halves. Undefined when a limb sum may have lost exactness.
 */
function digestOfSums(sums: Float64Array | undefined): {n: number; digest: string} | undefined {
  if (!sums) return {n: 0, digest: '0'.repeat(32)}
  if (sums.some((x) => !Number.isSafeInteger(x) || x < 0)) return undefined
  const upper = BigInt(sums[0]!) + (BigInt(sums[1]!) << 32n)
  const lower = BigInt(sums[2]!) + (BigInt(sums[3]!) << 32n)
  const hi = (upper + lower / TWO_64) % TWO_64
  const lo = lower % TWO_64
  return {n: sums[4]!, digest: hi.toString(16).padStart(16, '0') + lo.toString(16).padStart(16, '0')}
}

/** Each group's figures when its kept amounts have the inputs' row counts and totals; 'mismatch' when one has not. */
function figuresIfChecked(kept: Kept, checks: readonly Row[]): {g: number; f: FairnessFigures}[] | 'mismatch' | undefined {
  const figures: {g: number; f: FairnessFigures}[] = []
  for (const check of checks) {
    const scope = scopeOf(kept, String(check.model))
    const rows = scope.rows
    if (
      Number(check.cn) !== rows.contributors ||
      Number(check.rn) !== rows.recipients ||
      String(check.cs) !== rows.contributionTotal.toString() ||
      String(check.rs) !== rows.rewardTotal.toString()
    ) {
      return 'mismatch'
    }
    const f = scope.figures(FAIRNESS_MARGIN)
    if (!f) return undefined
    figures.push({g: Number(check.g), f})
  }
  return figures
}

interface Kept {
  namespace: string
  scopes: Map<string, FairnessAmounts>
  /** False between changing the copy in DuckDB and the amounts in the process: the next call starts afresh. */
  valid: boolean
  /**
   * The sync state (synced_at and height) at which followMirror last brought the copy to the whole mirror, every
   * model's and the protocol's amounts, with the sync's log registered from there; undefined before.
   */
  mirroredAt?: string
  /** The copy's row counts and digest sums per side and scope (digestSumsOf). */
  digestSums: Map<string, Float64Array>
}

const keptByConnection = new WeakMap<DuckDBConnection, Kept>()

/** This connection's kept amounts for `namespace` (the inputs' parameters), emptied with their copy when unusable. */
async function keptFor(conn: DuckDBConnection, namespace: string): Promise<Kept> {
  const kept = keptByConnection.get(conn)
  if (kept?.valid && kept.namespace === namespace) return kept
  const fresh: Kept = {namespace, scopes: new Map(), valid: true, digestSums: new Map()}
  for (const copy of Object.values(COPIES)) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${copy} (model VARCHAR NOT NULL, entity VARCHAR NOT NULL, amount HUGEINT NOT NULL, m UHUGEINT NOT NULL)`)
  }
  keptByConnection.set(conn, fresh)
  return fresh
}

function scopeOf(kept: Kept, model: string): FairnessAmounts {
  let scope = kept.scopes.get(model)
  if (!scope) kept.scopes.set(model, (scope = new FairnessAmounts()))
  return scope
}

let rebuilds = 0
/** How many times a check found the kept amounts differing from the inputs (the tests expect none). */
export const keptFairnessRebuilds = (): number => rebuilds

/** Drops this connection's kept amounts (the benchmark's full-suite runs): the next call rebuilds them from the inputs. */
export async function forgetKeptFairness(conn: DuckDBConnection): Promise<void> {
  keptByConnection.delete(conn)
  for (const copy of Object.values(COPIES)) await conn.run(`DROP TABLE IF EXISTS ${copy}`)
}

/** The kept copy of each side: per model (or 'protocol'), the positive amounts and each row's md5 number. */
const COPIES: Record<Side, string> = {c: 'fairness_kept_contrib', r: 'fairness_kept_reward'}
/** The protocol-wide scope's name in the kept copy (a model id is a decimal number). */
const PROTOCOL = 'protocol'

/** A side's input relation and its column names (VALIDATED_CONTRIBUTION's and REWARDS', and their per-model twins'). */
const SIDE_COLUMNS: Record<Side, {entity: string; amount: string}> = {c: {entity: 'contributor', amount: 'value'}, r: {entity: 'recipient', amount: 'amount'}}

/**
 * A source's relations: `current` gives a side's rows as (g, model, entity, amount), positive amounts only (the
 * fairness queries ignore the rest), `counted` every row's group (for the digest's check), `groups` (g, model).
 */
interface SourceRelations {
  current: (side: Side) => string
  counted: (side: Side) => string
  groups: string
}

const groupedRelations: SourceRelations = {
  current: (side) => {
    const {entity, amount} = SIDE_COLUMNS[side]
    return `SELECT x.g, k.id AS model, x.${entity} AS entity, x.${amount} AS amount FROM ${side === 'c' ? 'group_contrib' : 'group_reward'} x JOIN group_keys k ON k.g = x.g WHERE x.${amount} > 0`
  },
  counted: (side) => `SELECT g, count(*) AS n FROM ${side === 'c' ? 'group_contrib' : 'group_reward'} GROUP BY g`,
  groups: 'SELECT g, id AS model FROM group_keys',
}

const singleRelations: SourceRelations = {
  current: (side) => {
    const {entity, amount} = SIDE_COLUMNS[side]
    return `SELECT 0::BIGINT AS g, '${PROTOCOL}' AS model, ${entity} AS entity, ${amount} AS amount FROM ${side === 'c' ? 'contrib' : 'reward'} WHERE ${amount} > 0`
  },
  counted: (side) => `SELECT 0::BIGINT AS g, count(*) AS n FROM ${side === 'c' ? 'contrib' : 'reward'}`,
  groups: `SELECT 0::BIGINT AS g, '${PROTOCOL}' AS model`,
}

/**
 * One side's rows of the source's groups that differ from the kept copy: the new amount (NULL for a row gone) and
 * the new row's md5 number as INPUT_DIGEST_SQL and groupedDigestSql render the row (a struct of the relation's two
 * columns), computed for these rows only.
 */
const diffSql = (r: SourceRelations, side: Side) => diffOf(side, r.current(side), ` WHERE model IN (SELECT model FROM (${r.groups}))`)

/**
 * fairness_amount_diff from a side's current positive amounts `current` (model, entity, amount) and the copy's rows
 * they are compared with (those `keptWhere` selects): per differing (model, entity), the new amount (NULL for a row
 * gone), the new row's md5 number, the old row's, and the old row's rowid in the copy (`rid`, NULL for a new row), by
 * which applyDiff deletes it: ~2 ms against ~7 ms for a delete joined on (model, entity) over the ~180,000 rows of
 * the benchmark's copy.
 */
const diffOf = (side: Side, current: string, keptWhere: string) => {
  const {entity, amount} = SIDE_COLUMNS[side]
  return `CREATE OR REPLACE TEMP TABLE fairness_amount_diff AS
SELECT coalesce(cur.model, old.model) AS model, coalesce(cur.entity, old.entity) AS entity, cur.amount,
  CASE WHEN cur.amount IS NOT NULL THEN md5_number(CAST(struct_pack(${entity} := cur.entity, ${amount} := cur.amount) AS VARCHAR)) END AS m,
  old.m AS old_m, old.rid
FROM (${current}) cur
FULL OUTER JOIN (SELECT *, rowid AS rid FROM ${COPIES[side]}${keptWhere}) old ON old.model = cur.model AND old.entity = cur.entity
WHERE cur.amount IS DISTINCT FROM old.amount`
}

/**
 * Per group, the copy's row count and digest (as groupedDigestSql's) and exact total (a total beyond HUGEINT raises),
 * and the relation's own row count.
 */
const digestSql = (r: SourceRelations, side: Side) => `
SELECT k.g, any_value(k.model) AS model, count(c.m) AS n, ${DIGEST_OF_SUMS(`sum(${MD5_UPPER('c.m')})`, `sum(${MD5_LOWER('c.m')})`)} AS digest,
  coalesce(sum(c.amount), 0)::VARCHAR AS total, coalesce(any_value(rel.n), 0) AS relation_rows
FROM (${r.groups}) k LEFT JOIN ${COPIES[side]} c ON c.model = k.model LEFT JOIN (${r.counted(side)}) rel ON rel.g = k.g
GROUP BY k.g
ORDER BY k.g`

/** Per group: the input rows and exact totals of each side (a total beyond HUGEINT raises). */
const checkSql = (r: SourceRelations) => `
SELECT k.g, k.model, coalesce(c.n, 0) AS cn, coalesce(c.s, 0)::VARCHAR AS cs, coalesce(rw.n, 0) AS rn, coalesce(rw.s, 0)::VARCHAR AS rs
FROM (${r.groups}) k
LEFT JOIN (SELECT g, count(*) AS n, sum(amount) AS s FROM (${r.current('c')}) GROUP BY g) c ON c.g = k.g
LEFT JOIN (SELECT g, count(*) AS n, sum(amount) AS s FROM (${r.current('r')}) GROUP BY g) rw ON rw.g = k.g
ORDER BY k.g`

function source(r: SourceRelations, grouped: boolean): Source {
  const side = (x: Side) => ({diff: diffSql(r, x), digest: digestSql(r, x)})
  return {sides: {c: side('c'), r: side('r')}, check: checkSql(r), rows: rowsFromFigures(grouped)}
}

const GROUPED = source(groupedRelations, true)
const SINGLE = source(singleRelations, false)

/**
 * The differing rows with each amount as three exact 52-bit limbs in DOUBLE (0 for a row gone): numbers, not decimal
 * text, so that the first call, which reads every row, makes no BigInt per row.
 */
const HASH_LIMBS = (m: string) =>
  [0, 32, 64, 96].map((shift) => `coalesce(((${m} >> ${shift}) & 4294967295)::DOUBLE, 0)`).join(', ') + `, (${m} IS NOT NULL)::INTEGER::DOUBLE`
const READ_DIFF_SQL = `SELECT model, entity,
  coalesce((amount & 4503599627370495)::DOUBLE, 0) AS l0, coalesce(((amount >> 52) & 4503599627370495)::DOUBLE, 0) AS l1,
  coalesce((amount >> 104)::DOUBLE, 0) AS l2,
  ${HASH_LIMBS('m')}, ${HASH_LIMBS('old_m')}
FROM fairness_amount_diff`

/** The diff applied to a copy: the old rows out by their rowid (diffOf), the new ones in. */
const applyTo = (copy: string) => [
  `DELETE FROM ${copy} WHERE rowid IN (SELECT rid FROM fairness_amount_diff WHERE rid IS NOT NULL)`,
  `INSERT INTO ${copy} SELECT model, entity, amount, m FROM fairness_amount_diff WHERE amount IS NOT NULL`,
]

const APPLY_DIFF_SQL: Record<Side, string[]> = {c: applyTo(COPIES.c), r: applyTo(COPIES.r)}

/** The figures per group, as text (exact integers) for rowsFromFigures. */
async function writeFigures(conn: DuckDBConnection, figures: readonly {g: number; f: FairnessFigures}[]): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE fairness_kept_figures (g BIGINT, n BIGINT, c_total VARCHAR, r_total VARCHAR, tvd_fixed VARCHAR,
    gini_c VARCHAR, gini_r VARCHAR, rank_cov VARCHAR, rank_var_c VARCHAR, rank_var_r VARCHAR, over_rewarded BIGINT, under_rewarded BIGINT)`)
  const appender = await conn.createAppender('fairness_kept_figures', 'main', 'temp')
  const text = (x: bigint | null) => (x === null ? appender.appendNull() : appender.appendVarchar(x.toString()))
  for (const {g, f} of figures) {
    appender.appendBigInt(BigInt(g))
    appender.appendBigInt(BigInt(f.n))
    text(f.contributionTotal)
    text(f.rewardTotal)
    text(f.tvdFixed)
    text(f.giniContributionNumerator)
    text(f.giniRewardNumerator)
    text(f.rankCov)
    text(f.rankVarC)
    text(f.rankVarR)
    appender.appendBigInt(BigInt(f.over))
    appender.appendBigInt(BigInt(f.under))
    appender.endRow()
  }
  appender.closeSync()
}

/**
 * FAIRNESS_BY_GROUP_SQL's final SELECT (with `grouped`; else FAIRNESS_SQL's, without g) over the kept figures: `t` and `a` with the query's column types (BIGNUM totals
 * and Gini numerators, HUGEINT rank sums, the TVD as 0.5 · FROM_FIXED_POINT of its HUGEINT sum), then the query's own
 * FAIRNESS_COLUMNS, so every DOUBLE is formed by the same expression from the same integers.
 */
function rowsFromFigures(grouped: boolean): string {
  return `
WITH t AS (SELECT g, n, c_total::BIGNUM AS c_total, r_total::BIGNUM AS r_total FROM fairness_kept_figures),
a AS (
  SELECT g, 0.5 * ${FROM_FIXED_POINT('tvd_fixed::HUGEINT')} AS tvd, gini_c::BIGNUM AS gini_c_numerator, gini_r::BIGNUM AS gini_r_numerator,
    rank_cov::HUGEINT AS rank_cov, rank_var_c::HUGEINT AS rank_var_c, rank_var_r::HUGEINT AS rank_var_r, over_rewarded, under_rewarded
  FROM fairness_kept_figures
)
SELECT${grouped ? '\n  t.g,' : ''}
${FAIRNESS_COLUMNS}
FROM t JOIN a ON a.g = t.g
ORDER BY t.g
`
}

// --- Following the mirror itself: the sync's log of touched entities (store/fairness-log.ts) -----------------------

/**
 * Brings the kept copy, and the amounts in the process, to the mirror's current contributions and rewards: every
 * model's and the protocol's, so any later group_keys can be filled from the copy. Once built from the whole mirror,
 * the copy registers its sources with the sync's log, and later calls recompute only the entities logged since
 * (a few thousand per refresh, against ~260,000 amounts rebuilt by the inputs' queries). Returns false (the caller
 * uses the relations) when the mirror's rows cannot give the inputs' rows: an amount that did not fit HUGEINT (the
 * inputs raise their error), or totals beyond it.
 *
 * Check: after following, each scope's exact contribution and reward totals must be the mirror's (one scan of each
 * table). A difference (a writer of those tables that bypassed the log) rebuilds from the whole mirror once; a second
 * difference gives up (false).
 */
async function followMirror(conn: DuckDBConnection, namespace: string): Promise<boolean> {
  const state = await readSyncState(conn)
  if (state === undefined) return false
  const at = `${state.syncedAt}/${state.height}`
  const current = keptByConnection.get(conn)
  if (current?.valid && current.namespace === namespace && current.mirroredAt === at) return true
  const [registry, distributor] = JSON.parse(namespace) as [string, string]
  let totals: Row
  try {
    totals = await queryOne(conn, MIRROR_TOTALS_SQL, {registry, distributor})
  } catch {
    return false // a total beyond HUGEINT
  }
  if (Number(totals.c_unfit) > 0 || Number(totals.r_unfit) > 0) return false
  await ensureFairnessLog(conn)
  const sources = {registry, distributor}
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) {
      rebuilds++
      await forgetKeptFairness(conn)
    }
    const kept = await keptFor(conn, namespace)
    const logged = Number((await queryRows(conn, `SELECT count(*) AS n FROM fairness_log_sources WHERE ${MY_SOURCES}`, sources))[0]?.n)
    const whole = kept.mirroredAt === undefined || logged !== 2
    mirrorFollows[whole ? 'whole' : 'touched']++
    kept.mirroredAt = undefined
    try {
      await applyDiffs(
        conn,
        kept,
        (['c', 'r'] as const).map((side) => ({side, diffSql: MIRROR_DIFF[side][whole ? 'whole' : 'touched'], params: {source: side === 'c' ? registry : distributor}})),
      )
    } catch {
      // An amount beyond HUGEINT: the inputs' queries raise their own error naming it.
      await forgetKeptFairness(conn)
      return false
    }
    await conn.run(`DELETE FROM fairness_touched WHERE ${MY_SOURCES}`, sources)
    if (whole) {
      await conn.run(`DELETE FROM fairness_log_sources WHERE ${MY_SOURCES}`, sources)
      await conn.run(`INSERT INTO fairness_log_sources VALUES ('c', $registry), ('r', $distributor)`, sources)
    }
    if (totalsAgree(kept, totals)) {
      kept.mirroredAt = at
      return true
    }
  }
  await forgetKeptFairness(conn)
  return false
}

const mirrorFollows = {whole: 0, touched: 0}
/** How many times followMirror read the whole mirror, and the logged entities only (for tests). */
export const keptFairnessMirrorFollows = (): {whole: number; touched: number} => ({...mirrorFollows})

const MY_SOURCES = `(side = 'c' AND source = $registry) OR (side = 'r' AND source = $distributor)`

/** Whether the protocol scope's kept totals are the mirror's. */
function totalsAgree(kept: Kept, totals: Row): boolean {
  const rows = kept.scopes.get(PROTOCOL)?.rows
  return (
    (rows?.contributionTotal ?? 0n).toString() === String(totals.c_total ?? '0') && (rows?.rewardTotal ?? 0n).toString() === String(totals.r_total ?? '0')
  )
}

/**
 * The mirror's exact protocol-wide totals of the amounts the inputs add, per side, and how many rows have no amount
 * (did not fit: the inputs raise their error then). The per-entity amounts are sums of non-negative values, so the
 * positive amounts the copy keeps add up to the same totals. Protocol-wide only: every contribution and payment
 * counts there, so a change that bypassed the log shows, unless it only moved an amount between models or entities
 * (per-model totals cost a grouped scan of each table, ~60 ms at the benchmark's size, on every refresh).
 */
const MIRROR_TOTALS_SQL = `
WITH c AS (
  SELECT (sum(value) FILTER (WHERE accepted))::VARCHAR AS total, count(*) FILTER (WHERE value IS NULL) AS unfit
  FROM validated_contribution WHERE registry = $registry
), r AS (
  SELECT sum(r.amount)::VARCHAR AS total, count(*) FILTER (WHERE r.amount IS NULL) AS unfit
  FROM reward_paid r LEFT JOIN epoch ep ON ep.distributor = r.distributor AND ep.epoch_id = r.epoch_id WHERE r.distributor = $distributor
)
SELECT c.total AS c_total, c.unfit AS c_unfit, r.total AS r_total, r.unfit AS r_unfit FROM c, r`

/**
 * A side's current amounts per (model, entity) and per ('protocol', entity), from the tables the inputs' routes read
 * at the head: VALIDATED_CONTRIBUTION_BY_MODEL_FROM_PAIRS and VALIDATED_CONTRIBUTION_FROM_PAIRS
 * (validated-contributions.ts), REWARDS_BY_MODEL and REWARDS (inputs.ts) with the same joins, so duplicate rows count
 * as they count there. `only` restricts the entities (a column name → a condition).
 */
const CURRENT_AMOUNTS: Record<Side, (only: (column: string) => string) => string> = {
  c: (only) => `
SELECT model_id AS model, contributor AS entity, CAST(sum(value) AS HUGEINT) AS amount FROM validated_contribution
WHERE registry = $source AND accepted${only('contributor')} GROUP BY model_id, contributor
UNION ALL
SELECT '${PROTOCOL}', contributor, CAST(sum(value) AS HUGEINT) FROM validated_contribution
WHERE registry = $source AND accepted${only('contributor')} GROUP BY contributor`,
  // One join of the payments to their epochs, summed per (model, recipient), a model NULL for payments to an epoch
  // not opened; the protocol-wide amounts sum those sums, all of them (~10 ms less than joining twice, at the
  // benchmark's size). Amounts are never negative, so the protocol's sum overflows HUGEINT exactly when the direct
  // sum would.
  r: (only) => `
WITH per_model AS (
  SELECT ep.model_id, r.recipient, sum(r.amount) AS amount
  FROM reward_paid r LEFT JOIN epoch ep ON ep.distributor = r.distributor AND ep.epoch_id = r.epoch_id
  WHERE r.distributor = $source${only('r.recipient')} GROUP BY ep.model_id, r.recipient
)
SELECT model_id AS model, recipient AS entity, CAST(amount AS HUGEINT) AS amount FROM per_model WHERE model_id IS NOT NULL
UNION ALL
SELECT '${PROTOCOL}', recipient, CAST(sum(amount) AS HUGEINT) FROM per_model GROUP BY recipient`,
}

/** The diff (as diffSql's) of a side's current amounts against the whole copy, or of the logged entities' only. */
const mirrorDiffSql = (side: Side, touchedOnly: boolean) => {
  const touched = `SELECT entity FROM fairness_touched WHERE side = '${side}' AND source = $source`
  const only = touchedOnly ? (column: string) => ` AND ${column} IN (${touched})` : () => ''
  return diffOf(
    side,
    `SELECT * FROM (${CURRENT_AMOUNTS[side](only)}) WHERE amount > 0`,
    touchedOnly ? ` WHERE entity IN (${touched})` : '',
  )
}

const MIRROR_DIFF: Record<Side, {whole: string; touched: string}> = {
  c: {whole: mirrorDiffSql('c', false), touched: mirrorDiffSql('c', true)},
  r: {whole: mirrorDiffSql('r', false), touched: mirrorDiffSql('r', true)},
}

/**
 * INSIDER_OVERLAP_BY_GROUP_SQL (grouped-fairness.ts) over the kept copy of the per-model rewards instead of a filled
 * group_reward, for a batch whose group_reward digests came from the copy without filling it (batch.ts): the same
 * columns and values. The copy holds exactly group_reward's rows per model (positive amounts, one per recipient: the
 * digests taken from it say so), so the top holders' rewards are their rows, and each group's total is the kept
 * total, given per group in kept_reward_totals(g, total). Reads `top_holders` and group_keys as the query does.
 */
export const INSIDER_OVERLAP_BY_GROUP_FROM_COPY_SQL = insiderOverlapByGroupSqlOver(
  `
  SELECT k.g, c.entity, ${HUGEINT_TO_BIGNUM('c.amount')} AS amount FROM group_keys k JOIN ${COPIES.r} c ON c.model = k.id
  WHERE c.entity IN (SELECT entity FROM h)
`,
  'tot AS (SELECT k.g, t.total::BIGNUM AS total FROM group_keys k JOIN kept_reward_totals t ON t.g = k.g)',
)

/**
 * INSIDER_OVERLAP_SQL (insiders.ts) over the kept copy's protocol-wide rewards instead of a filled `reward`: the same
 * columns and values, as INSIDER_OVERLAP_BY_GROUP_FROM_COPY_SQL for one group. Parameter: $total, the kept total.
 */
export const INSIDER_OVERLAP_FROM_COPY_SQL = insiderOverlapSqlOver(
  `SELECT entity, ${HUGEINT_TO_BIGNUM('amount')} AS amount FROM ${COPIES.r} WHERE model = '${PROTOCOL}' AND entity IN (SELECT entity FROM h)`,
  'SELECT $total::BIGNUM AS total',
)

/**
 * The protocol-wide REWARDS at `params` as the kept copy holds them: its row count, digest and exact total, when the
 * copy followed the mirror at its current sync state (a follower's suite at the head did, filling or digesting the
 * fairness inputs), for this distributor, and `params` asks for the head; undefined otherwise.
 */
export async function keptProtocolRewards(conn: DuckDBConnection, params: InputParams): Promise<{n: number; digest: string; total: string} | undefined> {
  const kept = keptByConnection.get(conn)
  if (!kept?.valid || kept.mirroredAt === undefined || params.model != null || params.block == null) return undefined
  const [, distributor] = JSON.parse(kept.namespace) as [string, string]
  if (params.distributor !== distributor) return undefined
  const state = await readSyncState(conn)
  if (state === undefined || `${state.syncedAt}/${state.height}` !== kept.mirroredAt || BigInt(state.height) !== BigInt(params.block)) return undefined
  const digest = digestOfSums(kept.digestSums.get(`r/${PROTOCOL}`))
  if (!digest) return undefined
  return {...digest, total: (kept.scopes.get(PROTOCOL)?.rows.rewardTotal ?? 0n).toString()}
}

/** Writes kept_reward_totals(g, total) for INSIDER_OVERLAP_BY_GROUP_FROM_COPY_SQL: per group number, its decimal total. */
export async function writeKeptRewardTotals(conn: DuckDBConnection, totals: ReadonlyMap<number, string>): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE kept_reward_totals (g BIGINT NOT NULL, total VARCHAR NOT NULL)`)
  const appender = await conn.createAppender('kept_reward_totals', 'main', 'temp')
  for (const [g, total] of totals) {
    appender.appendBigInt(BigInt(g))
    appender.appendVarchar(total)
    appender.endRow()
  }
  appender.closeSync()
}

/** Each followed relation filled from the copy: the rows, column names and types the inputs' queries give. */
const FILL_SQL: Record<FollowedRelation, string> = {
  group_contrib: `CREATE OR REPLACE TEMP TABLE group_contrib AS
    SELECT k.g, c.entity AS contributor, c.amount AS value FROM group_keys k JOIN ${COPIES.c} c ON c.model = k.id`,
  group_reward: `CREATE OR REPLACE TEMP TABLE group_reward AS
    SELECT k.g, c.entity AS recipient, c.amount AS amount FROM group_keys k JOIN ${COPIES.r} c ON c.model = k.id`,
  contrib: `CREATE OR REPLACE TEMP TABLE contrib AS SELECT entity AS contributor, amount AS value FROM ${COPIES.c} WHERE model = '${PROTOCOL}'`,
  reward: `CREATE OR REPLACE TEMP TABLE reward AS SELECT entity AS recipient, amount FROM ${COPIES.r} WHERE model = '${PROTOCOL}'`,
}
