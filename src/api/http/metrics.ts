import type {Pool} from 'pg'
import {Counter, Gauge, Histogram, Registry} from 'prom-client'
import type {Plugin} from 'graphql-yoga'
import {readIndexStatus} from '../../processor/status'
import type {ResponseCacheStats} from '../response-cache'

/**
 * Prometheus metrics, in a registry of the API's own (not prom-client's global one), so two APIs in one process
 * (tests) never collide. Served at GET /metrics by routes.ts.
 */
export interface ApiMetrics {
  registry: Registry
  /** Request counts and durations per route, GraphQL errors per code. */
  plugin: Plugin
  /** Counts a request answered without yoga (http/fast-path.ts), as the plugin counts the others. */
  observe(route: string, method: string, status: number, seconds: number): void
}

/** Known routes only as label values: a label per arbitrary path would let clients grow the series without bound. */
const ROUTES = new Set(['/graphql', '/health', '/metrics', '/live'])
const routeOf = (url: string) => {
  const path = new URL(url, 'http://localhost').pathname
  return ROUTES.has(path) ? path : 'other'
}

export function createApiMetrics(pool: Pool): ApiMetrics {
  const registry = new Registry()
  const requests = new Counter({
    name: 'deai_api_http_requests_total',
    help: 'HTTP requests served, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  })
  const durations = new Histogram({
    name: 'deai_api_http_request_duration_seconds',
    help: 'HTTP request duration by route.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const errors = new Counter({
    name: 'deai_api_graphql_errors_total',
    help: 'GraphQL errors returned, by extensions.code (INTERNAL_SERVER_ERROR = masked unexpected errors).',
    labelNames: ['code'] as const,
    registers: [registry],
  })
  // Read at scrape time, so the gauge is as fresh as the index. A database that is down leaves it absent.
  for (const [name, help, pick] of [
    ['deai_index_height', 'Highest indexed block, unfinalized included.', 'height'],
    ['deai_index_finalized_height', 'Highest finalized indexed block.', 'finalizedHeight'],
  ] as const) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set((await readIndexStatus(pool))[pick])
        } catch {
          this.reset()
        }
      },
    })
  }

  const observe = (route: string, method: string, status: number, seconds?: number) => {
    requests.inc({route, method, status: String(status)})
    if (seconds !== undefined) durations.observe({route}, seconds)
  }
  const started = new WeakMap<Request, number>()
  const plugin: Plugin = {
    onRequest({request}) {
      started.set(request, performance.now())
    },
    onResponse({request, response}) {
      const t0 = started.get(request)
      observe(routeOf(request.url), request.method, response.status, t0 === undefined ? undefined : (performance.now() - t0) / 1000)
    },
    onExecutionResult({result}) {
      for (const r of Array.isArray(result) ? result : [result]) {
        for (const e of (r as {errors?: readonly {extensions?: {code?: unknown}}[]}).errors ?? []) {
          errors.inc({code: String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')})
        }
      }
    },
  }
  return {registry, plugin, observe}
}

/**
 * The response cache's counts, read from its stats at scrape time (the cache does not know about Prometheus):
 * operations by outcome (fast, hit, coalesced, miss, bypassed, version_unavailable), answers stored (operation answers,
 * and HTTP answers for the fast path), and the memory held.
 */
export function registerResponseCacheMetrics(registry: Registry, stats: () => ResponseCacheStats): void {
  new Counter({
    name: 'deai_api_response_cache_operations_total',
    help: 'GraphQL operations by response cache outcome: fast (the request answered from a stored HTTP answer, without yoga), hit (no resolvers ran), coalesced (waited for an identical request computed at the same time; no resolvers ran), miss, bypassed (not cacheable), version_unavailable.',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const s = stats()
      this.reset()
      this.inc({outcome: 'fast'}, s.fast)
      this.inc({outcome: 'hit'}, s.hits)
      this.inc({outcome: 'coalesced'}, s.coalesced)
      this.inc({outcome: 'miss'}, s.misses)
      this.inc({outcome: 'bypassed'}, s.bypassed)
      this.inc({outcome: 'version_unavailable'}, s.versionUnavailable)
    },
  })
  new Counter({
    name: 'deai_api_response_cache_stored_total',
    help: 'Answers stored in the response cache.',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(stats().stored)
    },
  })
  new Counter({
    name: 'deai_api_response_cache_fast_stored_total',
    help: 'HTTP answers stored for the fast path (the same request answered again without yoga).',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(stats().fastStored)
    },
  })
  new Gauge({
    name: 'deai_api_response_cache_bytes',
    help: 'Memory held by cached answers and HTTP answers (UTF-8 bodies, plus keys and headers at 2 bytes per character), of API_RESPONSE_CACHE_MB.',
    registers: [registry],
    collect() {
      this.set(stats().bytes)
    },
  })
}
