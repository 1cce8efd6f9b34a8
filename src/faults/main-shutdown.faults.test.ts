import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

/**
 * The main command (`npm start`: embedded Postgres, anvil, the processor, the analytics follower, the API) stopped by
 * a signal sent to its own process only, as a supervisor (systemd, docker stop, kill) sends it: it must stop every
 * process it started and exit 0. (A hook of the devnet module used to SIGKILL anvil and re-raise the signal, which
 * ended the process before it had stopped the processor and the embedded Postgres: both were left running.)
 */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..')

/** Every process below `root`, from /proc (pid → parent pid). */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after its last ')'.
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    const p = queue.shift()!
    for (const [pid, ppid] of parentOf) if (ppid === p) (found.push(pid), queue.push(pid))
  }
  return found
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function waitForOutput(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${timeoutMs} ms; output:\n${out.slice(-3000)}`)), timeoutMs)
    const onData = (d: Buffer) => {
      out += d.toString()
      if (out.includes(text)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
    child.once('exit', (code) => reject(new Error(`main exited (${code}) before "${text}"; output:\n${out.slice(-3000)}`)))
  })
}

const TRIALS = [
  {signal: 'SIGINT', group: false, what: 'SIGINT to its process alone'},
  {signal: 'SIGTERM', group: false, what: 'SIGTERM to its process alone'},
  // Ctrl-C in a terminal: every process of the group gets it, the children too, before the shutdown reaches them.
  {signal: 'SIGINT', group: true, what: 'SIGINT to its whole process group (Ctrl-C)'},
] as const

describe('main command shutdown', () => {
  for (const {signal, group, what} of TRIALS) {
    it(`${what} stops everything it started, restarts nothing, and it exits 0`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'deai-main-shutdown-'))
      const {DATABASE_URL: _db, RPC_URL: _rpc, ...env} = process.env
      const main = spawn(process.execPath, [path.join(PROJECT_ROOT, 'lib', 'main.js')], {
        cwd: PROJECT_ROOT,
        env: {...env, DATA_DIR: dir, ANALYTICS_DB: path.join(dir, 'analytics.duckdb'), API_PORT: '0'},
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so that a group signal reaches it and its children only.
        detached: group,
      })
      let output = ''
      main.stdout.on('data', (d: Buffer) => (output += d.toString()))
      main.stderr.on('data', (d: Buffer) => (output += d.toString()))
      const exited = new Promise<number | string>((resolve) => main.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')))
      let started: number[] = []
      try {
        // Everything is up once the analytics follower has refreshed over the indexed devnet.
        await waitForOutput(main, 'analytics:', 150_000)
        started = descendants(main.pid!)
        expect(started.length).toBeGreaterThanOrEqual(3) // embedded Postgres, anvil, the processor (and their own)
        if (group) process.kill(-main.pid!, signal)
        else main.kill(signal)
        expect(await exited).toBe(0)
        // A child that died of the signal is not restarted while everything stops.
        expect(output).not.toMatch(/restart \d+ in \d+ ms/)
        const deadline = Date.now() + 10_000
        while (started.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
        expect(started.filter(alive)).toEqual([])
      } finally {
        main.kill('SIGKILL')
        for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL')
        rmSync(dir, {recursive: true, force: true})
      }
    }, 240_000)
  }
})
