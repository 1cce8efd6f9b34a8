import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Plugin} from 'graphql-yoga'
import type {ResponseCache} from '../response-cache'

/**
 * A raw node:http path in front of yoga for POST /graphql requests already answered in the current data generation:
 * the same request bytes (and the headers that shape yoga's answer) get the same status, headers and body again,
 * written with res.writeHead / res.end, without yoga.
 *
 * Why: a response-cache hit (response-cache.ts) skips the resolvers and serialization, but not yoga's request pipeline
 * (fetch Request and Response shims, parsing, validation with graphql-armor's rules, plugin hooks). Measured by
 * `npm run bench:api` at 50 connections on 2 cores, cache hits alone had p99 66-157 ms, while a bare node:http server
 * sending the same bytes had p99 13-16 ms for the 2-20 KB answers: the gap was yoga's per-request work.
 *
 * What stays safe: an answer is stored here only after yoga produced it for this very request, i.e. after the body
 * limit, parsing, validation (depth, cost, aliases, tokens, directives), the batch limit and execution (or the response
 * cache's hit) all passed, and only when the response cache made that Response from a clean answer of one query
 * operation (no errors, no extensions, no indexStatus), with status 200, in the newest generation. A request that was
 * refused, failed, batched, or not a query thus never has an entry, and is refused by yoga every time. The entry is
 * served only in the generation it was stored in (the same version read as the response cache, at most 1 s old, so
 * the same staleness bound), never while the version cannot be read, and lives in the response cache's LRU, within
 * API_RESPONSE_CACHE_MB (a new generation empties it).
 *
 * The key is the request's exact bytes and everything yoga's answer depends on: the URL, the body, Content-Type and
 * Content-Encoding (which parser reads the body), Accept (the media type of the answer), Origin and the CORS request
 * headers (the CORS headers of the answer), and the coding negotiated from Accept-Encoding (http/compression.ts: a
 * gzipped answer is stored and served as such, only to requests that negotiate gzip; requests whose Accept-Encoding
 * headers differ but negotiate the same coding share the entry). Any other header leaves the answer unchanged.
 */
export interface FastPath {
  /**
   * Stores the answers of requests the fast path handed to yoga. Must come after yoga's CORS plugin (yoga registers
   * it before the user plugins) and after any plugin that changes a response in onResponse.
   */
  plugin: Plugin
  /** For node:http: answers from a stored answer, or reads the body and hands the request to `next` (yoga). */
  handle(req: IncomingMessage, res: ServerResponse, next: (req: IncomingMessage, res: ServerResponse) => unknown): void
}

export interface FastPathOptions {
  cache: ResponseCache
  /** Called for each request answered here (yoga's metrics plugin does not see them). */
  observe?: (status: number, seconds: number) => void
  /** An unexpected failure of the fast path itself (the connection is then closed). */
  logError?: (message: string, error: unknown) => void
  /** The content coding yoga's answer will have for this Accept-Encoding (http/compression.ts); default: none. */
  negotiateEncoding?: (acceptEncoding: string | undefined) => string
}

/** The node request with the body already read: @whatwg-node/server (yoga's node adapter) uses `req.body` when set. */
type ReadRequest = IncomingMessage & {body?: Buffer}

export function createFastPath(opts: FastPathOptions): FastPath {
  const {cache} = opts
  const negotiate = opts.negotiateEncoding ?? (() => 'identity')
  // The key of each request handed to yoga, for the plugin's onResponse (yoga's server context holds `req`).
  const pending = new WeakMap<object, string>()

  const plugin: Plugin = {
    onResponse({serverContext, response}) {
      const req = (serverContext as {req?: object} | undefined)?.req
      const key = req === undefined ? undefined : pending.get(req)
      if (key === undefined) return
      pending.delete(req!)
      cache.storeHttpAnswer(key, response)
    },
  }

  async function serve(req: ReadRequest, res: ServerResponse, next: (req: IncomingMessage, res: ServerResponse) => unknown): Promise<void> {
    const t0 = performance.now()
    const body = await readBody(req)
    if (body === undefined) return // the client went away
    req.body = body
    const key = isBatch(body) ? undefined : requestKey(req, body, negotiate(req.headers['accept-encoding']))
    let generation: number | undefined
    if (key !== undefined) {
      // A version that cannot be read: yoga answers as without a cache (and fails as before if the database is down).
      generation = await cache.generation().catch(() => undefined)
    }
    if (key === undefined || generation === undefined) {
      next(req, res)
      return
    }
    const answer = cache.httpAnswer(key, generation)
    if (answer === undefined) {
      pending.set(req, key)
      next(req, res)
      return
    }
    if (res.destroyed) return // the client went away meanwhile
    res.writeHead(answer.head.status, answer.head.statusText, answer.head.headers)
    res.end(answer.body)
    opts.observe?.(answer.head.status, (performance.now() - t0) / 1000)
  }

  return {
    plugin,
    handle(req, res, next) {
      if (req.method !== 'POST' || !isGraphqlUrl(req.url) || !hasBody(req)) {
        next(req, res)
        return
      }
      serve(req, res, next).catch((error: unknown) => {
        ;(opts.logError ?? console.error)('API fast path failed; connection closed:', error)
        res.destroy()
      })
    },
  }
}

const isGraphqlUrl = (url: string | undefined) => url === '/graphql' || url?.startsWith('/graphql?') === true

/**
 * A body declared by Content-Length (server.ts has refused anything else: no length with a Transfer-Encoding, or
 * over the limit, before this runs). Without one, or with 0, there is nothing to read and yoga gets the request as is.
 */
const hasBody = (req: IncomingMessage) => req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0'

/**
 * The whole body, or undefined if the request ended early (aborted). Node's parser never hands over more bytes than
 * Content-Length declared, which server.ts has bounded.
 */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    // After 'end' these change nothing (a promise settles once).
    req.once('error', () => resolve(undefined))
    req.once('close', () => resolve(undefined))
  })
}

/** A JSON array: a batch of operations, never stored (only single operations are; see response-cache.ts). */
function isBatch(body: Buffer): boolean {
  for (const byte of body) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte === 0x5b // '['
  }
  return false
}

const KEY_HEADERS = ['content-type', 'content-encoding', 'accept', 'origin', 'access-control-request-method', 'access-control-request-headers']

/**
 * Each part length-prefixed (so no two requests share a key), then the body's bytes one character each. `encoding` is
 * the content coding negotiated from Accept-Encoding (the raw header is not a part: only what it selects is).
 */
export function requestKey(req: IncomingMessage, body: Buffer, encoding: string): string {
  let key = `${req.url!.length}:${req.url}${encoding.length}:${encoding}`
  for (const name of KEY_HEADERS) {
    const value = req.headers[name]
    key += value === undefined ? '-' : `${String(value).length}:${String(value)}`
  }
  return key + body.toString('latin1')
}
