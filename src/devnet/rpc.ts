/**
 * Minimal JSON-RPC client over fetch with batch support.
 *
 * viem is used for encoding/decoding, but its per-call client is too slow for bulk load generation:
 * one HTTP request carrying hundreds of eth_sendTransaction is what makes 200k events take seconds.
 */
export interface RpcRequest {
  method: string
  params: unknown[]
}

interface RpcResponse {
  id: number
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
}

export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${message}`)
  }
}

/** Requests per HTTP batch: large enough for bulk load generation, small enough for anvil to accept. */
const MAX_BATCH = 2_000

export class Rpc {
  private nextId = 1
  constructor(readonly url: string) {}

  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const [result] = await this.batch<T>([{ method, params }])
    return result as T
  }

  /**
   * Sends the requests in as few HTTP round trips as the node accepts (anvil refuses very large batches with a
   * single non-array "Invalid request" reply); results come back in request order. Throws on any error.
   */
  async batch<T = unknown>(requests: RpcRequest[]): Promise<T[]> {
    const results: T[] = []
    for (let i = 0; i < requests.length; i += MAX_BATCH) results.push(...(await this.sendBatch<T>(requests.slice(i, i + MAX_BATCH))))
    return results
  }

  private async sendBatch<T>(requests: RpcRequest[]): Promise<T[]> {
    if (requests.length === 0) return []
    const first = this.nextId
    this.nextId += requests.length
    const body = requests.map((r, i) => ({ jsonrpc: '2.0', id: first + i, method: r.method, params: r.params }))
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`RPC HTTP ${res.status}: ${await res.text()}`)
    const replies = (await res.json()) as RpcResponse[] | RpcResponse
    if (!Array.isArray(replies)) {
      throw new RpcError(requests[0]!.method, replies.error?.code ?? 0, `batch of ${requests.length} refused: ${replies.error?.message ?? 'no reply array'}`)
    }
    const byId = new Map(replies.map((r) => [r.id, r]))
    return requests.map((req, i) => {
      const reply = byId.get(first + i)
      if (!reply) throw new Error(`RPC batch lacks a reply for ${req.method}`)
      if (reply.error) throw new RpcError(req.method, reply.error.code, reply.error.message, reply.error.data)
      return reply.result as T
    })
  }
}
