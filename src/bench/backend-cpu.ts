import type {Client} from 'pg'
import {processCpuSeconds} from './process-cpu'

/**
 * CPU seconds used so far by each Postgres client backend connected to the caller's database (its own connection left
 * out), by backend PID; a PID maps to undefined when its process is not visible from here (a server on another
 * machine or in another PID namespace). A backend's figure goes with its process: read it while the backend lives.
 */
export async function backendCpuSeconds(c: Client): Promise<Map<number, number | undefined>> {
  const {rows} = await c.query<{pid: number}>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
  )
  return new Map(rows.map(({pid}) => [pid, processCpuSeconds(pid)]))
}

/**
 * The CPU seconds the backends used between two readings (a backend that started in between counts from 0, one that
 * ended in between is lost with its process); undefined when any backend was not visible.
 */
export function backendCpuBetween(before: ReadonlyMap<number, number | undefined>, after: ReadonlyMap<number, number | undefined>): number | undefined {
  let sum = 0
  for (const [pid, s] of after) {
    const was = before.has(pid) ? before.get(pid) : 0
    if (s === undefined || was === undefined) return undefined
    sum += s - was
  }
  return sum
}
