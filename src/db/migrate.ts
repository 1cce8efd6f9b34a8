// Applying the project's migrations (JS files written by `squid-typeorm-migration generate`, kept in the
// top-level migrations/ folder) with a TypeORM DataSource of our own. squid-typeorm-migration's `apply`
// only reads db/migrations, and TypeormDatabase never migrates by itself, so this is how a database gets
// its schema: at `npm start`, and for every test database.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { DataSource } from 'typeorm'

/** `<project>/migrations`: this file sits at src/db/ or lib/db/, two levels below the project either way. */
export const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations')

/**
 * TypeORM's default, which squid-typeorm-migration also uses (@subsquid/typeorm-config 4.1.1 sets no
 * `migrationsTableName`): a database migrated by either tool is recognised by the other.
 */
export const MIGRATIONS_TABLE = 'migrations'

export interface ApplyMigrationsOptions {
  /** Folder of `*.js` migrations. Default: the project's migrations/. */
  dir?: string
}

/**
 * Runs the pending migrations, all in one transaction (as squid-typeorm-migration apply does), so a failing
 * migration leaves the database as it was. Idempotent. Returns the names applied, oldest first.
 */
export async function applyMigrations(url: string, options: ApplyMigrationsOptions = {}): Promise<string[]> {
  const dir = path.resolve(options.dir ?? MIGRATIONS_DIR)
  if (!existsSync(dir)) return []
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    // Loaded by glob and require(); forward slashes keep the glob valid on Windows paths too.
    migrations: [path.join(dir, '*.js').split(path.sep).join('/')],
    migrationsTableName: MIGRATIONS_TABLE,
    // No entities and so no naming strategy: generated migrations are raw SQL, and TypeORM's own
    // migrations table has fixed column names.
    entities: [],
    synchronize: false,
    migrationsRun: false,
    logging: false, // failures are thrown (with the SQL error) to the caller
    extra: { max: 2 },
  })
  await dataSource.initialize()
  try {
    const applied = await dataSource.runMigrations({ transaction: 'all' })
    return applied.map((m) => m.name)
  } finally {
    await dataSource.destroy().catch(() => undefined)
  }
}
