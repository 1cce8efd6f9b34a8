import type {DuckDBConnection} from '@duckdb/node-api'
import {SELF_VALIDATION_BY_GROUP_SQL, VALIDATOR_CONCENTRATION_BY_GROUP_SQL} from '../metrics/grouped-fairness'
import {DELEGATE_ACTIVITY_SQL, REPEAT_VOTERS_SQL} from '../metrics/participation'
import {queryOne, type Row} from '../metrics/sql-values'
import {SELF_VALIDATION_SQL, VALIDATOR_CONCENTRATION_SQL} from '../metrics/validators'
import {type InputParams, VALIDATIONS, VALIDATIONS_BY_MODEL, VOTES_ALL} from '../store/inputs'
import {
  hasDerivedTable, type KeptDigest, keptInputDigest, keptValidationsDigest, keptValidationsDigestsByModel, powerInPlaceAt, VOTING_POWER_FROM_STATE,
} from '../store/routes'
import {
  SELF_VALIDATION_BY_GROUP_FROM_TALLIES_SQL, SELF_VALIDATION_FROM_TALLIES_SQL, VALIDATOR_CONCENTRATION_BY_GROUP_FROM_TALLIES_SQL,
  VALIDATOR_CONCENTRATION_FROM_TALLIES_SQL,
} from '../store/validator-tallies'
import {DELEGATE_ACTIVITY_FROM_TALLIES_SQL, delegateActivityFromTalliesOver, REPEAT_VOTERS_FROM_TALLIES_SQL} from '../store/voter-tallies'
import {combineInputs, type InputCache, type InputPart, type InputProvenance, type Measurement, type MetricRecord, prepareInput, toRecords} from './measurement'

/**
 * An input whose metric queries the sync's tallies answer at the head: the input's query, the tally table, the
 * metric queries and their twins over the tallies, the input's kept count and digest where the tallies stand for
 * its rows, and the parameters the twins add (from the input's).
 */
interface TallyRoute {
  input: string
  table: string
  twins: ReadonlyMap<string, string>
  /**
   * Twins that read the measurement's other input, the voting power, where the sync keeps it (routes.ts
   * powerInPlaceAt) instead of materialized: used when every query of the measurement has one and the route applies.
   */
  overPowerInPlace?: ReadonlyMap<string, string>
  kept(conn: DuckDBConnection, params: InputParams): Promise<KeptDigest | undefined>
  twinParams(params: InputParams): Record<string, string | null>
}

const TALLY_ROUTES: readonly TallyRoute[] = [
  // Repeat voters and delegate activity over all of a governor's votes (store/voter-tallies.ts).
  {
    input: VOTES_ALL,
    table: 'voter_tally',
    twins: new Map([
      [REPEAT_VOTERS_SQL, REPEAT_VOTERS_FROM_TALLIES_SQL],
      [DELEGATE_ACTIVITY_SQL, DELEGATE_ACTIVITY_FROM_TALLIES_SQL],
    ]),
    overPowerInPlace: new Map([[DELEGATE_ACTIVITY_SQL, delegateActivityFromTalliesOver(VOTING_POWER_FROM_STATE)]]),
    kept: (conn, params) => keptInputDigest(conn, VOTES_ALL, params),
    twinParams: (params) => ({governor: String(params.governor)}),
  },
  // Validator concentration and self-validation of a registry or one of its models (store/validator-tallies.ts).
  {
    input: VALIDATIONS,
    table: 'validator_tally',
    twins: new Map([
      [VALIDATOR_CONCENTRATION_SQL, VALIDATOR_CONCENTRATION_FROM_TALLIES_SQL],
      [SELF_VALIDATION_SQL, SELF_VALIDATION_FROM_TALLIES_SQL],
    ]),
    kept: keptValidationsDigest,
    twinParams: (params) => ({registry: String(params.registry), model: params.model == null ? null : String(params.model)}),
  },
]

/**
 * A measurement from tallies the sync keeps, without materializing the rows they count: at a block at or above the
 * input's last mirrored row, where the input's rows are exactly those the tallies and the kept digest were kept
 * over. Its other input (the voting power of delegate activity) is read where the sync keeps it when it stands for the
 * input (TallyRoute.overPowerInPlace), else materialized as usual. The records are those
 * runMeasurement makes: the same provenance (the input's kept count and digest, combined as prepareInputs combines
 * them) and the same values (the tests compare both routes), citing the measurement's own SQL. Undefined when no
 * route applies (an earlier block, another measurement, a mirror not yet synced with the tallies): the caller runs
 * the measurement.
 */
export async function runFromTallies(
  conn: DuckDBConnection,
  m: Measurement,
  inputFromBlock: number,
  cache?: InputCache,
): Promise<{records: MetricRecord[]; provenance: InputProvenance} | undefined> {
  for (const route of TALLY_ROUTES) {
    const tallied = m.inputs.find((i) => i.sql === route.input)
    if (!tallied || m.queries.some((q) => !route.twins.has(q.sql))) continue
    if (!(await hasDerivedTable(conn, route.table))) return undefined
    const kept = await route.kept(conn, tallied.params)
    if (!kept) return undefined
    // The other input (delegate activity's voting power) read in place, with its kept count and digest, when it can be.
    const [other, ...more] = m.inputs.filter((i) => i !== tallied)
    const overPower = route.overPowerInPlace
    const inPlace =
      other && more.length === 0 && overPower && m.queries.every((q) => overPower.has(q.sql)) ? await powerInPlaceAt(conn, other.sql, other.params) : undefined
    const parts: InputPart[] = []
    for (const input of m.inputs) {
      if (input === tallied) parts.push({relation: input.relation, ...kept})
      else if (inPlace) parts.push({relation: input.relation, ...inPlace.kept})
      else parts.push(await prepareInput(conn, input, cache))
    }
    const provenance = combineInputs(parts)
    const records: MetricRecord[] = []
    for (const q of m.queries) {
      const twin = inPlace ? overPower!.get(q.sql)! : route.twins.get(q.sql)!
      const row = await queryOne(conn, twin, {...q.params, ...route.twinParams(tallied.params), ...(inPlace?.params ?? {})})
      records.push(...toRecords(m, q, row, provenance, inputFromBlock))
    }
    return {records, provenance}
  }
  return undefined
}

/** The per-model validator metrics' grouped queries (batch-shapes.ts) and their twins over the tallies. */
const BY_GROUP_FROM_VALIDATOR_TALLIES: ReadonlyMap<string, string> = new Map([
  [VALIDATOR_CONCENTRATION_BY_GROUP_SQL, VALIDATOR_CONCENTRATION_BY_GROUP_FROM_TALLIES_SQL],
  [SELF_VALIDATION_BY_GROUP_SQL, SELF_VALIDATION_BY_GROUP_FROM_TALLIES_SQL],
])

/**
 * For a batch of per-model measurements over VALIDATIONS_BY_MODEL (batch.ts) whose grouped queries the validator
 * tallies answer, at the head: the input's kept count and digest per group of group_keys, and each query's twin with
 * the parameters it adds. The caller then neither materializes nor hashes the validations. Undefined otherwise.
 */
export async function groupedFromValidatorTallies(
  conn: DuckDBConnection,
  groupedInput: string,
  params: InputParams,
  groupedQueries: readonly string[],
): Promise<{digests: Row[]; twin: (grouped: string) => string; twinParams: {registry: string}} | undefined> {
  if (groupedInput !== VALIDATIONS_BY_MODEL || groupedQueries.some((q) => !BY_GROUP_FROM_VALIDATOR_TALLIES.has(q))) return undefined
  if (!(await hasDerivedTable(conn, 'validator_tally'))) return undefined
  const digests = await keptValidationsDigestsByModel(conn, params)
  if (!digests) return undefined
  return {digests, twin: (grouped) => BY_GROUP_FROM_VALIDATOR_TALLIES.get(grouped)!, twinParams: {registry: String(params.registry)}}
}
