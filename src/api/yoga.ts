import type {IncomingMessage, ServerResponse} from 'node:http'
import {EnvelopArmorPlugin} from '@escape.tech/graphql-armor'
import {type CORSOptions, createYoga, type YogaServerInstance} from 'graphql-yoga'
import type {Pool} from 'pg'
import type {Config} from '../config'
import {type ApiContext, type ApiSettings, createContext} from './context'
import {createApiMetrics, registerResponseCacheMetrics} from './http/metrics'
import {type AdminOptions, adminPlugin} from './http/admin'
import {compressionPlugin, negotiateEncoding} from './http/compression'
import {createFastPath} from './http/fast-path'
import {DataVersionCache} from './data-version'
import {INDEX_STATUS_MAX_AGE_MS, IndexStatusCache} from './index-status'
import {routesPlugin} from './http/routes'
import {QUERY_LIMITS} from './limits'
import {maskApiError} from './mask-error'
import {createResponseCache, type ResponseCache} from './response-cache'
import {buildSchema} from './schema'

export type ApiConfig = Pick<
  Config,
  | 'API_DEFAULT_PAGE'
  | 'API_MAX_PAGE'
  | 'API_STATEMENT_TIMEOUT_MS'
  | 'API_CORS_ORIGINS'
  | 'API_RESPONSE_CACHE_MB'
  | 'API_COMPRESSION_MIN_BYTES'
>

export function apiSettings(config: ApiConfig): ApiSettings {
  return {
    defaultPage: config.API_DEFAULT_PAGE,
    maxPage: config.API_MAX_PAGE,
    statementTimeoutMs: config.API_STATEMENT_TIMEOUT_MS,
    corsOrigins: config.API_CORS_ORIGINS,
  }
}

export interface CreateApiOptions {
  /** Shared by all requests; make it with createApiPool (read-only, statement timeout). */
  pool: Pool
  config: ApiConfig
  /** Where unexpected (masked) errors and yoga's warnings are reported with their cause; default console.error. */
  logError?: (message: string, error: unknown) => void
  /** Token-guarded admin actions (http/admin.ts); without a token they are all refused. */
  admin?: AdminOptions
  /** Clock of the index-status and data-version caches (their 1 s maximum age); tests move it by hand. */
  now?: () => number
}

export type Api = YogaServerInstance<Record<string, never>, ApiContext>

/** The yoga app and the node:http listener serving it. */
export interface NodeApi {
  yoga: Api
  /** yoga's own listener, behind the fast path (http/fast-path.ts) when the response cache is on. */
  listener: (req: IncomingMessage, res: ServerResponse) => void
}

/**
 * The yoga app: GraphQL (GraphiQL on GET /graphql), /health, /metrics, /live, POST /admin/…. Tests call `api.fetch(...)`;
 * server.ts puts it on node:http (createNodeApi).
 */
export function createApi(opts: CreateApiOptions): Api {
  return createNodeApi(opts).yoga
}

export function createNodeApi(opts: CreateApiOptions): NodeApi {
  const settings = apiSettings(opts.config)
  const logError = opts.logError ?? ((message, error) => console.error(message, error))
  const metrics = createApiMetrics(opts.pool)
  const now = opts.now ?? Date.now
  const status = new IndexStatusCache(opts.pool, INDEX_STATUS_MAX_AGE_MS, now)
  const responseCache = createApiResponseCache(opts.pool, opts.config.API_RESPONSE_CACHE_MB, now)
  if (responseCache) registerResponseCacheMetrics(metrics.registry, responseCache.stats)
  const compress = opts.config.API_COMPRESSION_MIN_BYTES > 0
  // Requests answered before yoga are counted in /metrics as yoga counts the others.
  const fastPath =
    responseCache &&
    createFastPath({
      cache: responseCache,
      logError,
      observe: (status, seconds) => metrics.observe('/graphql', 'POST', status, seconds),
      ...(compress ? {negotiateEncoding} : {}),
    })
  const yoga = createYoga<Record<string, never>, ApiContext>({
    schema: buildSchema(),
    context: () => createContext(opts.pool, settings, status),
    graphqlEndpoint: '/graphql',
    // Yoga's own health answer needs no database; ours (/health) does, so yoga's moves out of its way.
    healthCheckEndpoint: '/live',
    landingPage: false,
    // isDev false: never add the original error (SQL, stack) to a response, whatever NODE_ENV says. Yoga logs each
    // error it masks (with its cause) through `logging.error` below; expected ones (BAD_USER_INPUT, ...) pass as is;
    // database outages and invalid text get their own answers (mask-error.ts).
    maskedErrors: {isDev: false, maskError: maskApiError},
    batching: {limit: QUERY_LIMITS.maxBatch},
    cors: corsPolicy(settings.corsOrigins),
    logging: {
      debug: () => undefined,
      info: () => undefined,
      warn: (...args: unknown[]) => logError('API warning:', args.length === 1 ? args[0] : args),
      error: (...args: unknown[]) => logError('API error (masked for the client):', args.length === 1 ? args[0] : args),
    },
    plugins: [
      // First of ours, so the metrics plugin's onResponse (next) times the compression too. Its onResponse runs after
      // yoga's own (CORS), and before the fast path's, which stores the response as compressed here.
      ...(compress ? [compressionPlugin({minBytes: opts.config.API_COMPRESSION_MIN_BYTES, bodies: responseCache?.compressedBodies})] : []),
      metrics.plugin,
      routesPlugin(opts.pool, metrics.registry),
      adminPlugin(opts.admin ?? {}),
      EnvelopArmorPlugin({
        maxDepth: {n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: false},
        costLimit: {maxCost: QUERY_LIMITS.maxCost, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true},
        maxAliases: {n: QUERY_LIMITS.maxAliases, allowList: []},
        maxTokens: {n: QUERY_LIMITS.maxTokens},
        maxDirectives: {n: QUERY_LIMITS.maxDirectives},
        // Field suggestions ("Did you mean …?") would let anyone map a schema with introspection disabled; here the
        // schema is public (GraphiQL), so they stay: they help journalists writing their first queries.
        blockFieldSuggestion: {enabled: false},
      }),
      // Last: its onExecute runs after every other plugin's (and only once parsing and validation have passed), its
      // onResultProcess after yoga's choice of result processor.
      ...(responseCache ? [responseCache.plugin] : []),
      // After it, and after CORS (which yoga puts before these): stores the response as it is sent.
      ...(fastPath ? [fastPath.plugin] : []),
    ],
  })
  const listener = (req: IncomingMessage, res: ServerResponse) => void yoga(req, res)
  return {yoga, listener: fastPath ? (req, res) => fastPath.handle(req, res, listener) : listener}
}

/** The response cache (response-cache.ts) with `megabytes` of memory; none with 0. */
function createApiResponseCache(pool: Pool, megabytes: number, now: () => number): ResponseCache | undefined {
  if (!(megabytes > 0)) return undefined
  const version = new DataVersionCache(pool, INDEX_STATUS_MAX_AGE_MS, now)
  return createResponseCache({maxBytes: Math.floor(megabytes * 1024 * 1024), version})
}

/**
 * CORS: an allowed origin gets itself back in Access-Control-Allow-Origin; any other origin gets no CORS headers at
 * all, so browsers refuse the cross-origin read. No credentials: the API is public and reads only.
 */
function corsPolicy(origins: readonly string[]): false | ((request: Request) => CORSOptions) {
  if (origins.length === 0) return false
  const any = origins.includes('*')
  return (request) => {
    const origin = request.headers.get('origin')
    if (origin === null || !(any || origins.includes(origin))) return false
    return {origin: [origin], methods: ['GET', 'POST'], credentials: false, maxAge: 600}
  }
}
