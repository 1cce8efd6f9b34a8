// Postgres connection URLs: one place that parses and composes them, so no module glues strings together.

export interface PgUrlParts {
  host: string
  port: number
  user: string
  /** Empty when the server trusts the client (no password in the URL). */
  password: string
  database: string
}

const PROTOCOLS = new Set(['postgres:', 'postgresql:'])

export function parsePgUrl(url: string): PgUrlParts {
  const u = new URL(url)
  if (!PROTOCOLS.has(u.protocol)) {
    throw new Error(`not a postgres URL (protocol ${u.protocol}); expected postgres:// or postgresql://`)
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''))
  return {
    host: u.hostname || 'localhost',
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || 'postgres',
    password: decodeURIComponent(u.password),
    database: database || 'postgres',
  }
}

export function formatPgUrl(parts: PgUrlParts): string {
  const auth =
    encodeURIComponent(parts.user) + (parts.password ? ':' + encodeURIComponent(parts.password) : '')
  // IPv6 literals need brackets in a URL authority.
  const host = parts.host.includes(':') && !parts.host.startsWith('[') ? `[${parts.host}]` : parts.host
  return `postgres://${auth}@${host}:${parts.port}/${encodeDatabase(parts.database)}`
}

/**
 * node-postgres decodes the database with decodeURI, which leaves escapes of reserved characters (%3B for
 * ";", ...) undecoded; so those stay literal (legal in a path), and names with "/", "?" or "#" cannot be
 * expressed at all.
 */
function encodeDatabase(name: string): string {
  if (/[/?#]/.test(name)) throw new Error(`database name ${JSON.stringify(name)} cannot go into a URL`)
  return encodeURIComponent(name).replace(/%(3B|2C|3A|40|26|3D|2B|24)/g, (e) => decodeURIComponent(e))
}

/** The same server and credentials, another database. Query parameters (sslmode, ...) are kept. */
export function withDatabase(url: string, database: string): string {
  parsePgUrl(url) // validates the protocol
  const u = new URL(url)
  u.pathname = '/' + encodeDatabase(database)
  return u.toString()
}

/** The URL with its password masked, for logs. */
export function redactPgUrl(url: string): string {
  const u = new URL(url)
  if (u.password) u.password = '***'
  return u.toString()
}

/**
 * Environment for Subsquid tools (@subsquid/typeorm-config 4.1.1: typeorm-store, squid-typeorm-migration).
 *
 * Only DB_URL: typeorm-config gives it precedence over DB_HOST/DB_PORT/DB_NAME, so a stray DB_HOST in the
 * caller's shell cannot point the tool at another server. The reverse (setting DB_* while the shell has
 * DB_URL) would silently lose. Note typeorm-config still fills a missing user/password from DB_USER/DB_PASS,
 * so callers building a child environment should drop inherited DB_* variables (see `subsquidChildEnv`).
 */
export function toSubsquidEnv(url: string): { DB_URL: string } {
  parsePgUrl(url)
  return { DB_URL: url }
}

const SUBSQUID_DB_VARS = ['DB_URL', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASS'] as const

/** `base` without any inherited DB_* connection variables, plus `toSubsquidEnv(url)`. */
export function subsquidChildEnv(base: NodeJS.ProcessEnv, url: string): NodeJS.ProcessEnv {
  const env = { ...base }
  for (const name of SUBSQUID_DB_VARS) delete env[name]
  return { ...env, ...toSubsquidEnv(url) }
}
