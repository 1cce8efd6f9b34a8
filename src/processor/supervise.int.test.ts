import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {type AddressInfo, createServer} from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type TestDatabase, withTestDatabase} from '../test-support/pg'
import {superviseProcessor} from './supervise'

/**
 * The supervisor around the compiled processor (run `npm run build` first): a child that can never start (here, an
 * invalid contracts file) is restarted with doubling delays, each exit logged, until it gives up.
 */
describe('superviseProcessor', () => {
  let db: TestDatabase
  let tmp: string

  beforeAll(async () => {
    db = await withTestDatabase({prefix: 'supervise'})
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-supervise-'))
  })
  afterAll(async () => {
    await db?.drop()
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  it('restarts a failing child with growing delays, logs why, and gives up after maxFailuresInARow', async () => {
    const contractsFile = path.join(tmp, 'contracts.json')
    writeFileSync(contractsFile, '{"chainId": 1, "contracts": "not a list"}')
    const lines: string[] = []
    const supervised = superviseProcessor({
      databaseUrl: db.url,
      rpcUrl: 'http://127.0.0.1:9',
      contractsFile,
      stdio: 'pipe',
      restart: {initialDelayMs: 50, maxDelayMs: 150, maxFailuresInARow: 3},
      log: (m) => lines.push(m),
    })
    const code = await supervised.exited
    expect(code).toBe(1)
    expect(supervised.restarts()).toBe(3)
    const delays = lines.flatMap((l) => /restart \d+ in (\d+) ms/.exec(l)?.[1] ?? []).map(Number)
    expect(delays).toEqual([50, 100, 150])
    expect(lines[0]).toMatch(/exited unexpectedly \(1\) after [\d.]+ s \(.+\)/)
    expect(lines[lines.length - 1]).toMatch(/failed 3 times in a row \(last exit 1\); giving up/)
  })

  it('stop() during a backoff pause ends the supervision without another start', async () => {
    const contractsFile = path.join(tmp, 'contracts-2.json')
    writeFileSync(contractsFile, 'not json')
    const lines: string[] = []
    const supervised = superviseProcessor({
      databaseUrl: db.url,
      rpcUrl: 'http://127.0.0.1:9',
      contractsFile,
      stdio: 'pipe',
      restart: {initialDelayMs: 60_000, maxDelayMs: 60_000, maxFailuresInARow: 3},
      log: (m) => lines.push(m),
    })
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 50))
    const started = Date.now()
    await supervised.stop()
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(supervised.restarts()).toBe(0)
  })

  it('does not restart a child stopped by SIGTERM or SIGINT from outside (Ctrl-C reaches the whole process group)', async () => {
    // An RPC endpoint that accepts and never answers keeps the child in its start-up check, alive, until signalled.
    const silent = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const contractsFile = path.join(tmp, `contracts-${signal}.json`)
        writeFileSync(contractsFile, JSON.stringify({chainId: 31337, contracts: []}))
        const lines: string[] = []
        const supervised = superviseProcessor({
          databaseUrl: db.url,
          rpcUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
          contractsFile,
          stdio: 'pipe',
          restart: {initialDelayMs: 50, maxDelayMs: 50, maxFailuresInARow: 3},
          log: (m) => lines.push(m),
        })
        let child: number | undefined
        for (let i = 0; i < 200 && child === undefined; i++) {
          await new Promise((r) => setTimeout(r, 50))
          child = childrenOf(process.pid).find((pid) => commandLine(pid).includes(path.join('lib', 'processor', 'main.js')))
        }
        expect(child, 'the supervised child process').toBeDefined()
        process.kill(child!, signal)
        expect(await supervised.exited).toBe(signal)
        expect(supervised.restarts()).toBe(0)
        expect(lines.at(-1)).toBe(`processor stopped by ${signal}; not restarting`)
      }
    } finally {
      silent.close()
    }
  })
})

/** This process's children, from /proc. */
function childrenOf(parent: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) out.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}
