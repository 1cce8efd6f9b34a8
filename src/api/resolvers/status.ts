import type {ApiContext} from '../context'
import {loadById, selectFrom, type Row} from '../rows'

/** indexStatus and the protocol overview: small, whole-table aggregates (tokens and governors are a handful). */
export const statusResolvers = {
  Query: {
    indexStatus: (_: unknown, __: unknown, ctx: ApiContext) => ctx.freshIndexStatus(),
    protocol: () => ({}),
  },
  Protocol: {
    tokens: (_: unknown, __: unknown, ctx: ApiContext) => ctx.query(`${selectFrom('token')} ORDER BY t.id`, []),
    governors: (_: unknown, __: unknown, ctx: ApiContext) => ctx.query(`${selectFrom('governor')} ORDER BY t.id`, []),
    modelCount: (_: unknown, __: unknown, ctx: ApiContext) => count(ctx, 'model'),
    contributionCount: (_: unknown, __: unknown, ctx: ApiContext) => count(ctx, 'contribution'),
    rewardEpochCount: (_: unknown, __: unknown, ctx: ApiContext) => count(ctx, 'reward_epoch'),
    rewardPayoutCount: (_: unknown, __: unknown, ctx: ApiContext) => count(ctx, 'reward_payout'),
    totalRewardsFunded: (_: unknown, __: unknown, ctx: ApiContext) => sum(ctx, 'reward_funding'),
    totalRewardsPaid: (_: unknown, __: unknown, ctx: ApiContext) => sum(ctx, 'reward_payout'),
  },
  Token: {
    address: (t: Row) => t.id,
  },
  Governor: {
    address: (g: Row) => g.id,
    token: (g: Row, _: unknown, ctx: ApiContext) => loadById(ctx, 'token').load(String(g.tokenId)),
  },
}

type CountedTable = 'model' | 'contribution' | 'reward_epoch' | 'reward_payout'

async function count(ctx: ApiContext, table: CountedTable): Promise<number> {
  const rows = await ctx.query<{n: number}>(`SELECT count(*)::int AS n FROM "${table}"`, [])
  return rows[0]?.n ?? 0
}

/** Exact numeric sum as text (pg returns numeric as a string; never through a JS number). */
async function sum(ctx: ApiContext, table: 'reward_funding' | 'reward_payout'): Promise<string> {
  const rows = await ctx.query<{s: string}>(`SELECT coalesce(sum(amount), 0)::text AS s FROM "${table}"`, [])
  return rows[0]?.s ?? '0'
}
