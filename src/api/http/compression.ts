import zlib from 'node:zlib'
import type {Plugin} from 'graphql-yoga'

/**
 * Response compression, negotiated by Accept-Encoding: gzip for answers of at least `minBytes` (API_COMPRESSION_MIN_BYTES).
 *
 * Why: a 1,000-row answer is ~300 KB of JSON, and at 50 connections on 2 cores moving those bytes through the socket
 * was the limit (a bare node:http server sending them had p99 184-326 ms). Every real client (browsers, fetch,
 * dashboards, curl --compressed, Prometheus) sends Accept-Encoding: gzip. Measured on the benchmark's answers
 * (npm run bench:api): a voting-power history of 1,000 changes 270,547 → 55,802 bytes (4.8×), an audit-trail page
 * 4.6×, top-100 holders 3.6× (hashes, addresses and amounts compress least).
 *
 * Level 6 (zlib's default). CPU per answer at level 6 / 1 / 9, same answers: the 270 KB history 4.1 / 2.1 / 10.0 ms
 * (58,767 bytes at level 1: +5 %; 54,280 at level 9: -3 %), a 20 KB ranking 0.30 / 0.22 / 0.33 ms. A cached answer
 * is compressed once (the response cache keeps its compressed body, response-cache.ts) and then sent many times, so
 * the bytes matter more than the one-time cost; on a miss, computing a 1,000-row answer costs ~20 ms of CPU, and
 * compressing it 1-4 ms more (measured: the uncached CPU per request was the same within noise). Brotli at gzip's
 * cost (quality 4, 3.9 ms for the history) was 5-7 % smaller on the same answers: not worth a second stored body per
 * answer; quality 11 takes 0.4-0.6 s per answer. Compression runs on libuv's thread pool (zlib's async API), not on
 * the event loop.
 *
 * What is compressed: a response to a GET or POST with status 200-599 except 204 and 304, a body of a compressible
 * type (JSON, GraphQL response JSON, text: /graphql, /health, /metrics, GraphiQL) and no Content-Encoding of its own.
 * Never: HEAD, event streams and multipart answers (subscriptions, incremental delivery: yoga marks its event streams
 * `Content-Encoding: none`, and neither type is listed). Every such response gets `Vary: Accept-Encoding`, compressed
 * or not (its answer to another client may be), so a shared cache never hands a gzipped body to a client that did not
 * ask for one.
 */
export type Encoding = 'gzip'
export type Negotiated = Encoding | 'identity'

/** Codings this server makes, most preferred first (used on a tie of q-values). */
export const ENCODINGS: readonly Encoding[] = ['gzip']

export const GZIP_LEVEL = 6

/** Bytes over an ArrayBuffer of their own, as a fetch Response body must be. */
export type Bytes = Uint8Array<ArrayBuffer>

/** `body` compressed with `encoding`, in a buffer of its own (not Node's shared pool: the cache keeps it). */
export async function compress(body: Uint8Array, encoding: Encoding): Promise<Bytes> {
  switch (encoding) {
    case 'gzip':
      // An output chunk as large as the input (up to 1 MB): one trip to the thread pool instead of one per 16 KB
      // chunk (a 320 KB answer: 1.8 ms instead of 4.1 ms).
      return own(await gzip(body, {level: GZIP_LEVEL, chunkSize: Math.max(zlib.constants.Z_DEFAULT_CHUNK, Math.min(body.length, 1 << 20))}))
  }
}

function gzip(body: Uint8Array, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.gzip(body, options, (error, result) => (error ? reject(error) : resolve(result)))
  })
}

/** zlib's output may be a slice of a larger chunk: copied, so a cached body does not keep the whole chunk alive. */
function own(buffer: Buffer): Bytes {
  if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength && buffer.buffer instanceof ArrayBuffer) return buffer as Bytes
  const copy = Buffer.allocUnsafeSlow(buffer.length)
  buffer.copy(copy)
  return copy
}

/**
 * The coding to send for an Accept-Encoding header (RFC 9110 §12.5.3), among `offered`:
 * - no header, or an empty one: identity;
 * - a coding is acceptable with its own q-value, else with `*`'s, else not at all; q=0 means "not acceptable";
 * - the acceptable offered coding with the highest q wins (ties: the order of `offered`), unless `identity` is listed
 *   with a strictly higher q (`identity;q=1, gzip;q=0.5` asks for identity first);
 * - nothing acceptable (`identity` only, `gzip;q=0`, `br`): identity. Even when identity itself is refused
 *   (`identity;q=0`), the answer is sent unencoded rather than refused with 406, as common servers do.
 * Tokens are case-insensitive; an entry with a malformed q-value is ignored.
 */
export function negotiateEncoding(header: string | null | undefined, offered: readonly Encoding[] = ENCODINGS): Negotiated {
  if (!header || offered.length === 0) return 'identity'
  const q = new Map<string, number>()
  for (const part of header.split(',')) {
    const [rawToken, ...params] = part.split(';')
    const token = rawToken!.trim().toLowerCase()
    if (token === '') continue
    let quality = 1
    let valid = true
    for (const param of params) {
      const m = /^\s*q\s*=(.*)$/i.exec(param)
      if (m === null) continue // another parameter: none are defined for codings
      const value = m[1]!.trim()
      quality = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : NaN
      valid = !Number.isNaN(quality)
    }
    // A coding listed twice: the first entry counts.
    if (valid && !q.has(token)) q.set(token, quality)
  }
  let best: Encoding | undefined
  let bestQ = 0
  for (const coding of offered) {
    const cq = q.get(coding) ?? q.get('*') ?? 0
    if (cq > bestQ) {
      best = coding
      bestQ = cq
    }
  }
  if (best === undefined) return 'identity'
  const identityQ = q.get('identity')
  return identityQ !== undefined && identityQ > bestQ ? 'identity' : best
}

const COMPRESSIBLE_TYPES = new Set(['application/json', 'application/graphql-response+json', 'text/plain', 'text/html'])

/** Whether `response` to `request` may be compressed (see the header): the test that also decides Vary. */
export function isCompressible(method: string, response: Response): boolean {
  if (method !== 'GET' && method !== 'POST') return false
  const {status} = response
  if (status < 200 || status === 204 || status === 304) return false
  if (response.headers.has('content-encoding')) return false
  const type = response.headers.get('content-type')
  if (type === null) return false
  return COMPRESSIBLE_TYPES.has(type.split(';', 1)[0]!.trim().toLowerCase())
}

/** Adds Accept-Encoding to Vary, keeping what is there (CORS sets `Vary: Origin`). */
export function varyOnAcceptEncoding(headers: Headers): void {
  const vary = headers.get('vary')
  if (vary === null || vary.trim() === '') {
    headers.set('vary', 'Accept-Encoding')
    return
  }
  const names = vary.split(',').map((v) => v.trim().toLowerCase())
  if (names.includes('*') || names.includes('accept-encoding')) return
  headers.set('vary', `${vary}, Accept-Encoding`)
}

/**
 * Where a response's compressed body may already be kept: the response cache, for a Response it made of a stored
 * answer (response-cache.ts), so each cached answer is compressed once, and so the fast path stores the compressed
 * Response that is sent.
 */
export interface CompressedBodies {
  /** The identity body of `response` and its compressed form (made at most once, kept with the answer); undefined if
   *  `response` is not such a Response. */
  cached(response: Response): {body: Bytes; compressed(encoding: Encoding): Promise<Bytes>} | undefined
  /** `compressed`, whose body is `body`, is sent instead of `response`. */
  replaced(response: Response, compressed: Response, body: Bytes): void
}

export interface CompressionOptions {
  /** Bodies of fewer bytes are sent as they are (a gzip header and trailer are 18 bytes; a packet is ~1,400). */
  minBytes: number
  bodies?: CompressedBodies
}

/**
 * The yoga plugin: compresses in onResponse. Yoga runs its own plugins' onResponse (CORS) before the user plugins',
 * so the headers copied include CORS; the fast path's plugin, which stores the response as sent, must come after it.
 */
export function compressionPlugin(opts: CompressionOptions): Plugin {
  return {
    // Synchronous unless there is something to compress (an async hook would cost every response a promise).
    onResponse({request, response, setResponse, fetchAPI}) {
      if (!isCompressible(request.method, response)) return
      varyOnAcceptEncoding(response.headers)
      const encoding = negotiateEncoding(request.headers.get('accept-encoding'))
      if (encoding === 'identity') return
      const declared = response.headers.get('content-length')
      if (declared !== null && Number(declared) < opts.minBytes) return
      return (async () => {
        const cached = opts.bodies?.cached(response)
        const body: Bytes = cached?.body ?? new Uint8Array(await response.arrayBuffer())
        const init = {status: response.status, statusText: response.statusText}
        if (body.length < opts.minBytes) {
          // Read to learn its length (none was declared): sent as it was.
          setResponse(new fetchAPI.Response(body, {...init, headers: response.headers}))
          return
        }
        const compressed = cached ? await cached.compressed(encoding) : await compress(body, encoding)
        const headers = new fetchAPI.Headers(response.headers)
        headers.set('content-encoding', encoding)
        headers.set('content-length', String(compressed.length))
        const sent = new fetchAPI.Response(compressed, {...init, headers})
        opts.bodies?.replaced(response, sent, compressed)
        setResponse(sent)
      })()
    },
  }
}
