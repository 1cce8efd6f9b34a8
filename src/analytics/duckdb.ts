import {mkdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
// First: the allocator's setting must be in the environment before the DuckDB library loads (allocator-env.ts).
import './allocator-env'
import {type DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'

/**
 * The one place that loads DuckDB's library for a value (not a type): it comes after allocator-env.ts here, so other
 * modules take DuckDBInstance from this module (allocator-env.test.ts checks that none loads it otherwise).
 */
export {DuckDBInstance}

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
let inMemoryCount = 0

export interface AnalyticsDbOptions {
  /**
   * DuckDB's memory_limit (default DEFAULT_MEMORY_LIMIT; DuckDB's own default is 80 % of the RAM). Beyond it,
   * operators spill to temp files (next to the database file; for ':memory:' in the OS temp directory).
   */
  memoryLimit?: string
  /** DuckDB threads (default: DuckDB's, the number of cores). */
  threads?: number
  /** DuckDB's checkpoint_threshold (default DEFAULT_CHECKPOINT_THRESHOLD). */
  checkpointThreshold?: string
}

/**
 * Bounds DuckDB under the 2 GiB RSS target of src/bench/analytics.ts, with room for Node's heap (the suite's
 * ~200,000 fairness rows) and DuckDB's allocations outside its buffer pool: the process peaked at 2.1–2.2 GiB with
 * '1536MB' and at 2051 MiB with '1GB'. The CSV load's read buffer is 16 MiB (store/audit-csv.ts).
 */
export const DEFAULT_MEMORY_LIMIT = '768MB'

/**
 * WAL size beyond which the next commit also checkpoints the file. DuckDB's default, 16 MiB, made nearly every
 * incremental sync at the benchmark's size checkpoint: a refresh updates ~20,000 of a million balance_state rows,
 * and a checkpoint rewrites every row group they touch (COMMIT 130–500 ms, against ~25 ms with a larger threshold,
 * measured on the 10M-event mirror). With 128 MiB the same rewrite happens once per many refreshes. The cost:
 * committed changes not yet checkpointed stay in memory and in the WAL, so up to this much more memory and a longer
 * WAL replay when a killed process reopens the file. Large pulls still checkpoint at once (store/sync.ts,
 * CHECKPOINT_AFTER_ROWS).
 */
export const DEFAULT_CHECKPOINT_THRESHOLD = '128MB'

export async function openAnalyticsDb(file: string, options: AnalyticsDbOptions = {}): Promise<AnalyticsDb> {
  const inMemory = file === IN_MEMORY
  const key = inMemory ? undefined : path.resolve(file)
  if (key !== undefined) {
    if (openFiles.has(key)) throw new Error(`analytics database ${file} is already open in this process: share its AnalyticsDb`)
    mkdirSync(path.dirname(key), {recursive: true})
  }
  const config: Record<string, string> = {memory_limit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT}
  if (options.threads !== undefined) config.threads = String(options.threads)
  config.checkpoint_threshold = options.checkpointThreshold ?? DEFAULT_CHECKPOINT_THRESHOLD
  if (key === undefined) config.temp_directory = path.join(os.tmpdir(), `deai-lens-duckdb-${process.pid}-${++inMemoryCount}`)
  const instance = await DuckDBInstance.create(key ?? IN_MEMORY, config)
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

/**
 * Whether the relation `table` (a constant name, never a value) has a row: a step can skip its work on an empty delta
 * (CREATE TABLE AS reports no row count).
 */
export function hasRows(conn: DuckDBConnection, table: string): Promise<boolean> {
  return holds(conn, `EXISTS (SELECT 1 FROM ${table})`)
}

/** Whether the boolean SQL expression `condition` (constant SQL, no value spliced in) is true. */
export async function holds(conn: DuckDBConnection, condition: string): Promise<boolean> {
  const reader = await conn.runAndReadAll(`SELECT (${condition}) AS holds`)
  return reader.getRowObjectsJson()[0]?.holds === true
}
