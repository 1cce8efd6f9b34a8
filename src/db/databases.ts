// Creating and dropping whole databases on a server, given an "admin" URL (any database on that server, as a
// role allowed to CREATE DATABASE). Tests get a fresh randomly named database each; tools get scratch ones.
import { randomBytes } from 'node:crypto'
import { Client } from 'pg'
import { withDatabase } from './url'

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url })
  // An idle client whose server goes away emits 'error'; without a listener that crashes the process.
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Postgres identifiers: unquoted names are lower-cased and limited to 63 bytes. */
const MAX_IDENTIFIER_BYTES = 63

function quoteIdentifier(name: string): string {
  if (name.length === 0 || Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw new Error(`invalid database name ${JSON.stringify(name)}: 1 to ${MAX_IDENTIFIER_BYTES} bytes`)
  }
  if (name.includes('\0')) throw new Error('database name contains a NUL character')
  return '"' + name.replace(/"/g, '""') + '"'
}

export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const ident = quoteIdentifier(name)
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${ident}`))
}

/**
 * Drops the database even while clients are connected to it (they are terminated). Missing is fine.
 * `WITH (FORCE)` exists since PostgreSQL 13; older servers get the terminate-then-drop dance.
 */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const ident = quoteIdentifier(name)
  await withClient(adminUrl, async (c) => {
    const { rows } = await c.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)
    if (Number(rows[0]?.v) >= 130000) {
      await c.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`)
      return
    }
    await c.query(`ALTER DATABASE ${ident} ALLOW_CONNECTIONS false`).catch(() => undefined)
    await c.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    )
    await c.query(`DROP DATABASE IF EXISTS ${ident}`)
  })
}

export interface ScratchDatabase {
  name: string
  url: string
  /** Idempotent. */
  drop(): Promise<void>
}

/**
 * A new database named `<prefix>_<time>_<random>` (lower case, so it needs no quoting in psql either).
 * The time part lets someone listing leftovers from crashed runs see how old they are.
 */
export async function createRandomDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(prefix)) {
    throw new Error(`database prefix ${JSON.stringify(prefix)} must match [a-z_][a-z0-9_]{0,39}`)
  }
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`
  await createDatabase(adminUrl, name)
  let dropping: Promise<void> | undefined
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => (dropping ??= dropDatabase(adminUrl, name)),
  }
}

/** True when a client can connect and run a query within `timeoutMs` (wrong password counts as false). */
export async function isReachable(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}
