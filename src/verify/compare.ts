import {decodeEventLog, getAddress, toEventSelector, type Abi, type AbiEvent, type Address, type Log, type PublicClient} from 'viem'
import type {Pool} from 'pg'
import type {ContractsConfig} from '../processor/contracts-config'
import {CONTRACT_OF_KIND} from '../contracts/compile'
import {chainClient, getAllLogs, loadAbi} from './chain-reader'

export interface Mismatch {
  what: string
  chain: string
  index: string
}

export interface ComparisonReport {
  block: number
  /** How many values of each kind were compared. */
  checked: Record<string, number>
  mismatches: Mismatch[]
}


const STATES = ['PENDING', 'ACTIVE', 'CANCELED', 'DEFEATED', 'SUCCEEDED', 'QUEUED', 'EXPIRED', 'EXECUTED']

/**
 * Compares the indexed database with the chain at `block`: every account's balance, votes and delegate, each
 * token's supply, each proposal's state() and proposalVotes(), the count of every event kind per contract, and the
 * exact set of (tx hash, log index) in the audit log. Returns every difference instead of stopping at the first.
 */
export async function compareIndexWithChain(opts: {
  rpcUrl: string
  db: Pool
  contracts: ContractsConfig
  block: number
}): Promise<ComparisonReport> {
  const {db, contracts, block} = opts
  const client = chainClient(opts.rpcUrl)
  const report: ComparisonReport = {block, checked: {}, mismatches: []}
  const count = (k: string, n = 1) => (report.checked[k] = (report.checked[k] ?? 0) + n)
  const differ = (what: string, chain: unknown, index: unknown) => {
    if (String(chain) !== String(index)) report.mismatches.push({what, chain: String(chain), index: String(index)})
  }
  const blockNumber = BigInt(block)

  const logsByContract = new Map<string, Log[]>()
  for (const c of contracts.contracts) {
    logsByContract.set(c.address, await getAllLogs(client, c.address as Address, BigInt(c.startBlock), blockNumber))
  }

  await compareAuditLog(db, contracts, logsByContract, block, differ, count)
  for (const c of contracts.contracts) {
    if (c.kind === 'token') await compareToken(client, db, c.address as Address, logsByContract.get(c.address)!, blockNumber, differ, count)
    if (c.kind === 'governor') await compareGovernor(client, db, c.address as Address, logsByContract.get(c.address)!, blockNumber, differ, count)
  }
  return report
}

type Differ = (what: string, chain: unknown, index: unknown) => void
type Counter = (k: string, n?: number) => void

async function compareAuditLog(
  db: Pool,
  contracts: ContractsConfig,
  logsByContract: Map<string, Log[]>,
  block: number,
  differ: Differ,
  count: Counter,
): Promise<void> {
  const chainKeys = new Set<string>()
  const chainCounts = new Map<string, number>()
  for (const c of contracts.contracts) {
    const abi = loadAbi(CONTRACT_OF_KIND[c.kind])
    const names = new Map(abi.filter((x): x is AbiEvent => x.type === 'event').map((e) => [toEventSelector(e), e.name]))
    for (const log of logsByContract.get(c.address)!) {
      chainKeys.add(`${log.transactionHash}:${log.logIndex}`)
      const key = `${c.address} ${names.get(log.topics[0]!) ?? 'Unknown'}`
      chainCounts.set(key, (chainCounts.get(key) ?? 0) + 1)
    }
  }
  const rows = await db.query<{contract: string; event_name: string; n: string}>(
    `SELECT contract, event_name, count(*) AS n FROM audit_event WHERE block_number <= $1 GROUP BY 1, 2`,
    [block],
  )
  const indexCounts = new Map(rows.rows.map((r) => [`${r.contract} ${r.event_name}`, Number(r.n)]))
  for (const key of new Set([...chainCounts.keys(), ...indexCounts.keys()])) {
    differ(`event count ${key}`, chainCounts.get(key) ?? 0, indexCounts.get(key) ?? 0)
    count('event kinds')
  }
  const dup = await db.query(
    `SELECT tx_hash, log_index, count(*) FROM audit_event GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5`,
  )
  differ('duplicate (tx hash, log index) rows in audit_event', 0, dup.rowCount)
  const keys = await db.query<{k: string}>(`SELECT tx_hash || ':' || log_index AS k FROM audit_event WHERE block_number <= $1`, [block])
  const indexKeys = new Set(keys.rows.map((r) => r.k))
  const missing = [...chainKeys].filter((k) => !indexKeys.has(k))
  const extra = [...indexKeys].filter((k) => !chainKeys.has(k))
  differ('logs on chain missing from audit_event', 0, missing.length ? missing.slice(0, 5).join(',') : 0)
  differ('audit_event rows not on chain', 0, extra.length ? extra.slice(0, 5).join(',') : 0)
  count('audit rows', chainKeys.size)
}

async function compareToken(
  client: PublicClient,
  db: Pool,
  token: Address,
  logs: Log[],
  blockNumber: bigint,
  differ: Differ,
  count: Counter,
): Promise<void> {
  const abi = loadAbi('DeAIToken')
  const read = (functionName: string, args: unknown[] = []) =>
    client.readContract({address: token, abi, functionName, args, blockNumber}) as Promise<unknown>
  const accounts = new Set<string>()
  for (const log of logs) {
    const ev = safeDecode(abi, log)
    if (!ev) continue
    for (const key of ['from', 'to', 'delegator', 'fromDelegate', 'toDelegate', 'delegate']) {
      const v = ev.args[key]
      if (typeof v === 'string') accounts.add(v.toLowerCase())
    }
  }
  accounts.delete('0x0000000000000000000000000000000000000000')
  const t = await db.query(`SELECT total_supply::text AS s FROM token WHERE id = $1`, [token.toLowerCase()])
  differ(`totalSupply of ${token}`, await read('totalSupply'), t.rows[0]?.s ?? 'missing')
  count('token supplies')

  const holders = await db.query<{id: string; balance: string; votes: string; delegate: string | null}>(
    `SELECT id, balance::text, votes::text, delegate FROM token_holder WHERE token_id = $1`,
    [token.toLowerCase()],
  )
  const byAccount = new Map(holders.rows.map((h) => [h.id.split('-')[1]!, h]))
  for (const h of byAccount.keys()) accounts.add(h)
  const list = [...accounts].sort()
  const [balances, votes, delegates] = await Promise.all([
    Promise.all(list.map((a) => read('balanceOf', [getAddress(a)]))),
    Promise.all(list.map((a) => read('getVotes', [getAddress(a)]))),
    Promise.all(list.map((a) => read('delegates', [getAddress(a)]))),
  ])
  list.forEach((a, i) => {
    const h = byAccount.get(a)
    differ(`balanceOf(${a})`, balances[i], h?.balance ?? 0)
    differ(`getVotes(${a})`, votes[i], h?.votes ?? 0)
    const onChain = String(delegates[i]).toLowerCase()
    differ(`delegates(${a})`, onChain === '0x0000000000000000000000000000000000000000' ? 'none' : onChain, h?.delegate ?? 'none')
  })
  count('accounts', list.length)
}

async function compareGovernor(
  client: PublicClient,
  db: Pool,
  governor: Address,
  logs: Log[],
  blockNumber: bigint,
  differ: Differ,
  count: Counter,
): Promise<void> {
  const abi = loadAbi('DeAIGovernor')
  const ids: bigint[] = []
  for (const log of logs) {
    const ev = safeDecode(abi, log)
    if (ev?.eventName === 'ProposalCreated') ids.push(ev.args.proposalId as bigint)
  }
  const rows = await db.query<{proposal_id: string; state: string; for_votes: string; against_votes: string; abstain_votes: string}>(
    `SELECT proposal_id::text, state, for_votes::text, against_votes::text, abstain_votes::text FROM proposal WHERE governor_id = $1`,
    [governor.toLowerCase()],
  )
  const byId = new Map(rows.rows.map((r) => [r.proposal_id, r]))
  differ(`proposal count of ${governor}`, ids.length, rows.rowCount)
  for (const id of ids) {
    const read = (functionName: string) =>
      client.readContract({address: governor, abi, functionName, args: [id], blockNumber}) as Promise<unknown>
    const [state, votes] = await Promise.all([read('state'), read('proposalVotes')])
    const [against, forVotes, abstain] = votes as [bigint, bigint, bigint]
    const row = byId.get(id.toString())
    differ(`state(${id})`, STATES[Number(state)], row?.state ?? 'missing')
    differ(`proposalVotes(${id})`, `${forVotes}/${against}/${abstain}`, row ? `${row.for_votes}/${row.against_votes}/${row.abstain_votes}` : 'missing')
    count('proposals')
  }
}

function safeDecode(abi: Abi, log: Log): {eventName: string; args: Record<string, unknown>} | undefined {
  try {
    const ev = decodeEventLog({abi, data: log.data, topics: log.topics as any})
    return {eventName: String(ev.eventName), args: (ev.args ?? {}) as Record<string, unknown>}
  } catch {
    return undefined
  }
}
