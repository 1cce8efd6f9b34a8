import {mkdirSync} from 'node:fs'
import path from 'node:path'
import {type DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'

/**
 * The one module that owns DuckDB. A process opens one AnalyticsDb (a database file, or ':memory:' in tests) and
 * takes connections from it; close() ends every connection it handed out, then the instance.
 *
 * One instance per file and process: DuckDB locks a database file for a single writing process, and two instances
 * on the same file inside one process would not see each other's writes consistently. Opening a file that is
 * already open here throws instead of silently sharing or racing.
 */
export interface AnalyticsDb {
  readonly instance: DuckDBInstance
  /** The path given to openAnalyticsDb (':memory:' for an in-memory database). */
  readonly path: string
  connect(): Promise<DuckDBConnection>
  /** Idempotent. Connections handed out become unusable. */
  close(): void
}

export const IN_MEMORY = ':memory:'

const openFiles = new Set<string>()

export async function openAnalyticsDb(file: string): Promise<AnalyticsDb> {
  const inMemory = file === IN_MEMORY
  const key = inMemory ? undefined : path.resolve(file)
  if (key !== undefined) {
    if (openFiles.has(key)) throw new Error(`analytics database ${file} is already open in this process: share its AnalyticsDb`)
    mkdirSync(path.dirname(key), {recursive: true})
  }
  const instance = await DuckDBInstance.create(key ?? IN_MEMORY)
  if (key !== undefined) openFiles.add(key)
  const connections = new Set<DuckDBConnection>()
  let closed = false
  return {
    instance,
    path: file,
    async connect() {
      if (closed) throw new Error(`analytics database ${file} is closed`)
      const conn = await instance.connect()
      connections.add(conn)
      return conn
    },
    close() {
      if (closed) return
      closed = true
      for (const c of connections) c.closeSync()
      connections.clear()
      instance.closeSync()
      if (key !== undefined) openFiles.delete(key)
    },
  }
}
