import type {DuckDBConnection} from '@duckdb/node-api'
import type {Pool} from 'pg'
import type {Address} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type AnalyticsDb, openAnalyticsDb} from '../analytics/duckdb'
import {compareMirrorWithPostgres} from '../analytics/store/mirror-vs-postgres'
import {syncFromPostgres} from '../analytics/store/sync'
import {Rng} from '../devnet/prng'
import {Rpc} from '../devnet/rpc'
import {resetIndex} from '../processor/reset-index'
import {readIndexStatus} from '../processor/status'
import {EXIT_FORK_BELOW_FINALITY} from '../processor/fork-check'
import {type SupervisedProcessor, superviseProcessor} from '../processor/supervise'
import {mineTokenActivity} from './activity'
import {type FaultDevnet, startFaultDevnet} from './fault-devnet'
import {expectIndexMatchesChain, findOrphanedRows} from './invariant'
import {blockHashAt, reorgWithOtherTransfers, transferInOwnBlock} from './reorgs'

/**
 * Reorgs on the real devnet (anvil_reorg re-mines the last blocks with other transactions), against a running,
 * supervised processor.
 *  - inside FINALITY_CONFIRMATIONS: Subsquid's hot-block rollback undoes the orphaned blocks; no row of them may stay
 *    in Postgres, nor, after the next analytics sync, in the DuckDB mirror.
 *  - deeper than FINALITY_CONFIRMATIONS: the index holds as final a block the chain replaced. The processor must stop
 *    with a clear message (what, at which block, what to do) and must not be restarted in a loop; after the documented
 *    recovery (reset the index, start again) the index equals the chain.
 */
const SEED = 4242
const FINALITY = 10

let devnet: FaultDevnet
const rng = new Rng(SEED).fork('reorgs')

beforeAll(async () => {
  devnet = await startFaultDevnet(SEED)
})
afterAll(async () => {
  await devnet?.close()
})

function supervise(databaseUrl: string, finality: number): SupervisedProcessor {
  return superviseProcessor({
    databaseUrl,
    rpcUrl: devnet.anvil.rpcUrl,
    contractsFile: devnet.contractsFile,
    stdio: 'pipe',
    env: {FINALITY_CONFIRMATIONS: String(finality)},
    restart: {initialDelayMs: 200, maxDelayMs: 1_000, maxFailuresInARow: 5},
    log: () => undefined,
  })
}

/** waitForHeight sees the height; the hash of the top block may still be the orphaned one for a moment. */
async function waitForHash(pool: Pool, head: number): Promise<void> {
  const hash = await blockHashAt(devnet.anvil.rpcUrl, head)
  for (let i = 0; i < 100 && (await readIndexStatus(pool)).hash !== hash; i++) await new Promise((r) => setTimeout(r, 100))
  expect((await readIndexStatus(pool)).hash).toBe(hash)
}

async function expectInvariant(pool: Pool, head: number): Promise<void> {
  await expectIndexMatchesChain({
    rpcUrl: devnet.anvil.rpcUrl,
    pool,
    contracts: devnet.contracts,
    head,
    atLeast: {accounts: devnet.scenario.accounts.length, auditRows: devnet.scenario.logCount, proposals: devnet.scenario.proposals.length},
  })
}

describe('reorg inside finality', () => {
  let pool: Pool
  let processor: SupervisedProcessor
  let mirror: AnalyticsDb
  let conn: DuckDBConnection

  beforeAll(async () => {
    const fresh = await devnet.freshDatabase('faults_reorg')
    pool = fresh.pool
    processor = supervise(fresh.db.url, FINALITY)
    await processor.waitForHeight(await devnet.head())
    mirror = await openAnalyticsDb(':memory:')
    conn = await mirror.connect()
  })
  afterAll(async () => {
    await processor?.stop()
    mirror?.close()
  })

  for (const trial of [1, 2, 3]) {
    it(`trial ${trial}: seeded depth < ${FINALITY}; orphaned rows leave Postgres and the mirror`, async () => {
      const depth = rng.int(2, FINALITY - 2)
      // Activity the reorg will orphan: a transfer to an address the chain has never seen (an account and a holder
      // that must vanish again), then mints, transfers and delegation changes, i.e. rows in most derived tables.
      const newcomer = `0x${'c'.repeat(38)}${trial.toString().padStart(2, '0')}` as Address
      await transferInOwnBlock(devnet.anvil.rpcUrl, devnet.deployment, newcomer, 1_000n)
      await mineTokenActivity(devnet.anvil.rpcUrl, devnet.deployment, devnet.scenario.accounts, rng, {blocks: depth - 1, perBlock: 5})
      const before = await devnet.head()
      const doomedTxs = await txHashesOfBlocks(before - depth + 1, before)
      await processor.waitForHeight(before)
      await waitForHash(pool, before)
      await syncFromPostgres(conn, pool)
      expect(await countAuditRows(pool, doomedTxs), 'doomed blocks indexed before the reorg').toBeGreaterThan(0)
      expect((await pool.query(`SELECT 1 FROM account WHERE id = $1`, [newcomer])).rowCount, 'newcomer indexed before the reorg').toBe(1)

      const receiver = `0x${'e'.repeat(38)}${trial.toString().padStart(2, '0')}` as Address
      const head = await reorgWithOtherTransfers(devnet.anvil.rpcUrl, devnet.deployment, depth, receiver, rng)
      await processor.waitForHeight(head)
      await waitForHash(pool, head)

      expect(await countAuditRows(pool, doomedTxs), 'audit rows of orphaned transactions').toBe(0)
      const ghost = await pool.query<{n: number}>(
        `SELECT (SELECT count(*) FROM account WHERE id = $1) + (SELECT count(*) FROM token_holder WHERE account_id = $1) AS n`, [newcomer])
      expect(Number(ghost.rows[0]!.n), 'account and holder first seen in an orphaned block').toBe(0)
      expect(await findOrphanedRows(pool, devnet.anvil.rpcUrl, head)).toEqual([])
      const received = await pool.query<{n: number}>(`SELECT count(*)::int AS n FROM transfer WHERE "to" = $1`, [receiver])
      expect(received.rows[0]!.n, 're-mined transfers indexed').toBe(depth)
      await expectInvariant(pool, head)

      const synced = await syncFromPostgres(conn, pool)
      expect(synced.height).toBe(head)
      expect(await findOrphanedMirrorRows(conn, doomedTxs)).toEqual([])
      const mirrorReport = await compareMirrorWithPostgres(conn, pool, protocolAddresses())
      expect(mirrorReport.mismatches).toEqual([])
      expect(mirrorReport.checked.balances ?? 0).toBeGreaterThanOrEqual(20)
      expect(processor.restarts(), 'a shallow reorg needs no restart').toBe(0)
    })
  }
})

describe('reorg deeper than finality', () => {
  const SHALLOW_FINALITY = 3
  const DEPTH = 8

  it(`depth ${DEPTH} > FINALITY_CONFIRMATIONS=${SHALLOW_FINALITY}: clear error, no restart loop; reset + re-index equals the chain`, async () => {
    const {db, pool} = await devnet.freshDatabase('faults_deep')
    const processor = supervise(db.url, SHALLOW_FINALITY)
    let exit: number | string
    let status: Awaited<ReturnType<typeof readIndexStatus>>
    const receiver = `0x${'d'.repeat(40)}` as Address
    try {
      await mineTokenActivity(devnet.anvil.rpcUrl, devnet.deployment, devnet.scenario.accounts, rng, {blocks: DEPTH + 2, perBlock: 4})
      const before = await devnet.head()
      await processor.waitForHeight(before)
      const finalizedBefore = (await readIndexStatus(pool)).finalizedHeight
      expect(finalizedBefore, 'the reorg must reach below the finalized height').toBeGreaterThan(before - DEPTH)

      await reorgWithOtherTransfers(devnet.anvil.rpcUrl, devnet.deployment, DEPTH, receiver, rng)
      exit = await Promise.race([processor.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 30_000))])
      status = await readIndexStatus(pool)
    } finally {
      await processor.stop()
    }
    const out = processor.output()
    // What an operator sees: the Subsquid crash (if it ran into the fork), the supervisor's lines, the fork message.
    console.log(out.split('\n').filter((l) => /supervisor|\[processor\]|AssertionError|FATAL/.test(l)).join('\n'))
    expect(exit, out.slice(-3000)).toBe(EXIT_FORK_BELOW_FINALITY)
    expect(out).toContain('REORG DEEPER THAN FINALITY')
    expect(out).toMatch(new RegExp(`block ${status.finalizedHeight}, which the index holds as final`))
    expect(out).toContain('npm run reset-index -- --yes')
    expect(out).toContain('Not restarting')
    expect(processor.restarts(), 'restarted at most once before the fork check stopped it').toBeLessThanOrEqual(1)
    // Nothing silently wrong: the new history was not written on top of the old one.
    const fromNewChain = await pool.query<{n: number}>(`SELECT count(*)::int AS n FROM transfer WHERE "to" = $1`, [receiver])
    expect(fromNewChain.rows[0]!.n).toBe(0)

    // Recovery as the message says: reset the index, start again, let it re-index.
    const {tables} = await resetIndex(db.url)
    expect(tables).toContain('audit_event')
    expect((await readIndexStatus(pool)).height).toBe(-1)
    const again = supervise(db.url, SHALLOW_FINALITY)
    const head = await devnet.head()
    try {
      await again.waitForHeight(head)
      await waitForHash(pool, head)
    } finally {
      await again.stop()
    }
    expect((await pool.query<{n: number}>(`SELECT count(*)::int AS n FROM transfer WHERE "to" = $1`, [receiver])).rows[0]!.n).toBe(DEPTH)
    await expectInvariant(pool, head)
  })
})

async function txHashesOfBlocks(from: number, to: number): Promise<string[]> {
  const rpc = new Rpc(devnet.anvil.rpcUrl)
  const blocks = await rpc.batch<{transactions: string[]}>(
    Array.from({length: to - from + 1}, (_, i) => ({method: 'eth_getBlockByNumber', params: ['0x' + (from + i).toString(16), false]})),
  )
  return blocks.flatMap((b) => b.transactions)
}

async function countAuditRows(pool: Pool, txHashes: string[]): Promise<number> {
  const res = await pool.query<{n: number}>(`SELECT count(*)::int AS n FROM audit_event WHERE tx_hash = ANY($1)`, [txHashes])
  return res.rows[0]!.n
}

/** Mirror audit rows of orphaned transactions, or whose block hash the chain no longer has. */
async function findOrphanedMirrorRows(conn: DuckDBConnection, doomedTxs: string[]): Promise<string[]> {
  const rows = (await conn.runAndReadAll(`SELECT DISTINCT block_number, block_hash, tx_hash FROM audit_event`)).getRowObjectsJson()
  const problems: string[] = []
  const doomed = new Set(doomedTxs)
  const hashes = new Map<number, string | undefined>()
  for (const r of rows) {
    const height = Number(r.block_number)
    if (!hashes.has(height)) hashes.set(height, await blockHashAt(devnet.anvil.rpcUrl, height))
    if (hashes.get(height) !== r.block_hash) problems.push(`mirror audit row of block ${height} has hash ${String(r.block_hash)}`)
    if (doomed.has(String(r.tx_hash))) problems.push(`mirror still holds orphaned tx ${String(r.tx_hash)}`)
  }
  return problems
}

function protocolAddresses() {
  const d = devnet.deployment
  const lower = (a: string) => a.toLowerCase()
  return {token: lower(d.token), governor: lower(d.governor), modelRegistry: lower(d.modelRegistry),
    contributionRegistry: lower(d.contributionRegistry), rewardDistributor: lower(d.rewardDistributor)}
}
