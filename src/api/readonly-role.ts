import {Client} from 'pg'
import {withDatabase} from '../db/url'

/**
 * A LOGIN role that can read the index and nothing else, for API_DATABASE_URL. Idempotent: run it again after
 * new schemas appear (the processor creates squid_processor on its first run).
 *
 * Grants: CONNECT on the database; USAGE on schema public (and squid_processor, for the index status, when it
 * exists); SELECT on all their tables; and default privileges so tables created later by the role running this
 * (the one that applies migrations) are readable too. If migrations run as another role, run this as that role.
 * The role also defaults to read-only transactions. On PostgreSQL < 15, PUBLIC may CREATE in schema public: revoking
 * that affects every role of the database, so it is left to the operator (`REVOKE CREATE ON SCHEMA public FROM
 * PUBLIC`).
 */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export async function ensureReadOnlyRole(adminUrl: string, dbName: string, roleName: string, password?: string): Promise<string> {
  if (!ROLE_NAME.test(roleName)) throw new Error(`role name ${JSON.stringify(roleName)} must match ${ROLE_NAME}`)
  const client = new Client({connectionString: withDatabase(adminUrl, dbName)})
  client.on('error', () => undefined)
  await client.connect()
  try {
    // DDL takes no bind parameters: identifiers and the password literal go through pg's own escaping.
    const role = client.escapeIdentifier(roleName)
    const db = client.escapeIdentifier(dbName)
    const pass = password === undefined ? '' : ` PASSWORD ${client.escapeLiteral(password)}`
    const exists = (await client.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [roleName])).rowCount
    const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS${pass}`
    if (!exists) {
      await client.query(`CREATE ROLE ${role} ${attributes}`).catch((e: {code?: string}) => {
        if (e.code !== '42710') throw e // created meanwhile by a concurrent run
      })
    }
    await client.query(`ALTER ROLE ${role} ${attributes}`)
    await client.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`)
    await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${role}`)
    const schemas = await client.query<{s: string}>(
      `SELECT nspname AS s FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY 1`,
      [['public', 'squid_processor']],
    )
    for (const {s} of schemas.rows) {
      const schema = client.escapeIdentifier(s)
      await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
      await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`)
      await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${role}`)
    }
  } finally {
    await client.end().catch(() => undefined)
  }
  const url = new URL(withDatabase(adminUrl, dbName))
  url.username = encodeURIComponent(roleName)
  url.password = password === undefined ? '' : encodeURIComponent(password)
  return url.toString()
}
