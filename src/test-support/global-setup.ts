// Vitest globalSetup for integration tests (*.int.test.ts): finds one Postgres server for the whole run and
// hands its admin URL to the test files as `inject('pgAdminUrl')` (see pg.ts). Each test file then makes
// its own randomly named database there, so files never see each other's data.
//
// Which server, first match wins:
//   TEST_PG=embedded       always start a temporary embedded Postgres (skips everything below)
//   TEST_DATABASE_URL      use it (must be reachable)
//   DATABASE_URL           use it (must be reachable)
//   postgres://postgres@127.0.0.1:5432/postgres, if it answers within 1 s
//   otherwise a temporary embedded Postgres 18 on a free port, stopped and deleted at teardown.
// The role needs CREATEDB. Test infrastructure reads the environment directly; the app goes through config.
// The `pgAdminUrl` type is declared in pg.ts.
import type { TestProject } from 'vitest/node'
import { isReachable } from '../db/databases'
import { startTemporaryPostgres } from '../db/temporary'
import { redactPgUrl } from '../db/url'

const LOCAL_DEFAULT = 'postgres://postgres@127.0.0.1:5432/postgres'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env
  const log = (m: string) => console.log(`[test postgres] ${m}`)
  if (env.TEST_PG !== undefined && env.TEST_PG !== 'embedded' && env.TEST_PG !== 'auto') {
    throw new Error(`TEST_PG must be "embedded" or "auto", got ${JSON.stringify(env.TEST_PG)}`)
  }
  if (env.TEST_PG !== 'embedded') {
    for (const name of ['TEST_DATABASE_URL', 'DATABASE_URL'] as const) {
      const url = env[name]
      if (!url) continue
      if (!(await isReachable(url, 5_000))) throw new Error(`${name} (${redactPgUrl(url)}) is not reachable`)
      log(`using ${name}: ${redactPgUrl(url)}`)
      project.provide('pgAdminUrl', url)
      return async () => undefined
    }
    if (await isReachable(LOCAL_DEFAULT, 1_000)) {
      log(`using the local server ${LOCAL_DEFAULT}`)
      project.provide('pgAdminUrl', LOCAL_DEFAULT)
      return async () => undefined
    }
  }
  const started = Date.now()
  const pg = await startTemporaryPostgres((m) => log(m))
  log(`started a temporary embedded Postgres at ${redactPgUrl(pg.url)} in ${Date.now() - started} ms`)
  project.provide('pgAdminUrl', pg.url)
  return () => pg.dispose()
}
