import type {DuckDBConnection} from '@duckdb/node-api'
import {FAIRNESS_COLUMNS, FAIRNESS_MARGIN} from '../metrics/fairness'
import {FROM_FIXED_POINT} from '../metrics/concentration'
import {queryRows, type Row} from '../metrics/sql-values'
import {FairnessAmounts, type FairnessFigures, type Side} from '../store/fairness-amounts'

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
export async function keptFairnessByGroup(conn: DuckDBConnection, namespace: string): Promise<Row[] | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) await forgetKeptFairness(conn)
    const kept = await keptFor(conn, namespace)
    await followInputs(conn, kept)
    let checks: Row[]
    try {
      checks = await queryRows(conn, CHECK_SQL)
    } catch {
      return undefined // a total beyond HUGEINT: the query's wide path
    }
    const figures = figuresIfChecked(kept, checks)
    if (figures === 'mismatch') continue
    if (figures === undefined) return undefined
    await writeFigures(conn, figures)
    return queryRows(conn, ROWS_FROM_FIGURES_SQL)
  }
  // Even amounts rebuilt from the inputs differ from them: rows the diff cannot follow (a key twice); the query copes.
  await forgetKeptFairness(conn)
  return undefined
}

/** Brings the kept copy and the amounts in the process to the materialized group_contrib and group_reward. */
async function followInputs(conn: DuckDBConnection, kept: Kept): Promise<void> {
  kept.valid = false
  await conn.run(DIFF_SQL)
  const diff = (await conn.runAndReadAll(`SELECT model, side, entity, amount::VARCHAR AS amount FROM fairness_amount_diff`)).getColumnsJS()
  for (const sql of APPLY_DIFF_SQL) await conn.run(sql)
  // No rows, no columns.
  const [models = [], sides = [], entities = [], amounts = []] = diff as [string[]?, Side[]?, string[]?, (string | null)[]?]
  for (let i = 0; i < models.length; i++) scopeOf(kept, models[i]!).set(entities[i]!, sides[i]!, amounts[i] === null ? 0n : BigInt(amounts[i]!))
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

/** One side's rows of the models in group_keys that differ from the kept copy: the new amount, NULL for a row gone. */
const diffOf = (side: Side, relation: string, entity: string, amount: string, copy: string) => `
SELECT coalesce(cur.model, old.model) AS model, '${side}' AS side, coalesce(cur.entity, old.entity) AS entity, cur.amount
FROM (SELECT k.id AS model, x.${entity} AS entity, x.${amount} AS amount FROM ${relation} x JOIN group_keys k ON k.g = x.g WHERE x.${amount} > 0) cur
FULL OUTER JOIN (SELECT * FROM ${copy} WHERE model IN (SELECT id FROM group_keys)) old ON old.model = cur.model AND old.entity = cur.entity
WHERE cur.amount IS DISTINCT FROM old.amount`

const DIFF_SQL = `CREATE OR REPLACE TEMP TABLE fairness_amount_diff AS
${diffOf('c', 'group_contrib', 'contributor', 'value', 'fairness_kept_contrib')}
UNION ALL
${diffOf('r', 'group_reward', 'recipient', 'amount', 'fairness_kept_reward')}`

const applyTo = (side: Side, copy: string) => [
  `DELETE FROM ${copy} k USING fairness_amount_diff d WHERE d.side = '${side}' AND k.model = d.model AND k.entity = d.entity`,
  `INSERT INTO ${copy} SELECT model, entity, amount FROM fairness_amount_diff WHERE side = '${side}' AND amount IS NOT NULL`,
]

const APPLY_DIFF_SQL = [...applyTo('c', 'fairness_kept_contrib'), ...applyTo('r', 'fairness_kept_reward')]

/** Per model of group_keys: the input rows and exact totals of each side (a total beyond HUGEINT raises). */
const CHECK_SQL = `
SELECT k.g, k.id AS model, coalesce(c.n, 0) AS cn, coalesce(c.s, 0)::VARCHAR AS cs, coalesce(r.n, 0) AS rn, coalesce(r.s, 0)::VARCHAR AS rs
FROM group_keys k
LEFT JOIN (SELECT g, count(*) AS n, sum(value) AS s FROM group_contrib WHERE value > 0 GROUP BY g) c ON c.g = k.g
LEFT JOIN (SELECT g, count(*) AS n, sum(amount) AS s FROM group_reward WHERE amount > 0 GROUP BY g) r ON r.g = k.g
ORDER BY k.g`

/** The figures per group, as text (exact integers) for ROWS_FROM_FIGURES_SQL. */
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
 * FAIRNESS_BY_GROUP_SQL's final SELECT over the kept figures: `t` and `a` with the query's column types (BIGNUM totals
 * and Gini numerators, HUGEINT rank sums, the TVD as 0.5 · FROM_FIXED_POINT of its HUGEINT sum), then the query's own
 * FAIRNESS_COLUMNS, so every DOUBLE is formed by the same expression from the same integers.
 */
const ROWS_FROM_FIGURES_SQL = `
WITH t AS (SELECT g, n, c_total::BIGNUM AS c_total, r_total::BIGNUM AS r_total FROM fairness_kept_figures),
a AS (
  SELECT g, 0.5 * ${FROM_FIXED_POINT('tvd_fixed::HUGEINT')} AS tvd, gini_c::BIGNUM AS gini_c_numerator, gini_r::BIGNUM AS gini_r_numerator,
    rank_cov::HUGEINT AS rank_cov, rank_var_c::HUGEINT AS rank_var_c, rank_var_r::HUGEINT AS rank_var_r, over_rewarded, under_rewarded
  FROM fairness_kept_figures
)
SELECT
  t.g,
${FAIRNESS_COLUMNS}
FROM t JOIN a ON a.g = t.g
ORDER BY t.g
`
