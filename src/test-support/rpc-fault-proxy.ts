import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {Rng} from '../devnet/prng'

/**
 * A loopback HTTP proxy between an indexer and a JSON-RPC node that injects seeded faults, for the fault suite:
 *   drop      the connection is destroyed before any response (the request never reaches the node)
 *   delay     the request is forwarded after a pause (up to maxDelayMs)
 *   error     a JSON-RPC error reply (code -32603) for every call of the request, batch or not; the node is not asked
 *   truncate  the node's real reply, cut in half: a 200 response whose body is not valid JSON
 * Each request draws one outcome from the seeded PRNG, in arrival order; the rest pass through untouched.
 */
export type RpcFault = 'drop' | 'delay' | 'error' | 'truncate'

export interface RpcFaultRates {
  drop: number
  delay: number
  error: number
  truncate: number
}

export interface RpcFaultProxy {
  url: string
  /** How many requests got each outcome so far. */
  counts: Record<RpcFault | 'passed', number>
  /** Stops injecting faults (everything passes from now on), e.g. to let a test finish cleanly. */
  heal(): void
  close(): Promise<void>
}

const FAULT_ERROR = {code: -32603, message: 'injected fault: internal error'}

export async function startRpcFaultProxy(
  upstream: string,
  opts: {seed: number; rates: RpcFaultRates; maxDelayMs?: number},
): Promise<RpcFaultProxy> {
  const rng = new Rng(opts.seed).fork('rpc-faults')
  const counts: RpcFaultProxy['counts'] = {passed: 0, drop: 0, delay: 0, error: 0, truncate: 0}
  let healed = false
  const pick = (): RpcFault | 'passed' => {
    const roll = rng.next()
    if (healed) return 'passed'
    let edge = 0
    for (const fault of ['drop', 'delay', 'error', 'truncate'] as const) {
      edge += opts.rates[fault]
      if (roll < edge) return fault
    }
    return 'passed'
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy())
  })
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    const outcome = pick()
    counts[outcome]++
    if (outcome === 'drop') {
      req.socket.destroy()
      return
    }
    if (outcome === 'error') {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify(errorReply(body)))
      return
    }
    if (outcome === 'delay') await new Promise((r) => setTimeout(r, rng.int(10, opts.maxDelayMs ?? 300)))
    const reply = await fetch(upstream, {method: 'POST', headers: {'content-type': 'application/json'}, body})
    const text = await reply.text()
    if (outcome === 'truncate') {
      // No content-length: the response is well-formed HTTP whose JSON simply stops half-way.
      res.writeHead(reply.status, {'content-type': 'application/json'})
      res.end(text.slice(0, Math.floor(text.length / 2)))
      return
    }
    res.writeHead(reply.status, {'content-type': 'application/json'})
    res.end(text)
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    heal: () => void (healed = true),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

/** One error per call, with the caller's ids, so the reply is valid JSON-RPC that a client must handle. */
function errorReply(body: string): unknown {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return {jsonrpc: '2.0', id: null, error: FAULT_ERROR}
  }
  const one = (call: unknown) => ({jsonrpc: '2.0', id: (call as {id?: unknown})?.id ?? null, error: FAULT_ERROR})
  return Array.isArray(parsed) ? parsed.map(one) : one(parsed)
}
