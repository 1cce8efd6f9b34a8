import {type Address, getAddress, zeroAddress} from 'viem'
import type {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type IndexedDevnet, startIndexedDevnet} from '../test-support/indexed-devnet'
import {chainClient, loadAbi} from '../verify/chain-reader'
import {createApiPool} from './db'
import {gqlOk, TEST_API_CONFIG} from './testing'
import {type Api, createApi} from './yoga'

/**
 * Balances, voting power, delegates and rankings served by the API equal chain truth read over RPC (balanceOf,
 * getVotes, delegates, totalSupply as of a block), now and at past blocks: the as-of-block answers are recomputed
 * from history by SQL, so this checks that arithmetic against the contract itself.
 */
describe('accounts and holders against chain truth', () => {
  let net: IndexedDevnet
  let pool: Pool
  let api: Api
  let accounts: string[]
  let blocks: number[]
  const abi = loadAbi('DeAIToken')

  beforeAll(async () => {
    net = await startIndexedDevnet()
    // net.close() ends this pool and then drops the database WITH (FORCE): a client still closing gets a FATAL
    // "terminating connection" that, without a listener, surfaces as an unhandled error of the test file.
    net.pool.on('error', () => undefined)
    pool = createApiPool(net.db.url, {statementTimeoutMs: 10_000})
    api = createApi({pool, config: TEST_API_CONFIG})
    accounts = [...new Set([...net.scenario.accounts, ...net.scenario.delegates, net.deployment.deployer].map((a) => a.toLowerCase()))]
    const {fromBlock, toBlock} = net.scenario
    // Three past blocks spread over the scenario (distribution, delegation, governance phases) and the head.
    blocks = [0.3, 0.55, 0.8].map((f) => Math.floor(fromBlock + (toBlock - fromBlock) * f))
  })
  afterAll(async () => {
    await pool?.end()
    await net?.close()
  })

  const read = (fn: 'balanceOf' | 'getVotes' | 'delegates' | 'totalSupply', block: number, account?: string) =>
    chainClient(net.anvil.rpcUrl).readContract({
      address: net.deployment.token as Address,
      abi,
      functionName: fn,
      args: account === undefined ? [] : [getAddress(account)],
      blockNumber: BigInt(block),
    }) as Promise<bigint | string>

  const HOLDING = `address asOfBlock holdings { token { address } balance votes delegate }`

  it('serves the index at the chain head', async () => {
    const data = await gqlOk(api, `{ indexStatus { height finalizedHeight hash } }`)
    expect(data.indexStatus.height).toBe(net.head)
    expect(data.indexStatus.finalizedHeight).toBeLessThanOrEqual(net.head)
  })

  it('account(address) and account(address, atBlock) equal balanceOf / getVotes / delegates at that block', async () => {
    let nonZeroVotes = 0
    for (const block of [...blocks, null]) {
      const at = block ?? net.head
      await Promise.all(
        accounts.map(async (a) => {
          const q = `query($a: Address!, $b: Int) { account(address: $a, atBlock: $b) { ${HOLDING} } }`
          const {account} = await gqlOk(api, q, {a: getAddress(a), b: block})
          expect(account.address).toBe(getAddress(a))
          expect(account.asOfBlock).toBe(at)
          const h = account.holdings[0]
          expect(h.token.address).toBe(getAddress(net.deployment.token))
          const [balance, votes, delegate] = await Promise.all([read('balanceOf', at, a), read('getVotes', at, a), read('delegates', at, a)])
          expect({a, at, balance: h.balance, votes: h.votes, delegate: h.delegate ?? zeroAddress}).toEqual({
            a,
            at,
            balance: String(balance),
            votes: String(votes),
            delegate: getAddress(String(delegate)),
          })
          if (votes !== 0n) nonZeroVotes++
        }),
      )
    }
    expect(nonZeroVotes).toBeGreaterThan(net.scenario.delegates.length) // delegates with power were compared
  })

  it('topHolders by balance and by votes, paged, equal the chain ranking and shares at past blocks and now', async () => {
    // Every address that ever held or was delegated tokens (contracts such as the treasury included); values from chain.
    const candidates = await pool.query<{a: string}>(
      `SELECT "to" AS a FROM transfer UNION SELECT delegate FROM voting_power_change UNION SELECT unnest($1::text[])`,
      [accounts],
    )
    const everyone = candidates.rows.map((r) => r.a).filter((a) => a !== zeroAddress)
    for (const block of [blocks[0]!, blocks[2]!, null]) {
      const at = block ?? net.head
      for (const by of ['BALANCE', 'VOTES'] as const) {
        const fn = by === 'BALANCE' ? 'balanceOf' : 'getVotes'
        const truth = (await Promise.all(everyone.map(async (a) => ({a, v: BigInt(await read(fn, at, a))})))).filter((x) => x.v > 0n)
        truth.sort((x, y) => (x.v === y.v ? (x.a < y.a ? 1 : -1) : x.v < y.v ? 1 : -1))
        const total = by === 'BALANCE' ? BigInt(await read('totalSupply', at)) : truth.reduce((s, x) => s + x.v, 0n)

        const got: {address: string; balance: string; votes: string; share: number}[] = []
        let after: string | null = null
        let pages = 0
        for (;;) {
          const q = `query($t: Address!, $by: HolderRanking!, $b: Int, $after: String) {
            topHolders(token: $t, by: $by, atBlock: $b, first: 7, after: $after) {
              asOfBlock total totalCount pageInfo { hasNextPage endCursor } edges { node { address balance votes share } }
            } }`
          const {topHolders: page}: {topHolders: any} = await gqlOk(api, q, {t: net.deployment.token, by, b: block, after})
          expect(page.asOfBlock).toBe(at)
          expect(page.total).toBe(String(total))
          expect(page.totalCount).toBe(truth.length)
          got.push(...page.edges.map((e: {node: (typeof got)[number]}) => e.node))
          pages++
          if (!page.pageInfo.hasNextPage) break
          after = page.pageInfo.endCursor
        }
        expect(pages).toBe(Math.ceil(truth.length / 7))
        expect(got.map((h) => [h.address, by === 'BALANCE' ? h.balance : h.votes])).toEqual(truth.map((x) => [getAddress(x.a), String(x.v)]))
        for (const [i, h] of got.entries()) expect(h.share).toBeCloseTo(Number(truth[i]!.v) / Number(total), 12)
      }
    }
  })

  it('delegators of a delegate at a past block and now equal the accounts whose delegates() names it', async () => {
    const delegate = net.scenario.delegates[0]!.toLowerCase()
    for (const block of [blocks[1]!, null]) {
      const at = block ?? net.head
      const truth: {address: string; balance: string}[] = []
      for (const a of accounts) {
        if (String(await read('delegates', at, a)).toLowerCase() === delegate) {
          truth.push({address: getAddress(a), balance: String(await read('balanceOf', at, a))})
        }
      }
      truth.sort((x, y) => (x.address.toLowerCase() < y.address.toLowerCase() ? -1 : 1))
      const q = `query($a: Address!, $b: Int) { account(address: $a, atBlock: $b) {
        holdings { delegators(first: 1000) { totalCount edges { node { address balance } } } } } }`
      const {account} = await gqlOk(api, q, {a: delegate, b: block})
      const d = account.holdings[0].delegators
      expect(d.totalCount).toBe(truth.length)
      expect(d.edges.map((e: {node: unknown}) => e.node)).toEqual(truth)
      expect(truth.length).toBeGreaterThan(1)
    }
  })

  it('history connections page through the rows, cut at atBlock, ending at the getVotes value', async () => {
    const delegate = net.scenario.delegates[0]!.toLowerCase()
    const block = blocks[2]!
    const seen: {newVotes: string; blockNumber: number}[] = []
    let after: string | null = null
    for (;;) {
      const q = `query($a: Address!, $b: Int, $after: String) { account(address: $a, atBlock: $b) {
        votingPowerHistory(first: 4, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { newVotes blockNumber event { eventName args } } } }
        transfers(direction: IN) { totalCount } delegations { totalCount } } }`
      const {account}: {account: any} = await gqlOk(api, q, {a: delegate, b: block, after})
      const h: any = account.votingPowerHistory
      for (const e of h.edges) {
        expect(e.node.event.eventName).toBe('DelegateVotesChanged')
        expect(e.node.event.args.newVotes).toBe(e.node.newVotes)
      }
      seen.push(...h.edges.map((e: {node: (typeof seen)[number]}) => e.node))
      if (!h.pageInfo.hasNextPage) {
        expect(h.totalCount).toBe(seen.length)
        const rows = await pool.query(`SELECT count(*)::int AS n FROM transfer WHERE "to" = $1 AND block_number <= $2`, [delegate, block])
        expect(account.transfers.totalCount).toBe(rows.rows[0].n)
        break
      }
      after = h.pageInfo.endCursor
    }
    expect(seen.every((s) => s.blockNumber <= block)).toBe(true)
    expect(seen.at(-1)!.newVotes).toBe(String(await read('getVotes', block, delegate)))
  })
})
