import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'

/** Clock ticks per second of /proc's CPU times (USER_HZ); 100 on every Linux build we know of when getconf fails. */
const TICKS_PER_SECOND = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim())
    return Number.isFinite(n) && n > 0 ? n : 100
  } catch {
    return 100
  }
})()

/**
 * User + system CPU seconds a live process has used since it started (/proc/PID/stat), or undefined when the process
 * is not visible from here (gone, or a Postgres on another machine).
 */
export function processCpuSeconds(pid: number): number | undefined {
  return cpuSecondsOf(`/proc/${pid}/stat`)
}

/**
 * User + system CPU seconds one thread of a live process has used (/proc/PID/task/TID/stat); the main thread's TID is
 * the PID. Undefined when the thread is not visible from here.
 */
export function threadCpuSeconds(pid: number, tid: number): number | undefined {
  return cpuSecondsOf(`/proc/${pid}/task/${tid}/stat`)
}

function cpuSecondsOf(file: string): number | undefined {
  let stat: string
  try {
    stat = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  // The command name in parentheses may hold spaces: fields are counted from the last ')'. utime and stime are the
  // 14th and 15th fields, i.e. the 12th and 13th after the name.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected ${file}: ${stat.slice(0, 200)}`)
  return (utime + stime) / TICKS_PER_SECOND
}
