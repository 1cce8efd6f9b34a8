import type {DuckDBConnection} from '@duckdb/node-api'
import {holds} from '../duckdb'
import {concentrationByGroupSqlOver} from '../metrics/grouped'
import {concentrationSqlOver} from '../metrics/concentration'

/**
 * How many validations each validator made, per registry and model, kept current by the sync, so that a refresh at
 * the head answers the validator metrics (validator concentration and self-validation: metrics/validators.ts and
 * their per-model twins) from a few hundred tallies instead of materializing every validation twice (protocol-wide
 * and per model: 200,000 rows each at the benchmark's size, ~100 ms a refresh).
 *
 * validator_tally(registry, model_id, validator, validations, self_validations): over the pairs of
 * validated_contribution (one per row of VALIDATIONS: validated-contributions.ts), per (registry, model, validator),
 * the number of pairs and of those whose contributor is the validator. A triple without pairs has no row, as in a
 * mirror rebuilt from scratch (the sync tests compare the two: it is a derived table of mirrorDigest).
 *
 * How it follows the pairs: validated-contributions.ts adds and deletes pairs above a cut only, and calls
 * addValidatorTallies with those pairs (kept apart in a temp table) right after it inserts them (sign 1) and right
 * before it deletes them (sign -1), in the sync's transaction.
 */
export const VALIDATOR_TALLY_DDL = `CREATE TABLE IF NOT EXISTS validator_tally (registry VARCHAR NOT NULL, model_id VARCHAR NOT NULL,
  validator VARCHAR NOT NULL, validations BIGINT NOT NULL, self_validations BIGINT NOT NULL)`

/**
 * ± the validated_contribution pairs in `pairs` (validated_contribution itself, or a table of its columns holding some
 * of its pairs), per (registry, model, validator); rows that reach 0 go.
 */
export async function addValidatorTallies(conn: DuckDBConnection, pairs: string, sign: 1 | -1): Promise<void> {
  await conn.run(
    `MERGE INTO validator_tally t
     USING (
       SELECT p.registry, p.model_id, p.validator, count(*) * $sign AS d, count(*) FILTER (WHERE p.validator = p.contributor) * $sign AS ds
       FROM ${pairs} p GROUP BY p.registry, p.model_id, p.validator
     ) x ON t.registry = x.registry AND t.model_id = x.model_id AND t.validator = x.validator
     WHEN MATCHED AND t.validations + x.d = 0 THEN DELETE
     WHEN MATCHED THEN UPDATE SET validations = t.validations + x.d, self_validations = t.self_validations + x.ds
     WHEN NOT MATCHED THEN INSERT VALUES (x.registry, x.model_id, x.validator, x.d, x.ds)`,
    {sign},
  )
}

/**
 * Sums the tallies from every pair when they hold nothing while there are pairs (a mirror kept before the table
 * existed; a rebuild fills the pairs, and the tallies with them, through addValidatedPairsAbove).
 */
export async function initValidatorTallies(conn: DuckDBConnection): Promise<void> {
  if (await holds(conn, NO_TALLIES)) await addValidatorTallies(conn, 'validated_contribution', 1)
}

const NO_TALLIES = `NOT EXISTS (SELECT 1 FROM validator_tally) AND EXISTS (SELECT 1 FROM validated_contribution)`

/** The conditions under which initValidatorTallies fills something (derived-state.ts asks them all at once). */
export const VALIDATOR_TALLY_INIT_CHECKS: readonly string[] = [NO_TALLIES]

const MODEL = 'CAST($model AS VARCHAR)'

/** VALIDATIONS' rows of $registry and $model (NULL: the whole registry) at the head, as per-validator counts. */
const TALLIES_IN_SCOPE = `FROM validator_tally WHERE registry = $registry AND (${MODEL} IS NULL OR model_id = ${MODEL})`

/**
 * VALIDATOR_CONCENTRATION_SQL (metrics/validators.ts) over VALIDATIONS of $registry and $model at the head, from the
 * tallies: the same distribution (each validator with its number of validations). Parameters: $quorum_wad,
 * $registry, $model.
 */
export const VALIDATOR_CONCENTRATION_FROM_TALLIES_SQL = concentrationSqlOver(
  `SELECT validator AS entity, sum(validations)::HUGEINT AS w ${TALLIES_IN_SCOPE} GROUP BY validator`,
)

/** SELF_VALIDATION_SQL over the same rows, from the tallies: the same columns and types. Parameters: $registry, $model. */
export const SELF_VALIDATION_FROM_TALLIES_SQL = `
SELECT validations, self_validations,
  CASE WHEN validations > 0 THEN self_validations::DOUBLE / validations END AS self_validation_share
FROM (SELECT coalesce(sum(validations), 0)::BIGINT AS validations, coalesce(sum(self_validations), 0)::BIGINT AS self_validations ${TALLIES_IN_SCOPE})
`

/** The tallies of $registry's models in the caller's group_keys (id = model id), with their group number g. */
const TALLIES_BY_GROUP = `FROM group_keys k JOIN validator_tally t ON t.model_id = k.id AND t.registry = $registry`

/** VALIDATOR_CONCENTRATION_BY_GROUP_SQL (metrics/grouped-fairness.ts) from the tallies. Parameters: $quorum_wad, $registry. */
export const VALIDATOR_CONCENTRATION_BY_GROUP_FROM_TALLIES_SQL = concentrationByGroupSqlOver(
  `SELECT k.g, t.validator AS entity, t.validations::HUGEINT AS w ${TALLIES_BY_GROUP}`,
)

/** SELF_VALIDATION_BY_GROUP_SQL from the tallies: one row per group, groups without validations included. Parameter: $registry. */
export const SELF_VALIDATION_BY_GROUP_FROM_TALLIES_SQL = `
SELECT g, validations, self_validations,
  CASE WHEN validations > 0 THEN self_validations::DOUBLE / validations END AS self_validation_share
FROM (
  SELECT k.g, coalesce(sum(t.validations), 0)::BIGINT AS validations, coalesce(sum(t.self_validations), 0)::BIGINT AS self_validations
  FROM group_keys k LEFT JOIN validator_tally t ON t.model_id = k.id AND t.registry = $registry
  GROUP BY k.g
)
ORDER BY g
`
