import type {Pool} from 'pg'
import type {Plugin} from 'graphql-yoga'
import type {Registry} from 'prom-client'
import {readIndexStatus} from '../../processor/status'

/**
 * GET /health and GET /metrics, served by the yoga app itself (so tests reach them through yoga.fetch too).
 * Yoga's own dependency-free liveness answer moves to /live.
 */
export interface HealthBody {
  status: 'ok' | 'unavailable'
  database: 'ok' | 'unreachable'
  height?: number
  finalizedHeight?: number
  hash?: string | null
  /** Block and timestamp of the last indexed event: the API cannot see the chain head, only what was indexed. */
  lastEventBlock?: number | null
  lastEventTimestamp?: string | null
  secondsSinceLastEvent?: number | null
  message?: string
}

export async function checkHealth(pool: Pool, now = () => Date.now()): Promise<{status: number; body: HealthBody}> {
  try {
    const status = await readIndexStatus(pool)
    const last = await pool.query<{b: number; ts: Date}>(`SELECT block_number AS b, "timestamp" AS ts FROM audit_event ORDER BY id DESC LIMIT 1`)
    const row = last.rows[0]
    return {
      status: 200,
      body: {
        status: 'ok',
        database: 'ok',
        height: status.height,
        finalizedHeight: status.finalizedHeight,
        hash: status.hash,
        lastEventBlock: row?.b ?? null,
        lastEventTimestamp: row ? row.ts.toISOString() : null,
        secondsSinceLastEvent: row ? Math.max(0, Math.round((now() - row.ts.getTime()) / 1000)) : null,
      },
    }
  } catch (e) {
    // The reason (host, role, SQL) stays in the server's view; a health probe only needs to know it is down. One
    // known misconfiguration gets named: a read-only role made before the processor created squid_processor.
    const denied = (e as {code?: string}).code === '42501'
    return {
      status: 503,
      body: {
        status: 'unavailable',
        database: denied ? 'ok' : 'unreachable',
        message: denied
          ? 'the API database role cannot read the index tables: run ensureReadOnlyRole again now that they exist'
          : 'the index database cannot be queried',
      },
    }
  }
}

export function routesPlugin(pool: Pool, registry: Registry): Plugin {
  return {
    async onRequest({request, url, endResponse, fetchAPI}) {
      if (request.method !== 'GET') return
      if (url.pathname === '/health') {
        const {status, body} = await checkHealth(pool)
        endResponse(new fetchAPI.Response(JSON.stringify(body), {status, headers: {'content-type': 'application/json'}}))
      } else if (url.pathname === '/metrics') {
        const text = await registry.metrics()
        endResponse(new fetchAPI.Response(text, {status: 200, headers: {'content-type': registry.contentType}}))
      }
    },
  }
}
