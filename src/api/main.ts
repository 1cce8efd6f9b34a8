import {loadConfig} from '../config'
import {redactPgUrl} from '../db/url'
import {startApiServer} from './server'

/**
 * Standalone entry: `node lib/api/main.js`. Reads the index through API_DATABASE_URL (the read-only role made by
 * readonly-role.ts), else DATABASE_URL, whose sessions the API still opens read-only (db.ts).
 */
async function main(): Promise<void> {
  const config = loadConfig()
  const databaseUrl = config.API_DATABASE_URL ?? config.DATABASE_URL
  if (!databaseUrl) {
    throw new Error('the API needs the index database: set API_DATABASE_URL (read-only role) or DATABASE_URL')
  }
  if (!config.API_DATABASE_URL) {
    console.warn('API_DATABASE_URL is not set: using DATABASE_URL in read-only sessions; prefer a read-only role (src/api/readonly-role.ts)')
  }
  // No analytics run in this process: admin actions answer 501 (or 403/401 first when the token is off or wrong).
  const server = await startApiServer({config, databaseUrl, admin: {token: config.API_ADMIN_TOKEN}})
  console.log(`DeAI Lens API on ${server.url}/graphql (database ${redactPgUrl(databaseUrl)})`)
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
