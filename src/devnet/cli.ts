/**
 * Devnet CLI: start anvil, deploy the protocol, play the scenario, write the indexer's contracts file, and
 * keep the node running (optionally with live activity) until Ctrl-C.
 *
 *   node lib/devnet/cli.js [--accounts N] [--events N] [--seed N] [--per-block N] [--out FILE]
 *                          [--port N] [--live-ms N] [--result FILE] [--exit]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { startAnvil } from './anvil'
import { deployProtocol, writeContractsConfig } from './deploy'
import { DEFAULT_PER_BLOCK, runScenario, startLiveActivity, type LiveActivity } from './scenario'

interface CliOptions {
  accounts: number
  events: number
  seed: number
  perBlock: number
  out: string
  port?: number
  liveMs: number
  result?: string
  exit: boolean
}

const USAGE = `usage: node lib/devnet/cli.js [--accounts N=40] [--events N=1500] [--seed N=1]
  [--per-block N=${DEFAULT_PER_BLOCK}] [--out FILE=.data/contracts.json] [--port N] [--live-ms N=0]
  [--result FILE] [--exit]`

export function parseArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = {
    accounts: 40, events: 1500, seed: 1, perBlock: DEFAULT_PER_BLOCK, out: '.data/contracts.json', liveMs: 0,
    exit: false,
  }
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v)
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = (): string | undefined => argv[++i]
    switch (flag) {
      case '--accounts': opts.accounts = int(flag, value()); break
      case '--events': opts.events = int(flag, value()); break
      case '--seed': opts.seed = int(flag, value()); break
      case '--per-block': opts.perBlock = int(flag, value()); break
      case '--port': opts.port = int(flag, value()); break
      case '--live-ms': opts.liveMs = int(flag, value()); break
      case '--out': opts.out = value() ?? ''; break
      case '--result': opts.result = value(); break
      case '--exit': opts.exit = true; break
      default: throw new Error(`unknown argument ${flag}\n${USAGE}`)
    }
  }
  if (!opts.out) throw new Error(`--out needs a file\n${USAGE}`)
  return opts
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const anvil = await startAnvil({ port: opts.port })
  let live: LiveActivity | undefined
  const shutdown = async (code: number): Promise<void> => {
    await live?.stop()
    await anvil.stop()
    process.exit(code)
  }
  process.once('SIGINT', () => void shutdown(0))
  process.once('SIGTERM', () => void shutdown(0))
  try {
    const deployment = await deployProtocol(anvil.rpcUrl)
    writeContractsConfig(deployment, opts.out)
    const t0 = Date.now()
    const r = await runScenario(anvil.rpcUrl, deployment, {
      seed: opts.seed, accounts: opts.accounts, events: opts.events, perBlock: opts.perBlock,
    })
    const seconds = (Date.now() - t0) / 1000
    if (opts.result) {
      mkdirSync(path.dirname(path.resolve(opts.result)), { recursive: true })
      writeFileSync(opts.result, `${JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`)
    }
    console.log([
      `RPC URL        ${anvil.rpcUrl} (chain ${deployment.chainId})`,
      `contracts file ${opts.out} (deployed from block ${deployment.startBlock})`,
      `scenario       seed ${r.seed}, ${r.accounts.length} accounts, ${r.logCount} events in ${r.txCount} txs, ` +
        `blocks ${r.fromBlock}..${r.toBlock} (${r.toBlock - r.fromBlock + 1}), ${seconds.toFixed(1)} s`,
      `insiders       ${r.insiders.join(' ')}`,
      `under-rewarded ${r.underRewarded.join(' ')}`,
      ...r.proposals.map((pr) => `proposal       ${pr.case.padEnd(20)} -> ${pr.expectedOutcome.padEnd(9)} ${pr.proposalId}`),
    ].join('\n'))
    if (opts.exit) return shutdown(0)
    if (opts.liveMs > 0) live = startLiveActivity(anvil.rpcUrl, deployment, { seed: opts.seed + 1, intervalMs: opts.liveMs })
    console.log(`anvil keeps running${live ? ` with live activity every ${opts.liveMs} ms` : ''}; Ctrl-C stops it`)
  } catch (e) {
    console.error(e instanceof Error ? e.message : e)
    await shutdown(1)
  }
}

if (require.main === module) void main()
