import {gunzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {compress, compressionPlugin, isCompressible, negotiateEncoding, varyOnAcceptEncoding} from './compression'

describe('Accept-Encoding negotiation', () => {
  it.each([
    [undefined, 'identity'],
    [null, 'identity'],
    ['', 'identity'],
    ['gzip', 'gzip'],
    ['GZip', 'gzip'],
    ['gzip, deflate, br, zstd', 'gzip'],
    ['deflate, gzip;q=0.1', 'gzip'],
    ['*', 'gzip'],
    ['*;q=0.5', 'gzip'],
    ['br;q=1, *;q=0.2', 'gzip'],
    ['gzip;q=1.000', 'gzip'],
    ['gzip; q=0.8, identity; q=0.5', 'gzip'],
    // Refused, or not listed: identity.
    ['gzip;q=0', 'identity'],
    ['gzip;q=0.000', 'identity'],
    ['GZIP;Q=0', 'identity'],
    ['identity', 'identity'],
    ['br, deflate', 'identity'],
    ['*;q=0', 'identity'],
    ['gzip;q=0, *', 'identity'],
    ['*, gzip;q=0', 'identity'],
    // Identity preferred explicitly.
    ['identity;q=1, gzip;q=0.5', 'identity'],
    ['identity, gzip;q=0.9', 'identity'],
    // Equal q: the server's choice.
    ['identity, gzip', 'gzip'],
    // Nothing acceptable at all: sent unencoded anyway (no 406).
    ['identity;q=0', 'identity'],
    ['identity;q=0, gzip;q=0', 'identity'],
    // Malformed q-values make their entry void.
    ['gzip;q=2', 'identity'],
    ['gzip;q=abc', 'identity'],
    ['gzip;q=0.5.5', 'identity'],
    ['gzip;q=abc, *', 'gzip'],
    // The first of a repeated coding counts.
    ['gzip;q=0, gzip', 'identity'],
    [' , gzip ,', 'gzip'],
  ])('%j → %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected)
  })

  it('offers nothing when no coding is offered', () => {
    expect(negotiateEncoding('gzip', [])).toBe('identity')
  })
})

describe('what may be compressed', () => {
  const response = (status: number, headers: Record<string, string>) => new Response(status === 204 || status === 304 ? null : 'x', {status, headers})
  const json = {'content-type': 'application/json; charset=utf-8'}

  it('JSON, GraphQL response JSON and text answers to GET and POST', () => {
    for (const type of ['application/json', 'application/graphql-response+json; charset=utf-8', 'text/plain; version=0.0.4', 'text/html', 'Application/JSON']) {
      expect(isCompressible('POST', response(200, {'content-type': type})), type).toBe(true)
      expect(isCompressible('GET', response(200, {'content-type': type})), type).toBe(true)
    }
    expect(isCompressible('POST', response(400, json))).toBe(true)
    expect(isCompressible('GET', response(503, json))).toBe(true)
  })

  it('never HEAD, 204, 304, event streams, multipart, an encoded body or an untyped one', () => {
    expect(isCompressible('HEAD', response(200, json))).toBe(false)
    expect(isCompressible('OPTIONS', response(200, json))).toBe(false)
    expect(isCompressible('GET', response(204, json))).toBe(false)
    expect(isCompressible('GET', response(304, json))).toBe(false)
    expect(isCompressible('POST', response(200, {'content-type': 'text/event-stream'}))).toBe(false)
    expect(isCompressible('POST', response(200, {'content-type': 'multipart/mixed; boundary="-"'}))).toBe(false)
    // yoga's event streams say so themselves.
    expect(isCompressible('POST', response(200, {'content-type': 'application/json', 'content-encoding': 'none'}))).toBe(false)
    expect(isCompressible('POST', response(200, {...json, 'content-encoding': 'gzip'}))).toBe(false)
    expect(isCompressible('POST', new Response(new Uint8Array(2000)))).toBe(false)
    expect(isCompressible('POST', response(200, {'content-type': 'image/png'}))).toBe(false)
  })
})

describe('Vary', () => {
  it.each([
    [undefined, 'Accept-Encoding'],
    ['', 'Accept-Encoding'],
    ['Origin', 'Origin, Accept-Encoding'],
    ['Origin, Access-Control-Request-Headers', 'Origin, Access-Control-Request-Headers, Accept-Encoding'],
    ['origin, accept-encoding', 'origin, accept-encoding'],
    ['*', '*'],
  ])('%j → %j', (vary, expected) => {
    const headers = new Headers(vary === undefined ? {} : {vary})
    varyOnAcceptEncoding(headers)
    expect(headers.get('vary')).toBe(expected)
  })
})

describe('compress', () => {
  it('gzips deterministically into a buffer of its own', async () => {
    const body = Buffer.from(JSON.stringify({data: Array.from({length: 2000}, (_, i) => ({id: i, v: String(i * 7919)}))}))
    const a = await compress(body, 'gzip')
    const b = await compress(body, 'gzip')
    expect(gunzipSync(a).equals(body)).toBe(true)
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    expect(a.length).toBeLessThan(body.length / 3)
    expect(a.byteOffset).toBe(0)
    expect(a.buffer.byteLength).toBe(a.length)
  })
})

describe('the plugin, for a body of undeclared length (streamed)', () => {
  /** What the plugin sends for `body` streamed without Content-Length to a client sending `acceptEncoding`. */
  async function sent(body: Buffer, acceptEncoding: string): Promise<Response> {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body.subarray(0, 10))
        controller.enqueue(body.subarray(10))
        controller.close()
      },
    })
    const response = new Response(stream, {headers: {'content-type': 'application/json'}})
    expect(response.headers.get('content-length')).toBeNull()
    let out = response
    const onResponse = compressionPlugin({minBytes: 1024}).onResponse as (payload: unknown) => Promise<void>
    await onResponse({
      request: new Request('http://api.test/graphql', {method: 'POST', headers: {'accept-encoding': acceptEncoding}}),
      response,
      serverContext: {},
      fetchAPI: {Response, Headers},
      setResponse: (r: Response) => (out = r),
    })
    return out
  }
  const big = Buffer.from(JSON.stringify({data: Array.from({length: 300}, (_, i) => ({id: i}))}))
  const small = Buffer.from(JSON.stringify({data: {id: 1}}))

  it('reads it, and gzips it if it is large enough', async () => {
    const gz = await sent(big, 'gzip')
    expect(gz.headers.get('content-encoding')).toBe('gzip')
    const bytes = Buffer.from(await gz.arrayBuffer())
    expect(gz.headers.get('content-length')).toBe(String(bytes.length))
    expect(gunzipSync(bytes).equals(big)).toBe(true)
    expect(gz.headers.get('vary')).toBe('Accept-Encoding')
  })

  it('sends a small one as it was', async () => {
    const r = await sent(small, 'gzip')
    expect(r.headers.get('content-encoding')).toBeNull()
    expect(Buffer.from(await r.arrayBuffer()).equals(small)).toBe(true)
    expect(r.headers.get('vary')).toBe('Accept-Encoding')
  })
})
