import {Client} from 'pg'
import {EXIT_FORK_BELOW_FINALITY} from './fork-check'
import {type ProcessorProcess, type ProcessorProcessOptions, spawnProcessor} from './spawn'
import {readIndexStatus} from './status'

export interface RestartPolicy {
  /** Delay before the first restart; doubled after each failure in a row, up to maxDelayMs. */
  initialDelayMs: number
  maxDelayMs: number
  /**
   * Give up after this many failures in a row. A run that committed new blocks, or lasted stableAfterMs, resets the
   * count (and the delay): a processor that keeps dying but keeps making progress is worth restarting.
   */
  maxFailuresInARow: number
  stableAfterMs: number
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {initialDelayMs: 1_000, maxDelayMs: 30_000, maxFailuresInARow: 10, stableAfterMs: 60_000}

export interface SupervisedProcessor {
  /** Resolves with the last child's exit once the supervisor stops restarting (stop(), exit 0, fork, or giving up). */
  exited: Promise<number | string>
  /** Stops the current child (SIGTERM by default) and any pending restart. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number | string>
  /** Polls the database until `height` is committed; tolerates a database that is briefly down. */
  waitForHeight(height: number, timeoutMs?: number): Promise<void>
  /** Restarts so far. */
  restarts(): number
  /** All children's collected output (stdio 'pipe'), plus the supervisor's own lines. */
  output(): string
}

/**
 * Runs the processor child and restarts it when it dies: a lost database connection, an RPC endpoint that keeps
 * failing, or an out-of-memory kill all end the Subsquid process (its runner exits 1 on any error), and resuming is
 * safe because every batch commits atomically with the status row. Restarts back off exponentially and are logged
 * with the exit code. Not restarted: exit 0 (INDEX_TO_BLOCK reached), EXIT_FORK_BELOW_FINALITY (a reorg deeper than
 * finality needs the operator, see fork-check.ts), and a child that failed maxFailuresInARow times in a row.
 */
export function superviseProcessor(
  opts: ProcessorProcessOptions & {restart?: Partial<RestartPolicy>; log?: (message: string) => void},
): SupervisedProcessor {
  const policy = {...DEFAULT_RESTART_POLICY, ...opts.restart}
  let supervisorOut = ''
  const log = (m: string) => {
    supervisorOut += `[supervisor] ${m}\n`
    ;(opts.log ?? ((line: string) => console.log(`[supervisor] ${line}`)))(m)
  }
  const children: ProcessorProcess[] = []
  let stopping = false
  let restarts = 0
  let wake: (() => void) | undefined

  const exited = (async (): Promise<number | string> => {
    let failuresInARow = 0
    let lastCode: number | string = 'not started'
    for (;;) {
      const started = Date.now()
      const heightBefore = await committedHeight(opts.databaseUrl)
      // stop() may have come while we read the height: starting a child now would outlive the supervision.
      if (stopping) return lastCode
      const child = spawnProcessor(opts)
      children.push(child)
      const code = await child.exited
      lastCode = code
      if (stopping) return code
      if (code === 0) {
        log('processor finished (exit 0)')
        return code
      }
      if (code === EXIT_FORK_BELOW_FINALITY) {
        log(`processor refused to resume: the chain forked below the finalized height (exit ${code}). Not restarting; ` +
          'recover as its message says (reset the index and start again)')
        return code
      }
      if (code === 'SIGINT' || code === 'SIGTERM') {
        // Asked to stop, not crashed: Ctrl-C in a terminal reaches every process of the group, this child included,
        // before the main command's shutdown gets to it. A restart would start a processor while everything stops.
        log(`processor stopped by ${code}; not restarting`)
        return code
      }
      const heightAfter = await committedHeight(opts.databaseUrl)
      if (stopping) return code
      const progressed = heightBefore !== undefined && heightAfter !== undefined && heightAfter > heightBefore
      failuresInARow = progressed || Date.now() - started >= policy.stableAfterMs ? 1 : failuresInARow + 1
      if (failuresInARow > policy.maxFailuresInARow) {
        log(`processor failed ${failuresInARow - 1} times in a row (last exit ${code}); giving up`)
        return code
      }
      const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failuresInARow - 1))
      const reason = lastErrorLine(child.output())
      log(`processor exited unexpectedly (${code}) after ${((Date.now() - started) / 1000).toFixed(1)} s` +
        `${reason ? ` (${reason})` : ''}; restart ${restarts + 1} in ${delay} ms (failure ${failuresInARow} in a row)`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay)
        wake = () => (clearTimeout(timer), resolve())
      })
      wake = undefined
      if (stopping) return code
      restarts++
    }
  })()

  return {
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping = true
      wake?.()
      await children[children.length - 1]?.stop(signal)
      return exited
    },
    waitForHeight: (height, timeoutMs = 120_000) => waitForIndexHeight(opts.databaseUrl, height, timeoutMs, exited, () => output()),
    restarts: () => restarts,
    output,
  }

  function output(): string {
    return children.map((c) => c.output()).join('') + supervisorOut
  }
}

/** The index's committed height, or undefined when the database does not answer (it may be what failed). */
async function committedHeight(databaseUrl: string): Promise<number | undefined> {
  const client = new Client({connectionString: databaseUrl, connectionTimeoutMillis: 2_000})
  client.on('error', () => undefined)
  try {
    await client.connect()
    return (await readIndexStatus(client)).height
  } catch {
    return undefined
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * The child's last fatal/error line, when its output is collected (stdio 'pipe'; inherited output is already on the
 * console). Subsquid logs JSON when its output is not a terminal: then the error's first line is what says why.
 */
function lastErrorLine(output: string): string | undefined {
  const lines = output.split('\n').filter((l) => l.trim() !== '')
  const errors = lines.filter((l) => /FATAL|Error|error:|could not|"level":5/.test(l))
  // eslint-disable-next-line no-control-regex
  const line = (errors[errors.length - 1] ?? lines[lines.length - 1])?.replace(/\x1b\[[0-9;]*m/g, '').trim()
  if (line === undefined) return undefined
  try {
    const entry = JSON.parse(line) as {msg?: string; err?: {message?: string; stack?: string}}
    return (entry.err?.stack?.split('\n')[0] ?? entry.err?.message ?? entry.msg ?? line).slice(0, 300)
  } catch {
    return line.slice(0, 300)
  }
}

/**
 * Polls the processor's status until `height` is committed. Each poll opens its own connection, and a failed poll
 * (database restarting) is retried, so this works across a database outage.
 */
export async function waitForIndexHeight(
  databaseUrl: string,
  height: number,
  timeoutMs: number,
  exited: Promise<number | string>,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exitCode: number | string | undefined
  void exited.then((c) => (exitCode = c))
  let reached = -1
  for (;;) {
    const client = new Client({connectionString: databaseUrl, connectionTimeoutMillis: 2_000})
    client.on('error', () => undefined)
    try {
      await client.connect()
      reached = (await readIndexStatus(client)).height
    } catch {
      // Database unreachable right now: try again at the next poll.
    } finally {
      await client.end().catch(() => undefined)
    }
    if (reached >= height) return
    if (exitCode !== undefined) throw new Error(`processor stopped (${exitCode}) at height ${reached} before reaching ${height}\n${output().slice(-4000)}`)
    if (Date.now() > deadline) throw new Error(`processor reached only height ${reached} of ${height} within ${timeoutMs} ms\n${output().slice(-4000)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
