import { Client } from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { testAdminUrl } from '../test-support/pg'
import { type ScratchDatabase, createDatabase, createRandomDatabase, dropDatabase, isReachable } from './databases'
import { freeLoopbackPort } from './embedded'
import { withDatabase } from './url'

const created: ScratchDatabase[] = []
afterAll(() => Promise.all(created.map((db) => db.drop())))

async function exists(name: string): Promise<boolean> {
  const client = new Client({ connectionString: testAdminUrl() })
  await client.connect()
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1
  } finally {
    await client.end()
  }
}

describe('databases', () => {
  test('creates a randomly named database and drops it, twice harmlessly', async () => {
    const db = await createRandomDatabase(testAdminUrl(), 'dbtest')
    created.push(db)
    expect(db.name).toMatch(/^dbtest_[a-z0-9]+_[0-9a-f]{10}$/)
    expect(await isReachable(db.url, 5_000)).toBe(true)
    await db.drop()
    await db.drop()
    expect(await exists(db.name)).toBe(false)
  })

  test('drops a database while a client is still connected to it', async () => {
    const db = await createRandomDatabase(testAdminUrl(), 'dbtest')
    created.push(db)
    const client = new Client({ connectionString: db.url })
    const errors: Error[] = []
    client.on('error', (e) => errors.push(e)) // the server terminates it
    await client.connect()
    try {
      await dropDatabase(testAdminUrl(), db.name)
      expect(await exists(db.name)).toBe(false)
      await expect(client.query('SELECT 1')).rejects.toThrow()
    } finally {
      await client.end().catch(() => undefined)
    }
  })

  test('quotes names that need it', async () => {
    const name = `Odd "name"; DROP TABLE x, $y=@z ${Date.now()}`
    await createDatabase(testAdminUrl(), name)
    created.push({ name, url: withDatabase(testAdminUrl(), name), drop: () => dropDatabase(testAdminUrl(), name) })
    expect(await exists(name)).toBe(true)
    expect(await isReachable(withDatabase(testAdminUrl(), name), 5_000)).toBe(true)
    await dropDatabase(testAdminUrl(), name)
    expect(await exists(name)).toBe(false)
  })

  test('rejects prefixes that would need quoting', async () => {
    await expect(createRandomDatabase(testAdminUrl(), 'Bad-Prefix')).rejects.toThrow(/prefix/)
  })

  test('isReachable is false when nothing listens', async () => {
    const port = await freeLoopbackPort()
    expect(await isReachable(`postgres://postgres@127.0.0.1:${port}/postgres`, 1_000)).toBe(false)
  })
})
