/**
 * Validator power: is validation (which gates who gets rewarded) concentrated, and do validators approve their
 * own work?
 *
 * Input: a relation `validations(validator VARCHAR, contributor VARCHAR)` defined by the caller, one row per
 * validation, `contributor` being the author of the validated contribution (addresses lowercased by the caller,
 * so equality is identity).
 *
 *   fairness.validator_gini         Gini (as in concentration.ts) of the number of validations per validator
 *   fairness.validator_nakamoto     Nakamoto coefficient at 50% of the same distribution: the fewest validators
 *                                   who together performed more than half of all validations
 *   fairness.self_validation_share  validations where validator = contributor / all validations; NULL without
 *                                   validations
 *
 * `runValidatorMetrics` also returns the full concentration result of the validator distribution (entities =
 * validators with at least one validation).
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { concentrationParams, concentrationSqlOver, readConcentration, type ConcentrationResult } from './concentration'
import { queryOne, readInt, readNumberOrNull } from './sql-values'

/** Concentration of validations per validator; the caller's `dist` is not used. Parameter: $quorum_wad. */
export const VALIDATOR_CONCENTRATION_SQL = concentrationSqlOver(
  'SELECT validator AS entity, count(*)::HUGEINT AS w FROM validations GROUP BY validator',
)

/** No parameters. One row. */
export const SELF_VALIDATION_SQL = `
SELECT
  count(*) AS validations,
  count(*) FILTER (WHERE validator = contributor) AS self_validations,
  CASE WHEN count(*) > 0 THEN (count(*) FILTER (WHERE validator = contributor))::DOUBLE / count(*) END
    AS self_validation_share
FROM validations
`

export interface ValidatorMetrics {
  concentration: ConcentrationResult
  validations: number
  selfValidations: number
  selfValidationShare: number | null
}

/** Runs VALIDATOR_CONCENTRATION_SQL and SELF_VALIDATION_SQL over the caller's `validations` relation. */
export async function runValidatorMetrics(conn: DuckDBConnection): Promise<ValidatorMetrics> {
  const concentration = readConcentration(await queryOne(conn, VALIDATOR_CONCENTRATION_SQL, concentrationParams({})))
  const row = await queryOne(conn, SELF_VALIDATION_SQL)
  return {
    concentration,
    validations: readInt(row, 'validations'),
    selfValidations: readInt(row, 'self_validations'),
    selfValidationShare: readNumberOrNull(row, 'self_validation_share'),
  }
}
