// A throwaway embedded cluster in a fresh temporary directory, for tests and one-off tools.
import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from './embedded'
import { inspectPostmaster, terminatePostmaster } from './postmaster'

const PREFIX = 'deai-lens-pg-'

export interface TemporaryPostgres {
  url: string
  /** Stops the server and deletes its directory. Idempotent. */
  dispose(): Promise<void>
}

/**
 * Durability switched off: the data is deleted afterwards anyway, and without fsync CREATE DATABASE and DDL
 * are much faster on slow CI disks.
 */
const THROWAWAY_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }

export async function startTemporaryPostgres(log?: (message: string) => void): Promise<TemporaryPostgres> {
  await sweepAbandoned(log ?? (() => undefined))
  const dir = await fs.mkdtemp(path.join(tmpdir(), PREFIX))
  try {
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), settings: THROWAWAY_SETTINGS, log })
    let disposing: Promise<void> | undefined
    return {
      url: pg.url,
      dispose: () =>
        (disposing ??= pg.stop().finally(() => fs.rm(dir, { recursive: true, force: true }))),
    }
  } catch (e) {
    await fs.rm(dir, { recursive: true, force: true })
    throw e
  }
}

/**
 * A run killed before its teardown (Ctrl-C twice, CI timeout) leaves its cluster running in a temp directory
 * that nobody will reuse. Remove those whose starter is gone; leave those a live run still uses. Directories
 * younger than a minute are skipped: another run may be initialising one right now.
 */
async function sweepAbandoned(log: (message: string) => void): Promise<void> {
  const names = (await fs.readdir(tmpdir()).catch(() => [] as string[])).filter((n) => n.startsWith(PREFIX))
  for (const name of names) {
    const dir = path.join(tmpdir(), name)
    try {
      if (Date.now() - (await fs.stat(dir)).mtimeMs < 60_000) continue
      const state = await inspectPostmaster(path.join(dir, 'data'))
      if (state.kind === 'in-use') continue
      if (state.kind === 'orphaned') await terminatePostmaster(state.pid)
      await fs.rm(dir, { recursive: true, force: true })
      log(`removed abandoned temporary cluster ${dir}${state.kind === 'orphaned' ? ` (stopped PID ${state.pid})` : ''}`)
    } catch {
      // Someone else's directory or a concurrent sweep: not ours to fail on.
    }
  }
}
