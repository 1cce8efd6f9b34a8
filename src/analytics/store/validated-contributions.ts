import type {DuckDBConnection} from '@duckdb/node-api'
import {holds} from '../duckdb'
import {SCANNED_HUGEINT} from './column-storage'
import {addMissingInput, addValidationPairs, inputSumsMissing} from './head-digests'
import {unfitPairsIn} from './mirror-snapshot'
import {rowsAboveAt} from './rows-above'
import {addValidatorTallies, initValidatorTallies, VALIDATOR_TALLY_INIT_CHECKS} from './validator-tallies'

/**
 * Every validation joined to its contribution, kept by the sync, so that the contribution inputs at the head
 * (VALIDATED_CONTRIBUTION, VALIDATIONS and their per-model twins, inputs.ts) read one table instead of joining
 * 200,000 validations to 200,000 contributions four times a refresh (~100 ms each at the benchmark's size).
 *
 * validated_contribution(registry, model_id, contributor, validator, accepted, value, v_block, c_block) has one row
 * per pair the inputs' join yields (validation v, contribution c with the same registry and contribution id): the
 * contribution's model and contributor, the validation's validator and verdict, value = units × score (NULL when the
 * units did not fit, or the product does not fit HUGEINT), and the blocks of both rows.
 *
 * How it follows the rows: the sync changes validation and contribution only above a cut. After it extracts new
 * rows, it adds the pairs with either row above the cut; before a rollback deletes rows, it deletes those pairs. So a
 * mirror synced in steps holds exactly what a rebuild holds (the sync tests compare the two: it is a derived table of
 * mirrorDigest). routes.ts reads it only at a block at or above every mirrored validation of the registry, where the
 * inputs' block bound keeps every pair, and only while no value is NULL (the inputs raise their error then).
 */
export const VALIDATED_CONTRIBUTION_DDL = `CREATE TABLE IF NOT EXISTS validated_contribution (registry VARCHAR NOT NULL,
  model_id VARCHAR NOT NULL, contributor VARCHAR NOT NULL, validator VARCHAR NOT NULL, accepted BOOLEAN NOT NULL, value ${SCANNED_HUGEINT},
  v_block BIGINT NOT NULL, c_block BIGINT NOT NULL, m_validation UHUGEINT)`

/**
 * m_validation: the md5 number of the pair as a row of VALIDATIONS renders (validator, contributor), so that the
 * validations' input digests, single and per model, are kept as sums of these numbers (head-digests.ts, input
 * 'validations') instead of rendering and hashing 200,000 rows twice a refresh (~120 ms at the benchmark's size). Last in the table, and
 * nullable, because a mirror made before it existed gets it by ALTER TABLE (initValidatedPairs).
 */
const VALIDATION_ROW_MD5 = (validator: string, contributor: string) =>
  `md5_number(CAST(struct_pack(validator := ${validator}, contributor := ${contributor}) AS VARCHAR))`

const PAIR_COLUMNS = `v.registry AS registry, c.model_id AS model_id, c.contributor AS contributor, v.validator AS validator,
  v.accepted AS accepted, TRY(c.units * v.score) AS value, v.block_number AS v_block, c.block_number AS c_block,
  ${VALIDATION_ROW_MD5('v.validator', 'c.contributor')} AS m_validation`
/** The join of validations (alias v) to their contributions (alias c), from the given tables. */
const pairJoin = (validations: string, contributions: string) =>
  `${validations} v JOIN ${contributions} c ON c.registry = v.registry AND c.contribution_id = v.contribution_id`

/**
 * The pairs with a row above `cut`, once each: a new validation (of any contribution), or an old one of a new
 * contribution.
 *
 * The new rows are copied to temp tables first. Filtered in the join itself (validation v JOIN contribution c WHERE
 * v.block_number > $cut ...), DuckDB took 35–120 ms a sync at the benchmark's size, ~90 ms median, for a few hundred
 * pairs: without a count of the filtered side it could build the join's hash table on 200,000 rows. From tables of
 * known size it builds on the few new rows: ~20 ms with the copies.
 */
export async function addValidatedPairsAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE validation_above AS SELECT * FROM validation WHERE block_number > $cut`, {cut})
  await conn.run(`CREATE OR REPLACE TEMP TABLE contribution_above AS SELECT * FROM contribution WHERE block_number > $cut`, {cut})
  // The new pairs are kept apart too: they are exactly the table's pairs with a row above the cut (the rollback step
  // deleted any others), and the head digests and the validator tallies take them from there instead of finding
  // them among every pair (an OR of two block columns no zone map prunes: ~15 ms a sync at the benchmark's size).
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE pairs_above AS
     SELECT ${PAIR_COLUMNS} FROM ${pairJoin('validation_above', 'contribution')}
     UNION ALL
     SELECT ${PAIR_COLUMNS} FROM ${pairJoin('validation', 'contribution_above')} WHERE v.block_number <= $cut`,
    {cut},
  )
  await conn.run(`INSERT INTO validated_contribution BY NAME SELECT * FROM pairs_above`)
  await conn.run(`DROP TABLE validation_above`)
  await conn.run(`DROP TABLE contribution_above`)
  await addValidationPairs(conn, 'pairs_above', 1)
  await addValidatorTallies(conn, 'pairs_above', 1)
  await conn.run(`DROP TABLE pairs_above`)
}

/** The pairs with a row above $cut. */
const ABOVE = 'p.v_block > $cut OR p.c_block > $cut'

/**
 * Before a rollback deletes the rows above `cut`: the pairs that have one of them, found once and kept apart as the
 * sync keeps the new ones, for the head digests and the validator tallies to take out.
 */
export async function dropValidatedPairsAbove(conn: DuckDBConnection, cut: number): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE pairs_above AS SELECT * FROM validated_contribution p WHERE ${ABOVE}`, {cut})
  await addValidationPairs(conn, 'pairs_above', -1)
  await addValidatorTallies(conn, 'pairs_above', -1)
  await conn.run(`DROP TABLE pairs_above`)
  await conn.run(`DELETE FROM validated_contribution p WHERE ${ABOVE}`, {cut})
}

/**
 * Fills the table from scratch when it holds nothing while the mirror holds validations (a rebuild, or a mirror made
 * before the table existed). Inside the sync's transaction, before its rollback step.
 */
export async function initValidatedPairs(conn: DuckDBConnection): Promise<void> {
  await addValidationDigestColumn(conn)
  // The validations' head digests came after the pairs (after m_validation too, which they add).
  await addMissingInput(conn, VALIDATION_SUMS_MISSING, () => addValidationPairs(conn, 'validated_contribution', 1))
  // So did the validator tallies.
  await initValidatorTallies(conn)
  if (await holds(conn, NO_PAIRS)) await addValidatedPairsAbove(conn, -1)
}

/** A mirror whose validated_contribution predates m_validation: the column is added and filled once. */
async function addValidationDigestColumn(conn: DuckDBConnection): Promise<void> {
  if (!(await holds(conn, NO_DIGEST_COLUMN))) return
  await conn.run(`ALTER TABLE validated_contribution ADD COLUMN m_validation UHUGEINT`)
  await conn.run(`UPDATE validated_contribution SET m_validation = ${VALIDATION_ROW_MD5('validator', 'contributor')}`)
}

const NO_DIGEST_COLUMN = `NOT EXISTS (SELECT 1 FROM duckdb_columns()
  WHERE table_name = 'validated_contribution' AND column_name = 'm_validation' AND database_name = current_database())`
const VALIDATION_SUMS_MISSING = inputSumsMissing('validations', 'SELECT 1 FROM validated_contribution')
const NO_PAIRS = `NOT EXISTS (SELECT 1 FROM validated_contribution) AND EXISTS (SELECT 1 FROM validation)`

/** The conditions under which initValidatedPairs fills something (derived-state.ts asks them all at once). */
export const VALIDATED_PAIR_INIT_CHECKS: readonly string[] = [NO_DIGEST_COLUMN, VALIDATION_SUMS_MISSING, ...VALIDATOR_TALLY_INIT_CHECKS, NO_PAIRS]

const MODEL = 'CAST($model AS VARCHAR)'
const IN_SCOPE = `p.registry = $registry AND (${MODEL} IS NULL OR p.model_id = ${MODEL})`

/**
 * The routes (routes.ts): each gives exactly the rows, column names and types of its input in inputs.ts at the head.
 * Parameters: those of the input without $block.
 */
export const VALIDATED_CONTRIBUTION_FROM_PAIRS = `
SELECT contributor, value FROM (
  SELECT p.contributor, CAST(sum(p.value) AS HUGEINT) AS value FROM validated_contribution p
  WHERE ${IN_SCOPE} AND p.accepted GROUP BY p.contributor
) WHERE value > 0`

export const VALIDATIONS_FROM_PAIRS = `SELECT p.validator, p.contributor FROM validated_contribution p WHERE ${IN_SCOPE}`

export const VALIDATED_CONTRIBUTION_BY_MODEL_FROM_PAIRS = `
SELECT g, contributor, value FROM (
  SELECT k.g, p.contributor, CAST(sum(p.value) AS HUGEINT) AS value
  FROM validated_contribution p JOIN group_keys k ON k.id = p.model_id
  WHERE p.registry = $registry AND p.accepted GROUP BY k.g, p.contributor
) WHERE value > 0`

export const VALIDATIONS_BY_MODEL_FROM_PAIRS = `
SELECT k.g, p.validator, p.contributor FROM validated_contribution p JOIN group_keys k ON k.id = p.model_id WHERE p.registry = $registry`

/** Whether the table stands for the inputs of `registry` at `block` (see the module comment). */
export async function pairsAreCurrentAt(conn: DuckDBConnection, registry: string, block: string | number | bigint | null | undefined): Promise<boolean> {
  const above = block === null || block === undefined ? {sql: 'false', params: {}} : await rowsAboveAt(conn, 'validation', 'registry = $registry', {}, block)
  // Inside a suite at the head both answers are known without a statement (mirror-snapshot.ts, rows-above.ts).
  const unfit = unfitPairsIn(conn, registry)
  if (unfit !== undefined && above.sql === 'false') return !unfit
  const r = await conn.runAndReadAll(
    `SELECT ${above.sql} AS above,
            EXISTS (SELECT 1 FROM validated_contribution WHERE registry = $registry AND value IS NULL) AS unfit`,
    {registry, ...above.params},
  )
  const row = r.getRowObjectsJson()[0]
  return row?.unfit === false && row.above === false
}
