import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {loadConfig} from '../config'
import {isReachable} from '../db/databases'
import {startEmbeddedPostgres} from '../db/embedded'

/**
 * The Postgres a benchmark runs against: DATABASE_URL, else a local server on 127.0.0.1:5432 when one answers,
 * else a temporary embedded one, stopped and removed by the cleanup step it registers.
 */
export async function postgresForBench(cleanup: (() => Promise<void>)[]): Promise<string> {
  const given = loadConfig().DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  if (await isReachable(given, 2000)) return given
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deai-bench-pg-'))
  const pg = await startEmbeddedPostgres({dataDir: path.join(dir, 'data')})
  cleanup.push(async () => {
    await pg.stop()
    rmSync(dir, {recursive: true, force: true})
  })
  return pg.url
}
