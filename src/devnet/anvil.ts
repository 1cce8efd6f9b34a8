/**
 * Starts the anvil binary shipped by the @foundry-rs/anvil npm package on a free loopback port.
 *
 * Every started process is tracked so that it dies with us: on SIGINT/SIGTERM/SIGHUP and on any exit
 * (Node emits 'exit' after an uncaught exception too). A leaked anvil would keep a port and memory per test run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export interface AnvilOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number
  /** Extra anvil command-line arguments, appended after the defaults. */
  args?: string[]
  /** How long to wait for the node to answer eth_chainId (ms). */
  startTimeoutMs?: number
  /**
   * Reproducible time: genesis at this Unix time, and every later block exactly `blockTimeSeconds` (default 12)
   * after the previous one instead of following the wall clock. Without it, timestamps (and thus
   * timestamp-derived event fields such as ProposalQueued.etaSeconds) differ between runs.
   */
  fixedTime?: { genesisTimestamp: number; blockTimeSeconds?: number }
}

export interface AnvilInstance {
  rpcUrl: string
  port: number
  stop(): Promise<void>
}

export const DEVNET_CHAIN_ID = 31337
const HOST = '127.0.0.1'

/** Path of the anvil executable inside the platform package that @foundry-rs/anvil depends on. */
export function anvilBinaryPath(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch
  const ext = process.platform === 'win32' ? '.exe' : ''
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`
  try {
    return require.resolve(`${pkg}/bin/anvil${ext}`)
  } catch {
    throw new Error(`anvil binary not found: is ${pkg} installed (optional dependency of @foundry-rs/anvil)?`)
  }
}

/** Asks the OS for a free port by binding port 0, then releases it for anvil to take. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, HOST, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not pick a free port'))))
    })
  })
}

const live = new Set<ChildProcess>()
let hooksInstalled = false

function killAll(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

/**
 * Kills children when the parent goes away. On a signal nobody else handles, kills them and re-raises it, so the
 * default exit behaviour is kept. When someone else handles it (the main command's Shutdown, which stops anvil in its
 * turn, after the processor that reads from it), this hook leaves the signal to them: killing anvil here, or
 * re-raising, would cut their orderly shutdown short (a re-raised SIGINT ended the process before it had stopped
 * the processor and the embedded Postgres). The 'exit' hook still kills whatever is left.
 */
function installExitHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.once('exit', killAll)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) > 0) return
      killAll()
      process.kill(process.pid, sig)
    }
    process.once(sig, onSignal)
  }
}

async function rpcCall(rpcUrl: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { result?: unknown; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

async function answersChainId(rpcUrl: string): Promise<boolean> {
  try {
    return Number(await rpcCall(rpcUrl, 'eth_chainId', [])) === DEVNET_CHAIN_ID
  } catch {
    return false
  }
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilInstance> {
  const port = opts.port ?? (await freePort())
  const args = [
    '--host', HOST,
    '--port', String(port),
    '--chain-id', String(DEVNET_CHAIN_ID),
    '--silent',
    // Room for bulk blocks (hundreds of txs each); the default 30M would split them.
    '--gas-limit', '1000000000',
    ...(opts.fixedTime ? ['--timestamp', String(opts.fixedTime.genesisTimestamp)] : []),
    ...(opts.args ?? []),
  ]
  installExitHooks()
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] })
  live.add(child)
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let hasExited = false
  void exited.then(() => {
    hasExited = true
    live.delete(child)
  })

  const stop = async (): Promise<void> => {
    if (hasExited) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }

  const rpcUrl = `http://${HOST}:${port}`
  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000)
  while (!(await answersChainId(rpcUrl))) {
    if (hasExited) throw new Error(`anvil exited during startup (port ${port}): ${stderr.trim()}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`anvil did not answer on ${rpcUrl} in time: ${stderr.trim()}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  if (opts.fixedTime) {
    try {
      await rpcCall(rpcUrl, 'anvil_setBlockTimestampInterval', [opts.fixedTime.blockTimeSeconds ?? 12])
    } catch (e) {
      await stop()
      throw e
    }
  }
  return { rpcUrl, port, stop }
}
