import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Client } from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type TestDatabase, withTestDatabase } from '../test-support/pg'
import { MIGRATIONS_TABLE, applyMigrations } from './migrate'

// The shape squid-typeorm-migration generate writes (see @subsquid/typeorm-migration/lib/generate.js).
const migration = (name: string, ts: number, up: string, down: string) => `module.exports = class ${name}${ts} {
    name = '${name}${ts}'

    async up(db) {
        await db.query(\`${up}\`)
    }

    async down(db) {
        await db.query(\`${down}\`)
    }
}
`

let dir: string
const databases: TestDatabase[] = []
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(tmpdir(), 'migrations-test-'))
})
afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()))
  await fs.rm(dir, { recursive: true, force: true })
})

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await withTestDatabase({ prefix: 'migrate', migrationsDir: false })
  databases.push(db)
  return db
}

async function tables(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    )
    return rows.map((r) => r.t)
  } finally {
    await client.end()
  }
}

describe('applyMigrations', () => {
  test('applies pending migrations once', async () => {
    const migrations = path.join(dir, 'ok')
    await fs.mkdir(migrations)
    await fs.writeFile(
      path.join(migrations, '1700000000000-Data.js'),
      migration('Data', 1700000000000, 'CREATE TABLE "widget" ("id" character varying NOT NULL, PRIMARY KEY ("id"))', 'DROP TABLE "widget"'),
    )
    const db = await emptyDatabase()
    expect(await applyMigrations(db.url, { dir: migrations })).toEqual(['Data1700000000000'])
    expect(await applyMigrations(db.url, { dir: migrations })).toEqual([])
    expect(await tables(db.url)).toEqual([MIGRATIONS_TABLE, 'widget'])
  })

  test('a failing migration leaves no trace of the batch', async () => {
    const migrations = path.join(dir, 'failing')
    await fs.mkdir(migrations)
    await fs.writeFile(path.join(migrations, '1700000000001-A.js'), migration('A', 1700000000001, 'CREATE TABLE "a" (x int)', 'DROP TABLE "a"'))
    await fs.writeFile(path.join(migrations, '1700000000002-B.js'), migration('B', 1700000000002, 'CREATE TABLE "a" (x int)', 'DROP TABLE "a"'))
    const db = await emptyDatabase()
    await expect(applyMigrations(db.url, { dir: migrations })).rejects.toThrow(/already exists/)
    expect(await tables(db.url)).not.toContain('a')
  })

  test('a missing folder means nothing to apply', async () => {
    const db = await emptyDatabase()
    expect(await applyMigrations(db.url, { dir: path.join(dir, 'absent') })).toEqual([])
  })
})
