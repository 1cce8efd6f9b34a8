import { spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Client } from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded'
import { OWNER_FILE, isAlive } from './postmaster'

// These tests start their own clusters (not the shared test server): they are about starting and stopping.
let root: string
const running: EmbeddedPostgres[] = []
const logs: string[] = []

async function start(dataDir: string): Promise<EmbeddedPostgres> {
  const pg = await startEmbeddedPostgres({ dataDir, log: (m) => logs.push(m) })
  running.push(pg)
  return pg
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows as T[]
  } finally {
    await client.end()
  }
}

/** A PID that is certainly not a postmaster: a process that has already exited, or a live `sleep`. */
async function exitedPid(): Promise<number> {
  const child = spawn('true')
  await new Promise((r) => child.on('exit', r))
  return child.pid!
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(tmpdir(), 'embedded-test-'))
})
afterEach(async () => {
  // Stop whatever a test started, even when it failed half-way.
  await Promise.all(running.splice(0).map((pg) => pg.stop()))
  logs.length = 0
})
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true })
})

describe('startEmbeddedPostgres', () => {
  test('starts on a free port, stops idempotently, and reuses the data directory', async () => {
    const dataDir = path.join(root, 'reuse')
    let t = Date.now()
    const first = await start(dataDir)
    const firstMs = Date.now() - t
    const [row] = await query<{ version: string }>(first.url, 'SELECT version()')
    expect(row?.version).toMatch(/^PostgreSQL 18\./)
    expect(first.url).toMatch(/^postgres:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/)
    expect(logs.some((l) => l.startsWith('initialised a new cluster'))).toBe(true)
    await query(first.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)')
    await first.stop()
    await first.stop()

    logs.length = 0
    t = Date.now()
    const second = await start(dataDir)
    const secondMs = Date.now() - t
    expect(logs.some((l) => l.startsWith('initialised'))).toBe(false)
    expect(await query(second.url, 'SELECT n FROM kept')).toEqual([{ n: 42 }])
    console.log(`embedded Postgres: init + start ${firstMs} ms, restart ${secondMs} ms`)
  })

  test('removes a stale postmaster.pid whose PID belongs to another live process', async () => {
    const dataDir = path.join(root, 'stale')
    await (await start(dataDir)).stop()
    // In containers a dead postmaster's PID is soon reused; Postgres alone would refuse to start then.
    const sleeper = spawn('sleep', ['60'])
    try {
      await fs.writeFile(path.join(dataDir, 'postmaster.pid'), `${sleeper.pid}\n${dataDir}\n`)
      const pg = await start(dataDir)
      expect(logs.some((l) => l.includes('removing stale') && l.includes(String(sleeper.pid)))).toBe(true)
      expect(await query(pg.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
    } finally {
      sleeper.kill()
    }
  })

  test('stops a postmaster orphaned by a killed parent, then starts', async () => {
    const dataDir = path.join(root, 'orphan')
    const orphan = await start(dataDir)
    const orphanPid = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
    // Pretend its starter died: the owner file now names a process that has exited.
    await fs.writeFile(path.join(dataDir, OWNER_FILE), `${await exitedPid()}\n`)
    const pg = await start(dataDir)
    expect(logs.some((l) => l.includes(`stopping orphaned postmaster PID ${orphanPid}`))).toBe(true)
    expect(isAlive(orphanPid)).toBe(false)
    expect(await query(pg.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
    await orphan.stop() // its process is gone already; must not hang or throw
  })

  test('refuses a data directory its live starter is still using', async () => {
    const dataDir = path.join(root, 'busy')
    await start(dataDir)
    await expect(startEmbeddedPostgres({ dataDir, log: () => undefined })).rejects.toThrow(/in use by postmaster/)
  })

  test('refuses a non-empty directory that is not a cluster', async () => {
    const dataDir = path.join(root, 'foreign')
    await fs.mkdir(dataDir)
    await fs.writeFile(path.join(dataDir, 'notes.txt'), 'mine')
    await expect(start(dataDir)).rejects.toThrow(/not a Postgres data directory/)
  })
})
