// What is running on a Postgres data directory, judged from its postmaster.pid, and how to stop it.
//
// Why this exists: embedded Postgres runs as a child process. When its Node parent is killed (SIGKILL, OOM,
// a CI timeout) nothing stops the child: it keeps running, orphaned, holding the data directory and its port,
// and the next start fails with "lock file postmaster.pid already exists". Postgres itself only treats the
// lock file as stale when the PID in it is dead; in containers PIDs are small and get reused, so a dead
// postmaster's PID can belong to an unrelated live process, which blocks start too.
import { promises as fs } from 'node:fs'
import path from 'node:path'

/** Written next to postmaster.pid by the process that started the postmaster (see embedded.ts). */
export const OWNER_FILE = 'embedded-owner.pid'

export type PostmasterState =
  | { kind: 'none' }
  /** postmaster.pid names a process that is not a postmaster of this data directory. */
  | { kind: 'stale'; pid: number; alive: boolean }
  /** A live postmaster whose starter is gone. */
  | { kind: 'orphaned'; pid: number }
  /** A live postmaster that its starter still runs (or that we cannot attribute). */
  | { kind: 'in-use'; pid: number; ownerPid: number | undefined }

export async function inspectPostmaster(dataDir: string): Promise<PostmasterState> {
  const pid = await readPidFile(path.join(dataDir, 'postmaster.pid'))
  if (pid === undefined) return { kind: 'none' }
  if (!isAlive(pid)) return { kind: 'stale', pid, alive: false }
  if (!(await isPostmasterOf(pid, dataDir))) return { kind: 'stale', pid, alive: true }
  const ownerPid = await readPidFile(path.join(dataDir, OWNER_FILE))
  const parent = await parentPid(pid)
  // Still owned when the recorded starter is alive and is still the postmaster's parent. Comparing with the
  // parent (not only "owner alive") guards against the owner's PID having been reused after it died: an
  // orphan gets re-parented to init or a subreaper, never to that new process.
  const owned = ownerPid !== undefined && isAlive(ownerPid) && (parent === undefined || parent === ownerPid)
  if (owned || ownerPid === undefined) return { kind: 'in-use', pid, ownerPid }
  return { kind: 'orphaned', pid }
}

/**
 * Fast shutdown (SIGINT: abort transactions, checkpoint, exit), escalating to immediate (SIGQUIT) and then
 * SIGKILL if the postmaster does not exit. Resolves once the PID is gone.
 */
export async function terminatePostmaster(pid: number, graceMs = 30_000): Promise<void> {
  for (const [signal, waitMs] of [['SIGINT', graceMs], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(pid, signal)
    } catch {
      return // already gone
    }
    if (await waitForExit(pid, waitMs)) return
  }
  throw new Error(`postmaster PID ${pid} did not exit after SIGINT, SIGQUIT and SIGKILL`)
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 25))
  }
  return true
}

/** First line of postmaster.pid (and of our owner file) is the PID. */
export async function readPidFile(file: string): Promise<number | undefined> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch {
    return undefined
  }
  const pid = Number(text.split('\n', 1)[0]?.trim())
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: exists, but belongs to someone we may not signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A postmaster chdirs into its data directory, so /proc/<pid>/cwd identifies it even when the directory was
 * named through a symlink. Without /proc (macOS) we cannot tell, and trust the PID.
 */
async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  let cwd: string
  try {
    cwd = await fs.readlink(`/proc/${pid}/cwd`)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT' || !(await hasProc())
  }
  return cwd === (await fs.realpath(dataDir))
}

async function parentPid(pid: number): Promise<number | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isSafeInteger(ppid) ? ppid : undefined
  } catch {
    return undefined
  }
}

async function hasProc(): Promise<boolean> {
  return fs.access('/proc/self/stat').then(
    () => true,
    () => false,
  )
}
