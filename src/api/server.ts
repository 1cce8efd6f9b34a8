import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Pool} from 'pg'
import {createApiPool} from './db'
import type {AdminOptions} from './http/admin'
import {refuseEncodedBody, refuseOversizedBody} from './http/body-limit'
import {QUERY_LIMITS} from './limits'
import {type ApiConfig, createNodeApi} from './yoga'

export interface ApiServerOptions {
  config: ApiConfig & {API_HOST: string; API_PORT: number}
  /** Use this pool (kept open on close); otherwise one is made from `databaseUrl` and ended on close. */
  pool?: Pool
  databaseUrl?: string
  logError?: (message: string, error: unknown) => void
  admin?: AdminOptions
  /** Clock of the index-status and data-version caches (tests move it by hand); default Date.now. */
  now?: () => number
}

export interface ApiServer {
  /** Base URL, e.g. http://127.0.0.1:4350 (GraphQL at /graphql). */
  url: string
  close(): Promise<void>
}

/** Listens on node:http (API_PORT 0 = a free port). */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const ownPool = opts.pool === undefined
  if (ownPool && !opts.databaseUrl) throw new Error('startApiServer needs a pool or a databaseUrl')
  const pool = opts.pool ?? createApiPool(opts.databaseUrl!, {statementTimeoutMs: opts.config.API_STATEMENT_TIMEOUT_MS})
  const {listener} = createNodeApi({pool, config: opts.config, logError: opts.logError, admin: opts.admin, now: opts.now})
  const server = createServer((req, res) => {
    if (!refuseOversizedBody(req, res, QUERY_LIMITS.maxBodyBytes) && !refuseEncodedBody(req, res)) listener(req, res)
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.config.API_PORT, opts.config.API_HOST, () => resolve())
    })
  } catch (e) {
    if (ownPool) await pool.end()
    throw e
  }
  const {address, port} = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}`,
    close: () =>
      (closing ??= (async () => {
        // Keep-alive connections would hold close() open until they time out.
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        if (ownPool) await pool.end()
      })()),
  }
}
