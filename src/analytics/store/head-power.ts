import type {DuckDBConnection} from '@duckdb/node-api'
import {queryOne, type Row} from '../metrics/sql-values'
import {headRowSql, orderStatisticParams, splitCheckedRow, surelyFastPath} from './head-balances'
import {type BalanceChange, OrderedBalances} from './ordered-balances'
import {VOTING_POWER_FROM_STATE} from './routes'

/**
 * The voting-power concentration row at the head (CONCENTRATION_WITH_LORENZ_SQL's columns over delegate_power) from
 * the delegates' power kept sorted in the process, as head-balances.ts does for the balances, instead of a sort of
 * every delegate's power in DuckDB (~30–50 ms of every refresh at the benchmark's size, 50,000 delegates):
 * - the order statistics (Gini numerator, Nakamoto counts, top-k sums, the Lorenz curve's kept points) come from
 *   OrderedBalances, as exact integers;
 * - HHI, entropy and Theil, and the checks, from one scan of delegate_power with the query's expressions
 *   (headRowSql). The total voting power moves with nearly every vote change, so these sums are not kept: the scan
 *   of ~50,000 rows is what a refresh pays instead of the sort;
 * - one query forms every DOUBLE of the row from those integers, so the row is the query's row.
 *
 * Keeping the state current: delegate_power has one row per delegate, carrying the id of its newest vote change, so
 * the rows above the last id this connection saw are the delegates whose power changed; their old power is kept
 * here, per delegate. A rollback that puts an older row back is not seen that way. So every use checks the kept state
 * against delegate_power in the row's scan: the count, the exact total and Σ (w mod 2^31)² must be equal, or the state
 * is rebuilt from delegate_power (every row read once, the positive powers sorted in the process) and the row
 * computed again. head-power.test.ts compares the row
 * with the query's over histories with rollbacks.
 *
 * Undefined (the caller runs the query) when the token has no delegate with power, a power or the total reaches
 * 2^104, or the distribution is not on the query's HUGEINT path.
 */
export async function headPowerRow(conn: DuckDBConnection, token: string, quorumWad: string | null, maxPoints: number): Promise<Row | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const kept = await keptPower(conn, token, attempt > 0)
    if (!kept) return undefined
    const figures = kept.ordered.figures(maxPoints, quorumWad === null ? null : BigInt(quorumWad))
    if (!surelyFastPath(figures)) return undefined
    const row = await queryOne(conn, HEAD_POWER_SQL, {token, ...orderStatisticParams(figures)})
    const {checked, concentration} = splitCheckedRow(row, figures, kept.m2)
    if (checked) return concentration.lorenz_fast === true ? concentration : undefined
    rebuilds++
  }
  throw new Error(`the voting power of ${token} kept in the process differs from delegate_power right after a rebuild from it`)
}

const HEAD_POWER_SQL = headRowSql(VOTING_POWER_FROM_STATE)

interface KeptPower {
  ordered: OrderedBalances
  /** Each delegate's positive power, as the kept order holds it. */
  power: Map<string, bigint>
  /** Σ (w mod 2^31)² over the kept powers: the check against delegate_power (RESIDUE_SQUARE_SQL's term). */
  m2: bigint
  /** The greatest id of the token's delegate_power rows when last read. */
  lastId: string
}

const keptByConnection = new WeakMap<DuckDBConnection, Map<string, KeptPower>>()

let builds = 0
let rebuilds = 0
/** How many times this process built kept voting power from delegate_power, and rebuilt it after a failed check. */
export const headPowerBuilds = (): number => builds
export const headPowerRebuilds = (): number => rebuilds

/**
 * Drops this connection's kept voting power (the benchmark's full-suite runs, which measure a suite computed from the
 * mirror alone): the next use builds it again.
 */
export function forgetKeptPower(conn: DuckDBConnection): void {
  keptByConnection.delete(conn)
}

/** Changes beyond this many, and beyond a quarter of the delegates, rebuild instead (a first load, a rebuild). */
const REBUILD_ABOVE_CHANGES = 10_000

const MASK_31 = (1n << 31n) - 1n
const residueSquare = (w: bigint): bigint => (w & MASK_31) * (w & MASK_31)

/** The token's kept power, brought up to delegate_power's rows above the last id seen, or rebuilt. */
async function keptPower(conn: DuckDBConnection, token: string, rebuild: boolean): Promise<KeptPower | undefined> {
  let byToken = keptByConnection.get(conn)
  if (!byToken) keptByConnection.set(conn, (byToken = new Map()))
  const kept = rebuild ? undefined : byToken.get(token)
  byToken.delete(token)
  if (kept) {
    const rows = await readPower(conn, token, kept.lastId)
    if (rows.length <= Math.max(REBUILD_ABOVE_CHANGES, kept.ordered.count / 4)) {
      const changes: BalanceChange[] = []
      let m2 = kept.m2
      for (const {delegate, w} of rows) {
        if (w === null) return undefined // a power that did not fit HUGEINT: the query raises its error
        const old = kept.power.get(delegate) ?? 0n
        changes.push({old, new: w})
        m2 += residueSquare(w > 0n ? w : 0n) - residueSquare(old)
      }
      if (kept.ordered.apply(changes)) {
        for (const {delegate, w} of rows) {
          if (w! > 0n) kept.power.set(delegate, w!)
          else kept.power.delete(delegate)
        }
        kept.m2 = m2
        kept.lastId = greatestId(rows, kept.lastId)
        byToken.set(token, kept)
        return kept
      }
    }
  }
  builds++
  const rows = await readPower(conn, token, null)
  if (rows.some((r) => r.w === null)) return undefined
  const positive = rows.filter((r) => r.w! > 0n)
  if (positive.length === 0) return undefined
  const ordered = OrderedBalances.fromValues(positive.map((r) => r.w!))
  if (!ordered) return undefined
  const built: KeptPower = {
    ordered,
    power: new Map(positive.map((r) => [r.delegate, r.w!])),
    m2: positive.reduce((sum, r) => sum + residueSquare(r.w!), 0n),
    lastId: greatestId(rows, ''),
  }
  byToken.set(token, built)
  return built
}

/** The greatest of `from` and the rows' ids (ids compare as DuckDB compares them: zero-padded, by character). */
const greatestId = (rows: readonly {id: string}[], from: string): string => rows.reduce((last, r) => (r.id > last ? r.id : last), from)

/** The token's delegate_power rows with an id above `afterId` (null: all), each power exact (null when it did not fit). */
async function readPower(conn: DuckDBConnection, token: string, afterId: string | null): Promise<{delegate: string; id: string; w: bigint | null}[]> {
  const reader = await conn.runAndReadAll(
    `SELECT delegate, id, new_votes::VARCHAR AS w FROM delegate_power
     WHERE token = $token AND (CAST($after AS VARCHAR) IS NULL OR id > CAST($after AS VARCHAR))`,
    {token, after: afterId},
  )
  const [delegates = [], ids = [], ws = []] = reader.getColumnsJS() as [string[]?, string[]?, (string | null)[]?]
  return delegates.map((delegate, i) => ({delegate, id: ids[i]!, w: ws[i] === null || ws[i] === undefined ? null : BigInt(ws[i]!)}))
}
