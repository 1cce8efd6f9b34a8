// Per-file test databases on the server chosen by global-setup.ts. Usage in a *.int.test.ts:
//
//   let db: TestDatabase
//   beforeAll(async () => { db = await withTestDatabase() })
//   afterAll(() => db?.drop())
import { inject } from 'vitest'
import { createRandomDatabase } from '../db/databases'
import { MIGRATIONS_DIR, applyMigrations } from '../db/migrate'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test server (any database on it, a role with CREATEDB). */
    pgAdminUrl: string
  }
}

export interface TestDatabase {
  name: string
  url: string
  /** Migrations applied on creation, oldest first. */
  migrations: string[]
  /** Idempotent; works while connections are still open. */
  drop(): Promise<void>
}

export interface TestDatabaseOptions {
  /** Database name prefix; default `test`. */
  prefix?: string
  /** Migrations folder to apply; default the project's migrations/, `false` for an empty database. */
  migrationsDir?: string | false
}

export function testAdminUrl(): string {
  const url = inject('pgAdminUrl')
  if (!url) {
    throw new Error('no test Postgres: only *.int.test.ts files get one (vitest project "int", see vitest.config.ts)')
  }
  return url
}

export async function withTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const db = await createRandomDatabase(testAdminUrl(), options.prefix ?? 'test')
  try {
    const dir = options.migrationsDir ?? MIGRATIONS_DIR
    const migrations = dir === false ? [] : await applyMigrations(db.url, { dir })
    return { ...db, migrations }
  } catch (e) {
    await db.drop()
    throw e
  }
}
