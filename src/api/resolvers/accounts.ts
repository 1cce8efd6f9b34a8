import type {GraphQLResolveInfo} from 'graphql'
import DataLoader from 'dataloader'
import {defineList} from '../connections'
import {type ApiContext, checkBlock} from '../context'
import type {PageArgs} from '../pagination'
import {eventOf, loadById} from '../rows'
import {selectedNodeFields} from '../selection'
import {Params, type SortDirection} from '../sql'
import {balanceAt, delegateAt, votesAt} from './holdings-sql'
import {delegations, type HistoryFilters, transfers, votesCast, votingPowerHistory} from './history'

/** Query.account and its Holdings: latest state from token_holder, or recomputed as of `atBlock` (holdings-sql.ts). */

interface AccountParent {
  address: string
  atBlock: number | null
}

interface HoldingParent {
  token: string
  account: string
  block: number | null
  balance: string
  votes: string
  delegate: string | null
}

type HoldingKey = {token: string; account: string; block: number | null}

/** One statement per tick for all (token, account, block) asked for, whatever mix of latest and as-of. */
function holdingLoader(ctx: ApiContext) {
  return ctx.loader('holdings', () =>
    new DataLoader<HoldingKey, HoldingParent, string>(
      async (keys) => {
        const p = new Params()
        const tok = p.add(keys.map((k) => k.token), 'text[]')
        const acc = p.add(keys.map((k) => k.account), 'text[]')
        const blk = p.add(keys.map((k) => k.block), 'int[]')
        // Latest: the token_holder row; as of a block: recomputed from history. Missing rows are all-zero holdings.
        const rows = await ctx.query<{i: number; balance: string; votes: string; delegate: string | null}>(
          `SELECT k.i, CASE WHEN k.blk IS NULL THEN coalesce(h.balance, 0) ELSE ${balanceAt('k.token', 'k.account', 'k.blk')} END::text AS balance,
                  CASE WHEN k.blk IS NULL THEN coalesce(h.votes, 0) ELSE ${votesAt('k.token', 'k.account', 'k.blk')} END::text AS votes,
                  CASE WHEN k.blk IS NULL THEN h.delegate ELSE ${delegateAt('k.token', 'k.account', 'k.blk')} END AS delegate
           FROM unnest(${tok}, ${acc}, ${blk}) WITH ORDINALITY AS k(token, account, blk, i)
           LEFT JOIN token_holder h ON k.blk IS NULL AND h.id = k.token || '-' || k.account
           ORDER BY k.i`,
          p,
        )
        return keys.map((k, i) => {
          const r = rows[i]
          return {...k, balance: r?.balance ?? '0', votes: r?.votes ?? '0', delegate: r?.delegate ?? null}
        })
      },
      {cacheKeyFn: (k) => `${k.token}|${k.account}|${k.block ?? ''}`},
    ),
  )
}

/** Delegators of `account` in `token`: parent "token|account"; the filter is the block (null = latest). */
const delegators = defineList<{block: number | null}>({
  name: 'delegators',
  keyset: {kind: 'delegators', columns: [['s."address"', 'text']], direction: 'ASC', key: (r) => [String(r.address)]},
  set(p, f) {
    const token = `split_part(p.parent, '|', 1)`
    const delegate = `split_part(p.parent, '|', 2)`
    if (f.block === null) {
      return `SELECT h.account_id AS address, h.balance::text AS balance FROM token_holder h
              WHERE h.token_id = ${token} AND h.delegate = ${delegate}`
    }
    const b = p.add(f.block, 'int')
    // Accounts that ever delegated to `delegate` up to b, kept when their latest choice up to b is still `delegate`.
    return `SELECT d.delegator AS address, ${balanceAt(token, 'd.delegator', b)}::text AS balance FROM (
              SELECT DISTINCT ON (c.delegator) c.delegator, c.to_delegate FROM delegate_change c
              WHERE c.token = ${token} AND c.block_number <= ${b} AND c.delegator IN (
                SELECT c2.delegator FROM delegate_change c2 WHERE c2.to_delegate = ${delegate} AND c2.token = ${token} AND c2.block_number <= ${b})
              ORDER BY c.delegator, c.id DESC) d
            WHERE d.to_delegate = ${delegate}`
  },
})

type HistoryArgs = PageArgs & {token?: string | null; order: SortDirection; direction?: 'ANY' | 'IN' | 'OUT'}

const historyOf = (a: AccountParent, args: HistoryArgs): HistoryFilters => ({
  token: args.token ?? null,
  block: a.atBlock,
  ...(args.direction ? {direction: args.direction} : {}),
})

export const accountResolvers = {
  Query: {
    async account(_: unknown, args: {address: string; atBlock?: number | null}, ctx: ApiContext): Promise<AccountParent> {
      const atBlock = await checkBlock(ctx, args.atBlock)
      return {address: args.address, atBlock}
    },
  },
  Account: {
    // Resolved only when asked for: a history page needs no index status.
    asOfBlock: async (a: AccountParent, _: unknown, ctx: ApiContext) => a.atBlock ?? (await ctx.indexStatus()).height,
    async firstSeenBlock(a: AccountParent, _: unknown, ctx: ApiContext): Promise<number | null> {
      const rows = await ctx.query<{b: number}>(`SELECT first_seen_block AS b FROM account WHERE id = $1`, [a.address])
      const b = rows[0]?.b
      return b === undefined || (a.atBlock !== null && b > a.atBlock) ? null : b
    },
    async holdings(a: AccountParent, _: unknown, ctx: ApiContext): Promise<HoldingParent[]> {
      const tokens = await ctx.query<{id: string}>(`SELECT id FROM token ORDER BY id`, [])
      return holdingLoader(ctx).loadMany(tokens.map((t) => ({token: t.id, account: a.address, block: a.atBlock}))) as Promise<HoldingParent[]>
    },
    votingPowerHistory: (a: AccountParent, args: HistoryArgs, ctx: ApiContext, info: GraphQLResolveInfo) =>
      votingPowerHistory[args.order](ctx, a.address, {...historyOf(a, args), fields: selectedNodeFields(info) ?? null}, args),
    transfers: (a: AccountParent, args: HistoryArgs, ctx: ApiContext) => transfers[args.order](ctx, a.address, historyOf(a, args), args),
    delegations: (a: AccountParent, args: HistoryArgs, ctx: ApiContext) => delegations[args.order](ctx, a.address, historyOf(a, args), args),
    votes: (a: AccountParent, args: HistoryArgs, ctx: ApiContext) => votesCast[args.order](ctx, a.address, historyOf(a, {...args, token: null}), args),
  },
  Holding: {
    token: (h: HoldingParent, _: unknown, ctx: ApiContext) => loadById(ctx, 'token').load(h.token),
    delegators: (h: HoldingParent, args: PageArgs, ctx: ApiContext) => delegators(ctx, `${h.token}|${h.account}`, {block: h.block}, args),
  },
  Transfer: {event: eventOf('id')},
  DelegateChange: {event: eventOf('id')},
  VotingPowerChange: {event: eventOf('id')},
}
