import {type ChildProcess, spawn} from 'node:child_process'
import path from 'node:path'
import {Client} from 'pg'
import {subsquidChildEnv} from '../db/url'
import {readIndexStatus} from './status'

export interface ProcessorProcessOptions {
  databaseUrl: string
  rpcUrl: string
  contractsFile: string
  /** Extra environment (FINALITY_CONFIRMATIONS, ...). */
  env?: Record<string, string>
  /** Where the processor's output goes; default: inherited. */
  stdio?: 'inherit' | 'pipe' | 'ignore'
}

export interface ProcessorProcess {
  child: ChildProcess
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>
  /** Sends the signal (SIGTERM by default) and waits for the exit. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number | string>
  /** Polls the database until the processor has committed `height` (hot blocks included). */
  waitForHeight(height: number, timeoutMs?: number): Promise<void>
  /** Collected stdout+stderr when stdio is 'pipe'. */
  output(): string
}

const PROJECT_ROOT = path.resolve(__dirname, '..', '..')
/** Always the compiled entry point, also when this module runs from src/ under vitest (`npm test` builds first). */
const PROCESSOR_ENTRY = path.join(PROJECT_ROOT, 'lib', 'processor', 'main.js')

/**
 * Runs the compiled processor (lib/processor/main.js) as a child process. A separate process is what lets tests and
 * the main command stop it at any moment (even with SIGKILL) and start it again.
 */
export function spawnProcessor(opts: ProcessorProcessOptions): ProcessorProcess {
  // The child's connection is DATABASE_URL alone: inherited Subsquid DB_* variables must not override it.
  const env = subsquidChildEnv(
    {...process.env, DATABASE_URL: opts.databaseUrl, RPC_URL: opts.rpcUrl, CONTRACTS_FILE: opts.contractsFile, ...opts.env},
    opts.databaseUrl,
  )
  const child = spawn(process.execPath, [PROCESSOR_ENTRY], {
    env,
    stdio: ['ignore', opts.stdio ?? 'inherit', opts.stdio ?? 'inherit'],
    // typeorm-store finds the compiled entities in lib/model relative to the working directory.
    cwd: PROJECT_ROOT,
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  let stopping: Promise<number | string> | undefined
  return {
    child,
    exited,
    output: () => out,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return exited
      stopping ??= (child.kill(signal), exited)
      return stopping
    },
    async waitForHeight(height: number, timeoutMs = 120_000) {
      const client = new Client({connectionString: opts.databaseUrl})
      await client.connect()
      try {
        const deadline = Date.now() + timeoutMs
        let exitedEarly: number | string | undefined
        void exited.then((c) => (exitedEarly = c))
        for (;;) {
          const status = await readIndexStatus(client)
          if (status.height >= height) return
          if (exitedEarly !== undefined) {
            throw new Error(`processor exited (${exitedEarly}) at height ${status.height} before reaching ${height}\n${out.slice(-4000)}`)
          }
          if (Date.now() > deadline) {
            throw new Error(`processor reached only height ${status.height} of ${height} within ${timeoutMs} ms\n${out.slice(-4000)}`)
          }
          await new Promise((r) => setTimeout(r, 200))
        }
      } finally {
        await client.end()
      }
    },
  }
}
