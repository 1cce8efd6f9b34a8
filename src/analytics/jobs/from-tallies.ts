import type {DuckDBConnection} from '@duckdb/node-api'
import {DELEGATE_ACTIVITY_SQL, REPEAT_VOTERS_SQL} from '../metrics/participation'
import {queryOne} from '../metrics/sql-values'
import {VOTES_ALL} from '../store/inputs'
import {hasDerivedTable, keptInputDigest} from '../store/routes'
import {DELEGATE_ACTIVITY_FROM_TALLIES_SQL, REPEAT_VOTERS_FROM_TALLIES_SQL} from '../store/voter-tallies'
import {combineInputs, type InputCache, type InputPart, type InputProvenance, type Measurement, type MetricRecord, prepareInput, toRecords} from './measurement'

/** The metric queries over VOTES_ALL that the voter tallies answer, and their twins over the tallies. */
const FROM_TALLIES = new Map<string, string>([
  [REPEAT_VOTERS_SQL, REPEAT_VOTERS_FROM_TALLIES_SQL],
  [DELEGATE_ACTIVITY_SQL, DELEGATE_ACTIVITY_FROM_TALLIES_SQL],
])

/**
 * A governor-wide measurement over all its votes (repeat voters, delegate activity) from the voter tallies the sync
 * keeps (store/voter-tallies.ts), without materializing the votes: at a block at or above the governor's last
 * mirrored vote, where VOTES_ALL's rows are exactly those the tallies and the kept digest were kept over. Its other
 * inputs (the voting power) are materialized as usual. The records are those runMeasurement makes: the same
 * provenance (VOTES_ALL's kept count and digest, combined as prepareInputs combines them) and the same values (the
 * tests compare both routes), citing the measurement's own SQL. Undefined when the route does not apply (an earlier
 * block, another measurement, a mirror not yet synced with the tallies): the caller runs the measurement.
 */
export async function runFromVoterTallies(
  conn: DuckDBConnection,
  m: Measurement,
  inputFromBlock: number,
  cache?: InputCache,
): Promise<{records: MetricRecord[]; provenance: InputProvenance} | undefined> {
  const votes = m.inputs.find((i) => i.sql === VOTES_ALL)
  if (m.scopeKind !== 'governor' || !votes || m.queries.some((q) => !FROM_TALLIES.has(q.sql))) return undefined
  if (!(await hasDerivedTable(conn, 'voter_tally'))) return undefined
  const kept = await keptInputDigest(conn, VOTES_ALL, votes.params)
  if (!kept) return undefined
  const parts: InputPart[] = []
  for (const input of m.inputs) parts.push(input === votes ? {relation: input.relation, ...kept} : await prepareInput(conn, input, cache))
  const provenance = combineInputs(parts)
  const records: MetricRecord[] = []
  for (const q of m.queries) {
    const row = await queryOne(conn, FROM_TALLIES.get(q.sql)!, {...q.params, governor: String(votes.params.governor)})
    records.push(...toRecords(m, q, row, provenance, inputFromBlock))
  }
  return {records, provenance}
}
