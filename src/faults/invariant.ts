import type {Pool} from 'pg'
import {expect} from 'vitest'
import type {ContractsConfig} from '../processor/contracts-config'
import {readIndexStatus} from '../processor/status'
import {Rpc} from '../devnet/rpc'
import {compareIndexWithChain, type ComparisonReport} from '../verify/compare'

/** Event rows whose id is their audit event's id (README "What is stored"). */
const EVENT_TABLES = ['transfer', 'delegate_change', 'voting_power_change', 'vote', 'validation', 'reward_funding', 'reward_payout']

export interface InvariantInput {
  rpcUrl: string
  pool: Pool
  contracts: ContractsConfig
  /** The chain head the index is expected to have reached. */
  head: number
  /** Lower bounds that keep an empty or truncated index from passing: the comparison must have compared these. */
  atLeast: {accounts: number; auditRows: number; proposals?: number}
}

/**
 * The one check every fault trial ends with: the index has reached `head` and equals chain truth there
 * (src/verify/compare.ts: balances, votes, delegates, supply, proposal state and tallies, event counts per kind,
 * the exact (tx hash, log index) set of the audit log: no duplicate, no gap, nothing extra), and no row in Postgres
 * belongs to a block that is no longer on the canonical chain.
 */
export async function expectIndexMatchesChain(input: InvariantInput): Promise<ComparisonReport> {
  const status = await readIndexStatus(input.pool)
  expect(status.height, 'indexed height').toBe(input.head)
  const report = await compareIndexWithChain({rpcUrl: input.rpcUrl, db: input.pool, contracts: input.contracts, block: input.head})
  expect(report.mismatches).toEqual([])
  expect(report.checked.accounts ?? 0).toBeGreaterThanOrEqual(input.atLeast.accounts)
  expect(report.checked['audit rows'] ?? 0).toBeGreaterThanOrEqual(input.atLeast.auditRows)
  if (input.atLeast.proposals !== undefined) expect(report.checked.proposals ?? 0).toBeGreaterThanOrEqual(input.atLeast.proposals)
  expect(await findOrphanedRows(input.pool, input.rpcUrl, input.head)).toEqual([])
  return report
}

/**
 * Rows left behind by a fork: audit rows whose block hash is not the chain's hash at their height, rows above the
 * head, and event rows without their audit row. Returns one line per problem (empty = none).
 */
export async function findOrphanedRows(pool: Pool, rpcUrl: string, head: number): Promise<string[]> {
  const problems: string[] = []
  const blocks = await pool.query<{block_number: number; block_hash: string}>(
    `SELECT DISTINCT block_number, block_hash FROM audit_event ORDER BY block_number`,
  )
  const rpc = new Rpc(rpcUrl)
  const canonical = await rpc.batch<{hash: string} | null>(
    blocks.rows.map((r) => ({method: 'eth_getBlockByNumber', params: ['0x' + r.block_number.toString(16), false]})),
  )
  blocks.rows.forEach((r, i) => {
    const hash = canonical[i]?.hash
    if (hash !== r.block_hash) problems.push(`audit_event rows of block ${r.block_number} have hash ${r.block_hash}, chain has ${hash ?? 'no block'}`)
  })
  const withHeight = await pool.query<{table_name: string}>(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'block_number'`,
  )
  for (const {table_name} of withHeight.rows) {
    const above = await pool.query<{n: number}>(`SELECT count(*)::int AS n FROM "${table_name}" WHERE block_number > $1`, [head])
    if (above.rows[0]!.n > 0) problems.push(`${table_name}: ${above.rows[0]!.n} rows above the head ${head}`)
  }
  for (const table of EVENT_TABLES) {
    const lost = await pool.query<{n: number}>(
      `SELECT count(*)::int AS n FROM "${table}" t WHERE NOT EXISTS (SELECT 1 FROM audit_event a WHERE a.id = t.id)`,
    )
    if (lost.rows[0]!.n > 0) problems.push(`${table}: ${lost.rows[0]!.n} rows without their audit event`)
  }
  return problems
}
