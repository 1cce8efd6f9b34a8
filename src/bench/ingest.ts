import {execFile} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import {Client} from 'pg'
import {createRandomDatabase} from '../db/databases'
import {applyMigrations} from '../db/migrate'
import {startAnvil} from '../devnet/anvil'
import {deployProtocol, writeContractsConfig} from '../devnet/deploy'
import {runScenario} from '../devnet/scenario'
import {spawnProcessor} from '../processor/spawn'
import {readIndexStatus} from '../processor/status'
import {postgresForBench} from './postgres'
import {backendCpuBetween, backendCpuSeconds} from './backend-cpu'
import {processCpuSeconds} from './process-cpu'

/**
 * `npm run bench:ingest`: the full processor (decoding, derived entities, audit log, Postgres writes) indexing a
 * devnet scenario from block 0 into an empty database, three times. Prints events/s, blocks/s (median of the runs)
 * and the processor's peak RSS (VmHWM of the child process).
 *
 * Then, on the same chain, the ceilings the full processor is measured against (ingest-stage.ts), each as many runs:
 * RPC ingestion alone with a no-op store, and ingestion plus decoding and applying every log in memory (no Postgres).
 * Their medians, and the full processor's share of each, are printed in the same run: on these shared machines only
 * figures measured side by side compare.
 *
 * Each full run also prints the CPU it cost: the processor process's, and that of the Postgres backends serving its
 * database (read from /proc when the server runs on this machine). Their sum divided by the machine's cores is a
 * floor under the run's wall time that no overlap of Node and Postgres work can go below: the events/s it allows is
 * printed as the bound this machine puts on the run.
 *
 * Knobs (argv): --events N (default 200000), --accounts N (default 2000), --per-block N (default 200), --runs N.
 */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN)
  return kb / 1024
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main(): Promise<void> {
  const events = arg('events', 200_000)
  const accounts = arg('accounts', 2_000)
  const perBlock = arg('per-block', 200)
  const runs = arg('runs', 3)
  const cleanup: (() => Promise<void>)[] = []
  try {
    const adminUrl = await postgresForBench(cleanup)
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const deployment = await deployProtocol(anvil.rpcUrl)
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-bench-'))
    cleanup.push(async () => rmSync(tmp, {recursive: true, force: true}))
    const contractsFile = path.join(tmp, 'contracts.json')
    writeContractsConfig(deployment, contractsFile)
    const t0 = Date.now()
    const scenario = await runScenario(anvil.rpcUrl, deployment, {seed: 42, accounts, events, perBlock})
    console.log(
      `scenario: ${scenario.logCount} events in blocks ${scenario.fromBlock}..${scenario.toBlock} ` +
        `(${accounts} accounts, ~${perBlock} txs/block), generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    )
    const head = scenario.toBlock
    const rows: {eventsPerS: number; steadyEventsPerS: number; blocksPerS: number; seconds: number; rssMiB: number; events: number; cpu: RunCpu}[] = []
    for (let run = 1; run <= runs; run++) {
      const db = await createRandomDatabase(adminUrl, 'deai_bench')
      cleanup.push(() => db.drop())
      await applyMigrations(db.url)
      const start = Date.now()
      const proc = spawnProcessor({databaseUrl: db.url, rpcUrl: anvil.rpcUrl, contractsFile, stdio: 'pipe'})
      try {
        const {firstCommitAt, doneAt} = await pollUntilHeight(db.url, head, proc.exited)
        const seconds = (doneAt - start) / 1000
        const steadySeconds = (doneAt - firstCommitAt) / 1000
        const rssMiB = peakRssMiB(proc.child.pid!)
        const c = new Client({connectionString: db.url})
        await c.connect()
        const cpu = await runCpu(c, proc.child.pid!)
        const n = Number((await c.query('SELECT count(*) AS n FROM audit_event')).rows[0].n)
        await c.end()
        const blocks = head - deployment.startBlock + 1
        rows.push({eventsPerS: n / seconds, steadyEventsPerS: n / steadySeconds, blocksPerS: blocks / seconds, seconds, rssMiB, events: n, cpu})
        console.log(
          `run ${run}: ${n} events, ${blocks} blocks in ${seconds.toFixed(2)} s from process start → ` +
            `${(n / seconds).toFixed(0)} events/s, ${(blocks / seconds).toFixed(1)} blocks/s; ` +
            `${(n / steadySeconds).toFixed(0)} events/s from the first committed batch; peak RSS ${rssMiB.toFixed(0)} MiB; ` +
            `CPU: processor ${cpu.processor.toFixed(2)} s, Postgres ${cpu.postgres === undefined ? 'not visible from here' : `${cpu.postgres.toFixed(2)} s`}`,
        )
      } finally {
        await proc.stop('SIGKILL')
      }
      await db.drop()
    }
    const ceilings: Record<StageMode, number> = {fetch: 0, apply: 0}
    for (const mode of STAGE_MODES) {
      const stageRuns: number[] = []
      for (let run = 1; run <= runs; run++) {
        const r = await runStage(mode, head, anvil.rpcUrl, contractsFile)
        stageRuns.push(r.logs / r.seconds)
        console.log(
          `ceiling ${STAGE_LABEL[mode]}, run ${run}: ${r.logs} events in ${r.seconds.toFixed(2)} s from process start → ` +
            `${(r.logs / r.seconds).toFixed(0)} events/s; ${r.cpuSeconds.toFixed(2)} s of CPU`,
        )
      }
      ceilings[mode] = median(stageRuns)
    }
    const full = median(rows.map((r) => r.eventsPerS))
    console.log(
      `ceilings (median of ${runs}): ${STAGE_MODES.map((m) => `${STAGE_LABEL[m]} ${ceilings[m].toFixed(0)} events/s`).join(', ')}; ` +
        `the full processor reaches ${STAGE_MODES.map((m) => `${((100 * full) / ceilings[m]).toFixed(0)} %`).join(' and ')} of them`,
    )
    printCpuBound(rows)
    console.log(
      `median of ${runs}: ${median(rows.map((r) => r.eventsPerS)).toFixed(0)} events/s end to end ` +
        `(${median(rows.map((r) => r.steadyEventsPerS)).toFixed(0)} from the first committed batch), ` +
        `${median(rows.map((r) => r.blocksPerS)).toFixed(1)} blocks/s, ${median(rows.map((r) => r.seconds)).toFixed(2)} s; ` +
        `peak RSS max ${Math.max(...rows.map((r) => r.rssMiB)).toFixed(0)} MiB ` +
        `(target: >= 30000 events/s, < 1024 MiB)`,
    )
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined)
  }
}

interface RunCpu {
  processor: number
  /** Undefined when the server's processes are not visible (another machine or PID namespace). */
  postgres: number | undefined
}

/**
 * CPU seconds used so far by the processor process and by the Postgres backends connected to its database (the
 * caller's own connection left out). Read while the processor still runs: a backend's figures go with its process.
 */
async function runCpu(c: Client, processorPid: number): Promise<RunCpu> {
  const processor = processCpuSeconds(processorPid)
  if (processor === undefined) throw new Error(`processor process ${processorPid} is gone before its CPU was read`)
  // Every backend's CPU since it started: the sum between no reading and this one.
  const backends = await backendCpuSeconds(c)
  return {processor, postgres: backends.size > 0 ? backendCpuBetween(new Map(), backends) : undefined}
}

/** The wall-time floor the run's CPU puts on this machine (see the header), from the medians of the runs. */
function printCpuBound(rows: readonly {events: number; cpu: RunCpu}[]): void {
  const cores = os.availableParallelism()
  const processor = median(rows.map((r) => r.cpu.processor))
  const pg = rows.map((r) => r.cpu.postgres)
  if (pg.some((s) => s === undefined)) {
    console.log(`CPU per run (median): processor ${processor.toFixed(2)} s; Postgres's not visible from here, so no bound from CPU`)
    return
  }
  const postgres = median(pg as number[])
  const total = processor + postgres
  const events = median(rows.map((r) => r.events))
  console.log(
    `CPU per run (median): processor ${processor.toFixed(2)} s + Postgres ${postgres.toFixed(2)} s = ${total.toFixed(2)} s; ` +
      `on ${cores} cores that work takes at least ${(total / cores).toFixed(2)} s however it overlaps, ` +
      `i.e. at most ${((events * cores) / total).toFixed(0)} events/s on this machine`,
  )
}

type StageMode = 'fetch' | 'apply'
const STAGE_MODES: readonly StageMode[] = ['fetch', 'apply']
const STAGE_LABEL: Record<StageMode, string> = {fetch: 'RPC fetch only', apply: 'fetch + decode + apply, no database'}
const STAGE_ENTRY = path.join(__dirname, 'ingest-stage.js')

/** What ingest-stage.ts prints: logs seen, seconds from process start and CPU seconds at the head block's batch. */
interface StageResult {
  logs: number
  seconds: number
  cpuSeconds: number
}

/** One ceiling run in its own process (see ingest-stage.ts); every block final, so no rollback log is kept. */
async function runStage(mode: StageMode, head: number, rpcUrl: string, contractsFile: string): Promise<StageResult> {
  const {stdout} = await promisify(execFile)(process.execPath, [STAGE_ENTRY, mode, String(head)], {
    env: {...process.env, RPC_URL: rpcUrl, CONTRACTS_FILE: contractsFile, FINALITY_CONFIRMATIONS: '0'},
    timeout: 300_000,
    maxBuffer: 64 << 20,
  })
  const line = stdout.split('\n').find((l) => l.startsWith('{"logs"'))
  if (!line) throw new Error(`ingest-stage ${mode} printed no result:\n${stdout.slice(-2000)}`)
  return JSON.parse(line) as StageResult
}

/**
 * Polls the processor's status every 50 ms: when it first committed anything (process start-up excluded from the
 * steady-state figure) and when it reached `head`.
 */
async function pollUntilHeight(url: string, head: number, exited: Promise<unknown>): Promise<{firstCommitAt: number; doneAt: number}> {
  const c = new Client({connectionString: url})
  await c.connect()
  let ended = false
  void exited.then(() => (ended = true))
  try {
    let firstCommitAt = 0
    for (;;) {
      const {height} = await readIndexStatus(c)
      const now = Date.now()
      if (height >= 0 && !firstCommitAt) firstCommitAt = now
      if (height >= head) return {firstCommitAt, doneAt: now}
      if (ended) throw new Error(`processor exited at height ${height} before ${head}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  } finally {
    await c.end()
  }
}


main().catch((e) => {
  console.error(e)
  process.exit(1)
})
