import type {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {HOSTILE_STRING_BYTES, type HostileActivity, playHostileActivity} from '../devnet/hostile'
import {spawnProcessor} from '../processor/spawn'
import {type FaultDevnet, startFaultDevnet} from './fault-devnet'
import {expectIndexMatchesChain} from './invariant'

/**
 * Malformed and hostile chain data on the real devnet (src/devnet/hostile.ts), indexed by one unsupervised processor
 * run: it must reach the head without crashing (waitForHeight fails if the process exits). Expected per item:
 *  - logs the token's ABI cannot decode (ERC721-style Transfer with 4 topics, a Transfer with 5 bytes of data) are
 *    audit rows with eventName Transfer, a decodeError and the raw topics/data, and change no other table; an event
 *    outside the ABI and a log without topics are audit rows 'Unknown' with the reason;
 *  - logs of an unknown contract and of reverted transactions are not indexed at all;
 *  - 100 KB strings are stored whole; a zero-weight vote counts as a vote of weight 0; a proposal without votes has
 *    a 0/0/0 tally and its on-chain state; delegation loops end with the delegates and votes the chain has.
 * Then the invariant, which also compares every Transfer-kind event count, undecodable ones included.
 */
const SEED = 6161

describe('hostile chain data', () => {
  let devnet: FaultDevnet
  let pool: Pool
  let hostile: HostileActivity
  let head: number

  beforeAll(async () => {
    devnet = await startFaultDevnet(SEED)
    hostile = await playHostileActivity(devnet.anvil.rpcUrl, devnet.deployment, devnet.scenario.accounts)
    head = await devnet.head()
    const fresh = await devnet.freshDatabase('faults_hostile')
    pool = fresh.pool
    const processor = spawnProcessor({databaseUrl: fresh.db.url, rpcUrl: devnet.anvil.rpcUrl, contractsFile: devnet.contractsFile, stdio: 'pipe'})
    try {
      await processor.waitForHeight(head)
    } finally {
      await processor.stop()
    }
  })
  afterAll(async () => {
    await devnet?.close()
  })

  const auditRowsOf = async (txHash: string) =>
    (await pool.query<{id: string; event_name: string; contract: string; args: Record<string, unknown>}>(
      `SELECT id, event_name, contract, args FROM audit_event WHERE tx_hash = $1`, [txHash])).rows

  it('ERC721-style Transfer (4 topics) from the token: audit row with its decode error, nothing else changed', async () => {
    await expectUndecodableTransfer(hostile.erc721TransferTx, 4)
  })

  it('Transfer with 5 bytes of data from the token: audit row with its decode error, nothing else changed', async () => {
    await expectUndecodableTransfer(hostile.shortDataTransferTx, 3)
  })

  async function expectUndecodableTransfer(txHash: string, topics: number): Promise<void> {
    const rows = await auditRowsOf(txHash)
    expect(rows).toHaveLength(1)
    const row = rows[0]!
    expect(row.contract).toBe(devnet.deployment.token.toLowerCase())
    expect(row.event_name).toBe('Transfer')
    expect(typeof row.args.decodeError === 'string' && row.args.decodeError.length > 0, JSON.stringify(row.args)).toBe(true)
    expect(row.args.topics).toHaveLength(topics)
    expect(typeof row.args.data).toBe('string')
    const derived = await pool.query<{n: number}>(`SELECT count(*)::int AS n FROM transfer WHERE id = $1`, [row.id])
    expect(derived.rows[0]!.n).toBe(0)
    for (const who of hostile.bystanders) {
      const seen = await pool.query<{n: number}>(
        `SELECT (SELECT count(*) FROM account WHERE id = $1) + (SELECT count(*) FROM token_holder WHERE id LIKE '%' || $1) AS n`, [who])
      expect(Number(seen.rows[0]!.n), `${who} appears only in undecodable logs`).toBe(0)
    }
  }

  it('an event outside the token\'s ABI and a log with no topics: audit rows \'Unknown\' with the reason', async () => {
    for (const [tx, topics, reason] of [
      [hostile.unknownEventTx, 2, /not an event of the token ABI/],
      [hostile.anonymousLogTx, 0, /no topics/],
    ] as const) {
      const rows = await auditRowsOf(tx)
      expect(rows).toHaveLength(1)
      expect(rows[0]!.contract).toBe(devnet.deployment.token.toLowerCase())
      expect(rows[0]!.event_name).toBe('Unknown')
      expect(String(rows[0]!.args.decodeError)).toMatch(reason)
      expect(rows[0]!.args.topics).toHaveLength(topics)
    }
  })

  it('logs of an unknown contract are not indexed', async () => {
    expect(hostile.unknownContractTxs).toHaveLength(2)
    for (const tx of hostile.unknownContractTxs) expect(await auditRowsOf(tx)).toEqual([])
    const fromEmitter = await pool.query<{n: number}>(`SELECT count(*)::int AS n FROM audit_event WHERE contract = $1`, [hostile.emitter])
    expect(fromEmitter.rows[0]!.n).toBe(0)
  })

  it('reverted transactions (one emitted before reverting) leave no trace', async () => {
    expect(hostile.revertedTxs).toHaveLength(2)
    for (const tx of hostile.revertedTxs) expect(await auditRowsOf(tx)).toEqual([])
  })

  it('100 KB vote reason and model/version metadata URIs are stored whole', async () => {
    const vote = await pool.query<{len: number}>(`SELECT length(reason) AS len FROM vote WHERE tx_hash = $1`, [hostile.longReasonVoteTx])
    expect(vote.rows.map((r) => r.len)).toEqual([HOSTILE_STRING_BYTES])
    const model = await pool.query<{len: number}>(
      `SELECT length(m.metadata_uri) AS len FROM model m JOIN audit_event a ON a.id = m.event_id WHERE a.tx_hash = $1`, [hostile.longUriModelTx])
    expect(model.rows.map((r) => r.len)).toEqual([HOSTILE_STRING_BYTES])
    const version = await pool.query<{len: number}>(`SELECT length(metadata_uri) AS len FROM model_version WHERE tx_hash = $1`, [hostile.longUriVersionTx])
    expect(version.rows.map((r) => r.len)).toEqual([HOSTILE_STRING_BYTES])
    const audit = await auditRowsOf(hostile.longReasonVoteTx)
    expect(String(audit[0]?.args.reason ?? '').length).toBe(HOSTILE_STRING_BYTES)
  })

  it('a zero-weight vote is a vote of weight 0; a proposal without votes has a 0/0/0 tally', async () => {
    const zero = await pool.query<{weight: string; proposal: string}>(
      `SELECT v.weight::text AS weight, p.proposal_id::text AS proposal FROM vote v JOIN proposal p ON p.id = v.proposal_id WHERE v.voter = $1`,
      [hostile.zeroWeightVoter])
    expect(zero.rows).toEqual([{weight: '0', proposal: hostile.votedProposalId.toString()}])
    const unvoted = await pool.query<{tally: string; votes: number}>(
      `SELECT p.for_votes || '/' || p.against_votes || '/' || p.abstain_votes AS tally,
              (SELECT count(*)::int FROM vote v WHERE v.proposal_id = p.id) AS votes
         FROM proposal p WHERE p.proposal_id = $1`, [hostile.unvotedProposalId.toString()])
    expect(unvoted.rows).toEqual([{tally: '0/0/0', votes: 0}])
  })

  it('delegation loops end with the chain\'s delegates and votes', async () => {
    const [a, b] = hostile.loopAccounts.map((x) => x.toLowerCase())
    const rows = await pool.query<{id: string; delegate: string}>(
      `SELECT id, delegate FROM token_holder WHERE id IN ($1, $2) ORDER BY id`,
      [`${devnet.deployment.token.toLowerCase()}-${a}`, `${devnet.deployment.token.toLowerCase()}-${b}`])
    // After A→B + B→A, both to themselves, then A→B, B→A, A→A in one block: both delegate to A.
    expect(rows.rows.map((r) => r.delegate)).toEqual([a, a])
    const changes = await pool.query<{n: number}>(`SELECT count(*)::int AS n FROM delegate_change WHERE delegator IN ($1, $2)`, [a, b])
    expect(changes.rows[0]!.n).toBeGreaterThanOrEqual(7)
  })

  it('invariant: index equals chain truth, audit log without duplicates or gaps', async () => {
    await expectIndexMatchesChain({
      rpcUrl: devnet.anvil.rpcUrl,
      pool,
      contracts: devnet.contracts,
      head,
      atLeast: {accounts: devnet.scenario.accounts.length, auditRows: devnet.scenario.logCount, proposals: devnet.scenario.proposals.length + 2},
    })
  })
})
