import type {IncomingMessage, ServerResponse} from 'node:http'

/**
 * Request bodies are bounded before yoga reads them: without this, a client could make the server buffer any
 * number of megabytes before the token limit (limits.ts) ever looks at the document.
 *
 * A POST body must declare its length (fetch, browsers and GraphQL clients do); a chunked upload without
 * Content-Length gets 411, one declaring more than `maxBytes` gets 413, and the connection is closed so the unread body is
 * dropped rather than read. Node's HTTP parser never hands over more bytes than Content-Length says, so a client
 * cannot declare little and send more. Applied in server.ts, on node:http, where the raw headers are.
 *
 * Returns true when the request was refused (and answered).
 */
export function refuseOversizedBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): boolean {
  if (req.method !== 'POST') return false
  const declared = req.headers['content-length']
  let refusal: [number, string] | undefined
  // No Content-Length and no Transfer-Encoding: an empty body, nothing to bound.
  if (declared === undefined) {
    if (req.headers['transfer-encoding'] !== undefined) refusal = [411, 'a POST body needs a Content-Length header']
  }
  else if (!/^\d{1,15}$/.test(declared)) refusal = [400, 'the Content-Length header is not a byte count']
  else if (Number(declared) > maxBytes) refusal = [413, `the request body (${declared} bytes) is larger than the limit of ${maxBytes} bytes`]
  if (refusal === undefined) return false
  refuse(res, refusal)
  return true
}

/**
 * A request body in a content coding (Content-Encoding: gzip, br, ...) is refused with 415 and `Accept-Encoding:
 * identity` (RFC 9110 §15.5.16): the API reads request bodies as they are (GraphQL documents are small and the body
 * limit above is on the bytes received), so a compressed body would otherwise reach the JSON parser as bytes and be
 * answered as malformed JSON, echoing them. `identity` (or no header) passes. Returns true when refused (and answered).
 */
export function refuseEncodedBody(req: IncomingMessage, res: ServerResponse): boolean {
  const coding = req.headers['content-encoding']
  if (coding === undefined || coding.trim().toLowerCase() === 'identity' || coding.trim() === '') return false
  refuse(res, [415, `request bodies are read as sent: Content-Encoding ${JSON.stringify(coding.slice(0, 40))} is not supported, send the body uncompressed`], {
    'accept-encoding': 'identity',
  })
  return true
}

function refuse(res: ServerResponse, [status, message]: [number, string], headers: Record<string, string> = {}): void {
  res.writeHead(status, {'content-type': 'application/json', connection: 'close', ...headers})
  res.end(JSON.stringify({errors: [{message, extensions: {code: 'BAD_REQUEST'}}]}))
}
