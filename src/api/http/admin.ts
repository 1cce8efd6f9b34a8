import {createHash, timingSafeEqual} from 'node:crypto'
import type {Plugin} from 'graphql-yoga'

/**
 * Admin actions over HTTP, behind a bearer token from the environment (API_ADMIN_TOKEN). The GraphQL API itself
 * only reads (through a SELECT-only role); the one thing an operator may ask of the running service is to re-run
 * the analytics now (sync, suite at the head, backfill of missing points) instead of waiting for the next round.
 *
 *   POST /admin/analytics/refresh   Authorization: Bearer <API_ADMIN_TOKEN>
 *
 * Answers (JSON): 200 with what the run computed; 401 without a token or with a wrong one; 403 when no token is
 * configured (admin actions are off, whatever the request carries); 501 when this process runs no analytics
 * (the standalone `npm run api`); 405 for another method. Refusals run nothing.
 */
export interface AdminActions {
  /** Runs one analytics refresh now (waits for a running one to finish first) and reports it. */
  refreshAnalytics?: () => Promise<{metricValues: number; blocks: number[]; ms: number}>
}

export interface AdminOptions {
  token?: string
  actions?: AdminActions
  /** Every admin request is logged with its outcome (never the token). */
  log?: (message: string) => void
}

const PREFIX = '/admin/'

export function adminPlugin(opts: AdminOptions): Plugin {
  const log = opts.log ?? ((m: string) => console.error(m))
  // Compared as SHA-256 digests: equal lengths for timingSafeEqual, and no early exit on the first wrong byte.
  const expected = opts.token === undefined ? undefined : digest(opts.token)
  return {
    async onRequest({request, url, endResponse, fetchAPI}) {
      if (!url.pathname.startsWith(PREFIX)) return
      const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
        log(`admin ${request.method} ${url.pathname}: ${status}`)
        endResponse(new fetchAPI.Response(JSON.stringify(body), {status, headers: {'content-type': 'application/json', ...headers}}))
      }
      if (url.pathname !== '/admin/analytics/refresh') return answer(404, {error: `no admin action at ${url.pathname}`})
      if (request.method !== 'POST') return answer(405, {error: 'use POST'}, {allow: 'POST'})
      if (expected === undefined) {
        return answer(403, {error: 'admin actions are disabled on this server: set API_ADMIN_TOKEN to enable them'})
      }
      const given = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1]
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        return answer(401, {error: 'admin action refused: missing or wrong bearer token'}, {'www-authenticate': 'Bearer'})
      }
      const refresh = opts.actions?.refreshAnalytics
      if (refresh === undefined) {
        return answer(501, {error: 'this process runs no analytics (start the service with npm start, or run npm run analytics)'})
      }
      try {
        return answer(200, {ok: true, ...(await refresh())})
      } catch (e) {
        log(`admin analytics refresh failed: ${(e as Error).stack ?? String(e)}`)
        return answer(500, {error: 'the analytics refresh failed; the server log has the cause'})
      }
    },
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}
