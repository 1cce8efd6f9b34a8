import type {DuckDBConnection} from '@duckdb/node-api'
import {FAIRNESS_COLUMNS, FAIRNESS_MARGIN} from '../metrics/fairness'
import {FROM_FIXED_POINT} from '../metrics/concentration'
import {queryRows, type Row} from '../metrics/sql-values'
import {FairnessAmounts, type FairnessFigures, type Side} from '../store/fairness-amounts'
import type {InputParams} from '../store/inputs'
import {readSyncState} from '../store/sync'

/**
 * FAIRNESS_BY_GROUP_SQL's rows (grouped-fairness.ts) from amounts kept in the process (fairness-amounts.ts), for the
 * per-model fairness of a refresh: the query ranks ~260,000 entities twice and took ~0.3 s of every refresh at the
 * benchmark's size, though an increment changes a few thousand amounts.
 *
 * How the kept amounts follow the inputs: this connection keeps a copy of the group_contrib and group_reward rows it
 * last saw, per model (TEMP tables fairness_kept_contrib, fairness_kept_reward). Each call compares the relations the
 * batch just materialized with that copy (one join in DuckDB) and applies only the rows that differ, to the copy and
 * to the amounts in the process. The inputs themselves are the reference: a rollback, a rebuild of the mirror or a
 * scope skipped for a while all show up as differing rows, and nothing in the sync has to tell this module about them.
 *
 * Checks: every call compares each model's row counts and exact totals with the relations'; a copy that drifted from
 * the amounts in the process would show there, and both are then rebuilt from the inputs (a diff against an empty
 * copy). A call that fails between changing the copy and the amounts leaves both to be rebuilt by the next call. kept-fairness.test.ts compares the rows with the
 * query's, value for value, over random histories.
 *
 * Undefined (the caller runs the query) when a model is not surely on the narrow path (fairness-amounts.ts), or the
 * totals do not fit HUGEINT.
 */
export function keptFairnessByGroup(conn: DuckDBConnection, namespace: string): Promise<Row[] | undefined> {
  return keptFairnessRows(conn, namespace, GROUPED)
}

/**
 * FAIRNESS_SQL's row over the materialized `contrib` and `reward` (the protocol-wide scope) from amounts kept the same
 * way, as the scope 'protocol' of the same copy (a model id is a decimal number); undefined when the query must run.
 */
export async function keptFairnessSingle(conn: DuckDBConnection, namespace: string): Promise<Row | undefined> {
  return (await keptFairnessRows(conn, namespace, SINGLE))?.[0]
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
  diff: string
  check: string
  rows: string
}

async function keptFairnessRows(conn: DuckDBConnection, namespace: string, source: Source): Promise<Row[] | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) await forgetKeptFairness(conn)
    const kept = await keptFor(conn, namespace)
    await followInputs(conn, kept, source)
    let checks: Row[]
    try {
      checks = await queryRows(conn, source.check)
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

/** Brings the kept copy and the amounts in the process to the materialized inputs. */
async function followInputs(conn: DuckDBConnection, kept: Kept, source: Source): Promise<void> {
  kept.valid = false
  await conn.run(source.diff)
  const diff = (await conn.runAndReadAll(READ_DIFF_SQL)).getColumnsJS()
  for (const sql of APPLY_DIFF_SQL) await conn.run(sql)
  // No rows, no columns.
  const [models = [], sides = [], entities = [], l0 = [], l1 = [], l2 = []] = diff as [string[]?, Side[]?, string[]?, number[]?, number[]?, number[]?]
  for (let i = 0; i < models.length; i++) scopeOf(kept, models[i]!).setLimbs(entities[i]!, sides[i]!, l0[i]!, l1[i]!, l2[i]!)
  kept.valid = true
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
}

const keptByConnection = new WeakMap<DuckDBConnection, Kept>()

/** This connection's kept amounts for `namespace` (the inputs' parameters), emptied with their copy when unusable. */
async function keptFor(conn: DuckDBConnection, namespace: string): Promise<Kept> {
  const kept = keptByConnection.get(conn)
  if (kept?.valid && kept.namespace === namespace) return kept
  const fresh: Kept = {namespace, scopes: new Map(), valid: true}
  await conn.run(`CREATE OR REPLACE TEMP TABLE fairness_kept_contrib (model VARCHAR NOT NULL, entity VARCHAR NOT NULL, amount HUGEINT NOT NULL)`)
  await conn.run(`CREATE OR REPLACE TEMP TABLE fairness_kept_reward (model VARCHAR NOT NULL, entity VARCHAR NOT NULL, amount HUGEINT NOT NULL)`)
  keptByConnection.set(conn, fresh)
  return fresh
}

function scopeOf(kept: Kept, model: string): FairnessAmounts {
  let scope = kept.scopes.get(model)
  if (!scope) kept.scopes.set(model, (scope = new FairnessAmounts()))
  return scope
}

/** Drops this connection's kept amounts (the benchmark's full-suite runs): the next call rebuilds them from the inputs. */
export async function forgetKeptFairness(conn: DuckDBConnection): Promise<void> {
  keptByConnection.delete(conn)
  await conn.run(`DROP TABLE IF EXISTS fairness_kept_contrib`)
  await conn.run(`DROP TABLE IF EXISTS fairness_kept_reward`)
}

/**
 * The inputs of each source as (g, model, entity, amount) rows, only positive amounts (the fairness queries ignore the
 * rest), and its groups as (g, model).
 */
const groupedSide = (relation: string, entity: string, amount: string) =>
  `SELECT x.g, k.id AS model, x.${entity} AS entity, x.${amount} AS amount FROM ${relation} x JOIN group_keys k ON k.g = x.g WHERE x.${amount} > 0`
const singleSide = (relation: string, entity: string, amount: string) =>
  `SELECT 0::BIGINT AS g, '${PROTOCOL}' AS model, ${entity} AS entity, ${amount} AS amount FROM ${relation} WHERE ${amount} > 0`
/** The protocol-wide scope's name in the kept copy. */
const PROTOCOL = 'protocol'

/** One side's rows of the source's groups that differ from the kept copy: the new amount, NULL for a row gone. */
const diffOf = (side: Side, current: string, groups: string, copy: string) => `
SELECT coalesce(cur.model, old.model) AS model, '${side}' AS side, coalesce(cur.entity, old.entity) AS entity, cur.amount
FROM (${current}) cur
FULL OUTER JOIN (SELECT * FROM ${copy} WHERE model IN (SELECT model FROM (${groups}))) old ON old.model = cur.model AND old.entity = cur.entity
WHERE cur.amount IS DISTINCT FROM old.amount`

const diffSql = (contrib: string, reward: string, groups: string) => `CREATE OR REPLACE TEMP TABLE fairness_amount_diff AS
${diffOf('c', contrib, groups, 'fairness_kept_contrib')}
UNION ALL
${diffOf('r', reward, groups, 'fairness_kept_reward')}`

/** Per group: the input rows and exact totals of each side (a total beyond HUGEINT raises). */
const checkSql = (contrib: string, reward: string, groups: string) => `
SELECT k.g, k.model, coalesce(c.n, 0) AS cn, coalesce(c.s, 0)::VARCHAR AS cs, coalesce(r.n, 0) AS rn, coalesce(r.s, 0)::VARCHAR AS rs
FROM (${groups}) k
LEFT JOIN (SELECT g, count(*) AS n, sum(amount) AS s FROM (${contrib}) GROUP BY g) c ON c.g = k.g
LEFT JOIN (SELECT g, count(*) AS n, sum(amount) AS s FROM (${reward}) GROUP BY g) r ON r.g = k.g
ORDER BY k.g`

function source(contrib: string, reward: string, groups: string, grouped: boolean): Source {
  return {diff: diffSql(contrib, reward, groups), check: checkSql(contrib, reward, groups), rows: rowsFromFigures(grouped)}
}

const GROUPED = source(
  groupedSide('group_contrib', 'contributor', 'value'),
  groupedSide('group_reward', 'recipient', 'amount'),
  'SELECT g, id AS model FROM group_keys',
  true,
)
const SINGLE = source(
  singleSide('contrib', 'contributor', 'value'),
  singleSide('reward', 'recipient', 'amount'),
  `SELECT 0::BIGINT AS g, '${PROTOCOL}' AS model`,
  false,
)

/**
 * The differing rows with each amount as three exact 52-bit limbs in DOUBLE (0 for a row gone): numbers, not decimal
 * text, so that the first call, which reads every row, makes no BigInt per row.
 */
const READ_DIFF_SQL = `SELECT model, side, entity,
  coalesce((amount & 4503599627370495)::DOUBLE, 0) AS l0, coalesce(((amount >> 52) & 4503599627370495)::DOUBLE, 0) AS l1,
  coalesce((amount >> 104)::DOUBLE, 0) AS l2
FROM fairness_amount_diff`

const applyTo = (side: Side, copy: string) => [
  `DELETE FROM ${copy} k USING fairness_amount_diff d WHERE d.side = '${side}' AND k.model = d.model AND k.entity = d.entity`,
  `INSERT INTO ${copy} SELECT model, entity, amount FROM fairness_amount_diff WHERE side = '${side}' AND amount IS NOT NULL`,
]

const APPLY_DIFF_SQL = [...applyTo('c', 'fairness_kept_contrib'), ...applyTo('r', 'fairness_kept_reward')]

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
