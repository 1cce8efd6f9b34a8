/**
 * Model ownership: are the registered AI models owned by many or by few?
 *
 * Input: a relation `models(model VARCHAR, owner VARCHAR)` defined by the caller, one row per registered model
 * (current owner). The distribution is the number of distinct models per owner; an entity is an owner of at
 * least one model.
 *
 *   fairness.model_owner_gini      Gini (as in concentration.ts) of models per owner
 *   fairness.model_owner_nakamoto  fewest owners who together own more than half of the models
 *
 * `runModelOwnerConcentration` returns the full concentration result of that distribution.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { concentrationParams, concentrationSqlOver, readConcentration, type ConcentrationResult } from './concentration'
import { queryOne } from './sql-values'

/** Concentration of models per owner; the caller's `dist` is not used. Parameter: $quorum_wad. */
export const MODEL_OWNER_CONCENTRATION_SQL = concentrationSqlOver(
  'SELECT owner AS entity, count(DISTINCT model)::HUGEINT AS w FROM models GROUP BY owner',
)

export async function runModelOwnerConcentration(conn: DuckDBConnection): Promise<ConcentrationResult> {
  return readConcentration(await queryOne(conn, MODEL_OWNER_CONCENTRATION_SQL, concentrationParams({})))
}
