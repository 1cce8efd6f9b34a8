import {type DocumentNode, type ExecutionResult, getOperationAST, Kind, visit, BREAK} from 'graphql'
import {isAsyncIterable, type Plugin, processRegularResult, type YogaInitialContext} from 'graphql-yoga'
import {ByteLru} from './byte-lru'
import type {DataVersionCache} from './data-version'
import {compress, type CompressedBodies, type Encoding} from './http/compression'

/**
 * Caches the answers of query operations, so that the same query asked again over unchanged data (dashboards poll)
 * costs a lookup instead of SQL and ~20 ms of Node CPU per 1,000-row answer.
 *
 * Key: the operation's text, operationName and variables (canonical JSON), valid for one data generation
 * (data-version.ts): a new processor commit or analytics write is a new generation, and nothing cached before it is
 * served again. An answer may thus be up to the version's maximum age (1 s) behind the latest commit, the bound
 * `asOfBlock` already has.
 *
 * Where it sits: in `onExecute`, i.e. after yoga has parsed and validated the operation (graphql-armor's depth, cost,
 * alias, token and directive limits are validation rules and parser options; the batch limit and body limit come
 * before parsing), so a hit skips only the resolvers, and every refusal happens exactly as without the cache.
 * The runtime row budget is per operation: an answer that was cached was computed within it.
 *
 * Never cached: mutations and subscriptions; operations mentioning `indexStatus` (documented to read afresh);
 * answers with errors or extensions; answers over `maxEntryBytes`; anything while the data version cannot be read
 * (then the operation runs as without a cache, and fails as before if the database is down).
 *
 * Identical requests that arrive while the answer is being computed wait for it rather than computing it again.
 *
 * A hit also skips serialization: answers are stored as their UTF-8 JSON body, which becomes the response body as is
 * when yoga chose its regular JSON result processor and the request's Accept header is one whose media type is
 * known without yoga's negotiation (none, any type, `application/json`, `application/graphql-response+json`: what
 * dashboards and fetch send); otherwise the result's `stringify` hands yoga the text (graphql-yoga's
 * result-processor/stringify.ts uses it instead of JSON.stringify when present). Profiled on the hit path, encoding
 * the body string to UTF-8 for the socket was 15 % of the CPU for a 20 KB answer and 37 % for a 330 KB one.
 *
 * Compressed once: when http/compression.ts compresses a Response made of a stored answer, the compressed body is
 * kept with the answer (and counted in its entry's bytes), so later hits, in yoga or on the fast path, send it
 * without compressing again.
 */
export interface ResponseCacheOptions {
  /** Bound of the stored answers: their UTF-8 bodies, plus keys at 2 bytes per character (V8's string storage at most). */
  maxBytes: number
  /** Answers larger than this are not stored (one answer must not flush the cache); default maxBytes / 16. */
  maxEntryBytes?: number
  version: DataVersionCache
}

export interface ResponseCacheStats {
  /** Answered by http/fast-path.ts from a stored HTTP answer, without yoga. */
  fast: number
  /** Answered from the cache, without resolvers. */
  hits: number
  /** Answered with the text of an identical request computed at the same time, without resolvers. */
  coalesced: number
  /** Cacheable, executed (and stored if clean and small enough). */
  misses: number
  /** Not cacheable (mutation, subscription, indexStatus, no query text): executed as without a cache. */
  bypassed: number
  /** The data version could not be read: executed without the cache. */
  versionUnavailable: number
  /** Answers stored. */
  stored: number
  /** HTTP answers stored for the fast path. */
  fastStored: number
  entries: number
  bytes: number
  maxBytes: number
}

export interface ResponseCache {
  plugin: Plugin
  /** For http/compression.ts: the compressed bodies kept with the answers. */
  compressedBodies: CompressedBodies
  stats(): ResponseCacheStats
  /** The data generation answers are valid in: the version's read, at most 1 s old; rejects while it cannot be read. */
  generation(): Promise<number>
  /** For http/fast-path.ts: the HTTP answer stored under `key` in `generation`, if any (counted as `fast`). */
  httpAnswer(key: string, generation: number): HttpAnswer | undefined
  /**
   * For http/fast-path.ts: stores `response` as the HTTP answer to `key` if it is one this cache made for a single
   * query operation (see onResultProcess), possibly compressed by http/compression.ts, with status 200, in the newest
   * generation, and within the per-entry cap. It goes into the same LRU and byte budget as the answers, its body
   * (the bytes sent: compressed or not) counted again although the buffer is shared.
   */
  storeHttpAnswer(key: string, response: Response): boolean
}

/** What yoga sent besides the body, after every plugin (CORS headers included). */
export interface HttpHead {
  status: number
  statusText: string
  headers: Record<string, string>
}

export interface HttpAnswer {
  head: HttpHead
  body: Body
}

/** yoga's ExecutionResultWithSerializer (not exported by graphql-yoga): a result that brings its own JSON text. */
type SerializedResult = ExecutionResult & {stringify?: (result: ExecutionResult) => string}

/** An answer as UTF-8 JSON (over an ArrayBuffer of its own, as a fetch Response body must be), or compressed. */
type Body = Buffer<ArrayBuffer>

/** An operation's answer (key without HTTP_KEY), or an HTTP answer of the fast path (`head` and the body it sent). */
type Entry = {answer: Answer; head?: undefined} | {generation: number; body: Body; head: HttpHead}

/**
 * A clean answer to one query operation, and the generation it belongs to: one object per computation, shared by its
 * cache entry, the hits on it and the requests coalesced on it, so its compressed bodies are made once.
 */
interface Answer {
  generation: number
  body: Body
  /** Its compressed bodies, each made at most once (a promise while it is being made). */
  compressed: Map<Encoding, Promise<Body>>
  /** The key it is stored under, and the bytes its entry counts (compressed bodies included); none if not stored. */
  stored?: {key: string; bytes: number}
}

/** What a Response made by this cache sends: an answer's body, or the compressed form that replaced it. */
interface Sent {
  answer: Answer
  body: Body
}

/** Media type of yoga's regular result processor for the Accept headers whose choice needs no negotiation. */
const SIMPLE_ACCEPT = new Map([
  ['*/*', 'application/json'],
  ['application/json', 'application/json'],
  ['application/graphql-response+json', 'application/graphql-response+json'],
])

const ENTRY_OVERHEAD_BYTES = 64
/** Prefix of the fast path's keys in the shared LRU (an operation's key starts with its name, a GraphQL name, or \0). */
const HTTP_KEY = '\u0001'

export function createResponseCache(opts: ResponseCacheOptions): ResponseCache {
  const lru = new ByteLru<Entry>(opts.maxBytes)
  const maxEntryBytes = opts.maxEntryBytes ?? Math.floor(opts.maxBytes / 16)
  const counts = {fast: 0, hits: 0, coalesced: 0, misses: 0, bypassed: 0, versionUnavailable: 0, stored: 0, fastStored: 0}
  // Answers being computed, by key: identical requests arriving meanwhile wait for the first one's body instead of
  // computing it again (50 dashboards asking at once after a commit would otherwise all miss). At most one entry
  // per distinct request in progress; each is removed when its computation ends, however it ends.
  const inFlight = new Map<string, {generation: number; answer: Promise<Answer | undefined>}>()
  // The answer of each result served from or stored in the cache, for onResultProcess.
  const bodies = new WeakMap<object, Answer>()
  // The Responses made of such a result alone (not in a batch), and the compressed ones that replaced them, for
  // storeHttpAnswer and compression.
  const responses = new WeakMap<Response, Sent>()
  // Nothing stored before a new generation can be served again: free it now rather than when the LRU gets to it.
  opts.version.onChange(() => lru.clear())

  const plugin: Plugin = {
    onExecute({args, context, executeFn, setExecuteFn, setResultAndStopExecution}) {
      const query = (context as Partial<YogaInitialContext>).params?.query
      if (typeof query !== 'string' || !isCacheable(args.document, args.operationName)) {
        counts.bypassed++
        return
      }
      const key = cacheKey(query, args.operationName, args.variableValues)
      return opts.version.current().then(
        async (generation) => {
          const hit = lru.get(key)
          if (hit?.head === undefined && hit?.answer.generation === generation) {
            counts.hits++
            setResultAndStopExecution(cachedResult(hit.answer, bodies))
            return
          }
          const leader = inFlight.get(key)
          if (leader !== undefined && leader.generation === generation) {
            const answer = await leader.answer
            if (answer !== undefined) {
              counts.coalesced++
              setResultAndStopExecution(cachedResult(answer, bodies))
              return
            }
            // The first one's answer had errors: this one is computed on its own.
          }
          counts.misses++
          let settle!: (answer: Answer | undefined) => void
          const mine = {generation, answer: new Promise<Answer | undefined>((resolve) => (settle = resolve))}
          if (leader === undefined || leader.generation !== generation) inFlight.set(key, mine)
          setExecuteFn(async (executionArgs) => {
            let answer: Answer | undefined
            try {
              const result = await executeFn(executionArgs)
              if (isAsyncIterable(result) || !isClean(result)) return result
              const text = JSON.stringify(result)
              answer = {generation, body: encode(text), compressed: new Map()}
              store(key, answer)
              const sent = withText(result, text)
              bodies.set(sent, answer)
              return sent
            } finally {
              settle(answer)
              if (inFlight.get(key) === mine) inFlight.delete(key)
            }
          })
        },
        () => {
          counts.versionUnavailable++
        },
      )
    },
    onResultProcess({request, result, resultProcessor, setResultProcessor}) {
      if (resultProcessor !== processRegularResult || Array.isArray(result) || isAsyncIterable(result)) return
      const answer = bodies.get(result)
      const mediaType = SIMPLE_ACCEPT.get(request.headers.get('accept') || '*/*')
      if (answer === undefined || mediaType === undefined) return
      // What processRegularResult answers for a result without errors or extensions, with the body already encoded.
      setResultProcessor((_result, fetchAPI) => {
        const response = new fetchAPI.Response(answer.body, {status: 200, headers: {'Content-Type': `${mediaType}; charset=utf-8`}})
        responses.set(response, {answer, body: answer.body})
        return response
      }, mediaType)
    },
  }

  function store(key: string, answer: Answer): void {
    const bytes = 2 * key.length + answer.body.length + ENTRY_OVERHEAD_BYTES
    // A newer generation may have started while this ran: its answer is then not stored under the old one.
    if (bytes > maxEntryBytes || answer.generation !== opts.version.latest) return
    if (!lru.set(key, {answer}, bytes)) return
    answer.stored = {key, bytes}
    counts.stored++
  }

  /** The compressed body of `answer`, made once; kept and counted in its entry's bytes while it is stored. */
  function compressed(answer: Answer, encoding: Encoding): Promise<Body> {
    let made = answer.compressed.get(encoding)
    if (made === undefined) {
      made = compress(answer.body, encoding).then((bytes) => {
        const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        keep(answer, encoding, body)
        return body
      })
      answer.compressed.set(encoding, made)
      // A failure is not kept: the next request tries again.
      made.catch(() => answer.compressed.delete(encoding))
    }
    return made
  }

  /**
   * Counts a compressed body in its answer's entry while that entry is the answer's. Otherwise (not stored, evicted,
   * or it would outgrow the per-entry cap) it is not kept: the requests already waiting for it get it, later ones
   * compress again.
   */
  function keep(answer: Answer, encoding: Encoding, body: Body): void {
    const {stored} = answer
    const entry = stored && lru.peek(stored.key)
    if (stored && entry?.head === undefined && entry?.answer === answer && stored.bytes + body.length <= maxEntryBytes) {
      stored.bytes += body.length
      // Within maxEntryBytes, so within the LRU's bound: it always fits (evicting others if need be).
      lru.set(stored.key, entry, stored.bytes)
      return
    }
    queueMicrotask(() => answer.compressed.delete(encoding))
  }

  const compressedBodies: CompressedBodies = {
    cached(response) {
      const sent = responses.get(response)
      if (sent === undefined || sent.body !== sent.answer.body) return undefined
      return {body: sent.body, compressed: (encoding) => compressed(sent.answer, encoding)}
    },
    replaced(response, compressedResponse, body) {
      const sent = responses.get(response)
      if (sent !== undefined) responses.set(compressedResponse, {answer: sent.answer, body: body as Body})
    },
  }

  function storeHttpAnswer(key: string, response: Response): boolean {
    const sent = responses.get(response)
    if (sent === undefined || response.status !== 200 || sent.answer.generation !== opts.version.latest) return false
    const headers: Record<string, string> = {}
    let headerChars = 0
    response.headers.forEach((value, name) => {
      headers[name] = value
      headerChars += name.length + value.length
    })
    const bytes = 2 * (HTTP_KEY.length + key.length + headerChars) + sent.body.length + ENTRY_OVERHEAD_BYTES
    if (bytes > maxEntryBytes) return false
    const head = {status: response.status, statusText: response.statusText, headers}
    if (!lru.set(HTTP_KEY + key, {generation: sent.answer.generation, body: sent.body, head}, bytes)) return false
    counts.fastStored++
    return true
  }

  return {
    plugin,
    compressedBodies,
    stats: () => ({...counts, entries: lru.size, bytes: lru.bytes, maxBytes: opts.maxBytes}),
    generation: () => opts.version.current(),
    httpAnswer(key, generation) {
      const entry = lru.get(HTTP_KEY + key)
      if (entry?.head === undefined || entry.generation !== generation) return undefined
      counts.fast++
      return entry
    },
    storeHttpAnswer,
  }
}

/** A query operation (the one `operationName` selects) that does not ask for `indexStatus` anywhere. */
function isCacheable(document: DocumentNode, operationName: string | null | undefined): boolean {
  if (getOperationAST(document, operationName)?.operation !== 'query') return false
  return !mentionsIndexStatus(document)
}

// yoga's parser cache hands out the same DocumentNode for the same text, so each document is walked once.
const indexStatusMentions = new WeakMap<DocumentNode, boolean>()

/** Any field named indexStatus, in any operation or fragment: a superset of what the operation selects, which is safe. */
function mentionsIndexStatus(document: DocumentNode): boolean {
  let known = indexStatusMentions.get(document)
  if (known === undefined) {
    known = false
    visit(document, {
      [Kind.FIELD](node) {
        if (node.name.value !== 'indexStatus') return undefined
        known = true
        return BREAK
      },
    })
    indexStatusMentions.set(document, known)
  }
  return known
}

/** No errors, no extensions (which may carry per-request HTTP status or headers), and data. */
function isClean(result: ExecutionResult): boolean {
  return (result.errors === undefined || result.errors.length === 0) && result.extensions === undefined && result.data != null
}

export function cacheKey(query: string, operationName: string | null | undefined, variables: unknown): string {
  return `${operationName ?? ''}\u0000${canonicalJson(variables ?? {})}\u0000${query}`
}

/** JSON with object keys sorted, so {a, b} and {b, a} are the same variables. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`
}

/** The executed result, carrying the text just made of it so yoga does not serialize it a second time. */
function withText(result: ExecutionResult, text: string): SerializedResult {
  const sent: SerializedResult = {...result}
  // Only for this very object: if a later plugin replaced the result, the replacement is serialized as usual.
  sent.stringify = (r) => (r === sent ? text : JSON.stringify(r))
  return sent
}

/**
 * UTF-8 in a buffer of its own: Buffer.from would put a small answer in Node's shared 8 KB pool, whose slab the cache
 * would then keep alive without counting it.
 */
function encode(text: string): Body {
  const body = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'))
  body.write(text, 'utf8')
  return body as Body
}

/** A hit: the stored body as the response; `data` is parsed only if something reads it (nothing does here). */
function cachedResult(answer: Answer, bodies: WeakMap<object, Answer>): SerializedResult {
  const {body} = answer
  let data: ExecutionResult['data']
  const result: SerializedResult = {}
  Object.defineProperty(result, 'data', {enumerable: true, get: () => (data ??= (JSON.parse(body.toString('utf8')) as ExecutionResult).data)})
  result.stringify = (r) => (r === result ? body.toString('utf8') : JSON.stringify(r))
  bodies.set(result, answer)
  return result
}
