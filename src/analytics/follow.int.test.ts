import {Client} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseContractsConfig} from '../processor/contracts-config'
import {type TestDatabase, withTestDatabase} from '../test-support/pg'
import {IN_MEMORY} from './duckdb'
import {type AnalyticsFollower, followAnalytics} from './follow'

/**
 * The analytics follower of `npm start` against a Postgres that drops its connections (a restart, an administrator's
 * pg_terminate_backend): its pool's idle clients get a FATAL. Without a listener on the pool that error is an
 * unhandled 'error' event, which ends the whole process; with it, the pool drops the client and the next refresh
 * connects again.
 */
describe('analytics follower', () => {
  let db: TestDatabase
  let follower: AnalyticsFollower | undefined
  const log: string[] = []

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'follow'})
  })
  afterAll(async () => {
    await follower?.stop()
    await db?.drop()
  })

  it('survives the database terminating its connections, and refreshes again', async () => {
    follower = await followAnalytics({
      databaseUrl: db.url,
      analyticsDb: IN_MEMORY,
      contracts: parseContractsConfig({chainId: 31337, contracts: [{kind: 'token', address: '0x' + '1'.repeat(40), startBlock: 0}]}),
      intervalMs: 3_600_000, // one round at start, then only the rounds asked for
      backfillEvery: 0,
      tablesEvery: 0,
      tablesRefreshBlocks: 0,
      fresh: false,
      log: (m) => log.push(m),
    })
    await follower.refreshNow()
    const admin = new Client({connectionString: db.url})
    await admin.connect()
    try {
      const others = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`
      expect((await admin.query<{n: number}>(others)).rows[0]!.n, 'the follower keeps an idle connection').toBeGreaterThan(0)
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
      for (let i = 0; i < 50 && (await admin.query<{n: number}>(others)).rows[0]!.n > 0; i++) await new Promise((r) => setTimeout(r, 100))
      // Let the FATAL reach the pool's client (an unhandled 'error' would fail this test file).
      await new Promise((r) => setTimeout(r, 300))
    } finally {
      await admin.end()
    }
    const again = await follower.refreshNow()
    expect(again.blocks).toEqual([])
    expect(log.filter((m) => m.includes('failed'))).toEqual([])
  })
})
