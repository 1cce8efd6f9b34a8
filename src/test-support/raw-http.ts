import {type IncomingHttpHeaders, request as httpRequest} from 'node:http'

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  /** The body as received, not decoded (fetch would add Accept-Encoding and gunzip it). */
  body: Buffer
}

/** One request over node:http with exactly `headers` (plus Content-Length for a body). */
export function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {method, headers: body === undefined ? headers : {...headers, 'content-length': String(Buffer.byteLength(body))}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks)}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}
