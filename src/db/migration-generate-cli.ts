// `npm run migration:generate [-- --name Name] [-- <admin-url>]`: writes a migration for the difference
// between migrations/ and the compiled model (lib/model, from schema.graphql), into migrations/.
//
// squid-typeorm-migration generate compares a live database with the model and writes to db/migrations
// (hard-coded). So: a scratch database on the server (the argument, else DATABASE_URL, else a temporary
// embedded Postgres), the existing migrations applied to it, the generator run against it from the project
// directory, its new file moved to migrations/, and the scratch database dropped. See migrations/README.md.
import { spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../config'
import { createRandomDatabase } from './databases'
import { MIGRATIONS_DIR, applyMigrations } from './migrate'
import { type TemporaryPostgres, startTemporaryPostgres } from './temporary'
import { subsquidChildEnv } from './url'

const PROJECT_DIR = path.resolve(__dirname, '..', '..')
// Fixed by @subsquid/typeorm-config (MIGRATIONS_DIR), relative to the generator's working directory.
const GENERATOR_OUT_DIR = path.join(PROJECT_DIR, 'db', 'migrations')

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { name: { type: 'string', default: 'Data' } },
    allowPositionals: true,
  })
  const name = values.name
  // It becomes a class name in the generated file.
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`--name must be a JavaScript identifier, got ${name}`)
  let temporary: TemporaryPostgres | undefined
  try {
    let adminUrl = positionals[0] ?? loadConfig().DATABASE_URL
    if (!adminUrl) {
      log('no admin URL (argument or DATABASE_URL): starting a temporary embedded Postgres')
      temporary = await startTemporaryPostgres(log)
      adminUrl = temporary.url
    }
    const scratch = await createRandomDatabase(adminUrl, 'migration_gen')
    try {
      const applied = await applyMigrations(scratch.url, { dir: MIGRATIONS_DIR })
      log(`scratch database ${scratch.name}: ${applied.length} existing migration(s) applied`)
      const created = await runGenerator(scratch.url, name)
      if (created.length === 0) {
        log('the model matches migrations/: nothing to generate')
        return 0
      }
      for (const file of created) log(`wrote migrations/${file}`)
      return 0
    } finally {
      await scratch.drop()
    }
  } finally {
    await temporary?.dispose()
  }
}

/** Runs the generator; returns the files it made, already moved into migrations/. */
async function runGenerator(url: string, name: string): Promise<string[]> {
  const before = new Set(await listJs(GENERATOR_OUT_DIR))
  const outDirExisted = await exists(GENERATOR_OUT_DIR)
  const bin = require.resolve('@subsquid/typeorm-migration/bin/squid-typeorm-migration-generate')
  const child = spawn(process.execPath, [bin, '--name', name], {
    cwd: PROJECT_DIR, // it loads lib/model and writes db/migrations relative to its working directory
    env: subsquidChildEnv(process.env, url),
    stdio: ['ignore', 'inherit', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    process.stderr.write(chunk)
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })

  const created = (await listJs(GENERATOR_OUT_DIR)).filter((f) => !before.has(f))
  await fs.mkdir(MIGRATIONS_DIR, { recursive: true })
  for (const file of created) await fs.rename(path.join(GENERATOR_OUT_DIR, file), path.join(MIGRATIONS_DIR, file))
  if (!outDirExisted) {
    // Leave no db/ behind when the generator made it just now.
    await fs.rmdir(GENERATOR_OUT_DIR).catch(() => undefined)
    await fs.rmdir(path.dirname(GENERATOR_OUT_DIR)).catch(() => undefined)
  }
  // The generator exits 1 both for "no changes" and for real failures; tell them apart by its message.
  if (code !== 0 && !(created.length === 0 && stderr.includes('No changes in database schema'))) {
    throw new Error(`squid-typeorm-migration generate exited with ${code}`)
  }
  return created
}

async function listJs(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[])
  return names.filter((n) => n.endsWith('.js')).sort()
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  )
}

function log(message: string): void {
  console.log(`[migration:generate] ${message}`)
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    console.error(`[migration:generate] failed: ${e instanceof Error ? e.message : String(e)}`)
    process.exitCode = 1
  },
)
