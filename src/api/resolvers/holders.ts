import {defineList, ROOT} from '../connections'
import {type ApiContext, checkBlock} from '../context'
import type {Keyset, PageArgs} from '../pagination'
import type {Row} from '../rows'
import {Params} from '../sql'
import {holdersAtSql, holdersLatestSql} from './holdings-sql'

/**
 * topHolders: a token's accounts ranked by balance or voting power, largest first, with each one's share of the
 * total at the same block. Latest: token_holder (indexed on (token_id, balance) and (token_id, votes)); as of a
 * block: recomputed from history (holdings-sql.ts).
 */
type Ranking = 'BALANCE' | 'VOTES'

interface HolderFilters {
  token: string
  block: number | null
  by: Ranking
}

/** Ranking → column: the only place the sort column is chosen, from this fixed map. */
const RANK_COLUMN: Record<Ranking, 'balance' | 'votes'> = {BALANCE: 'balance', VOTES: 'votes'}

function holderSet(p: Params, f: HolderFilters): string {
  const set = f.block === null ? holdersLatestSql(p, f.token) : holdersAtSql(p, f.token, f.block)
  return `SELECT * FROM (${set}) hs WHERE hs.${RANK_COLUMN[f.by]} > 0`
}

const keyset = (by: Ranking): Keyset<Row> => ({
  kind: `holders:${by}`,
  columns: [
    [`s."${RANK_COLUMN[by]}"`, 'numeric'],
    ['s."address"', 'text'],
  ],
  direction: 'DESC',
  key: (r) => [String(r[RANK_COLUMN[by]]), String(r.address)],
})

const lists = {
  BALANCE: defineList<HolderFilters>({name: 'holders:balance', keyset: keyset('BALANCE'), set: holderSet}),
  VOTES: defineList<HolderFilters>({name: 'holders:votes', keyset: keyset('VOTES'), set: holderSet}),
}

/** share = value / total to ~18 significant digits, computed on exact integers. */
export function shareOf(value: string, total: string): number {
  const t = BigInt(total)
  if (t === 0n) return 0
  const scale = 10n ** 18n
  return Number((BigInt(value) * scale) / t) / 1e18
}

export const holderResolvers = {
  Query: {
    async topHolders(_: unknown, args: PageArgs & {token: string; by: Ranking; atBlock?: number | null}, ctx: ApiContext) {
      const block = await checkBlock(ctx, args.atBlock)
      const filters: HolderFilters = {token: args.token, block, by: args.by}
      const p = new Params()
      // The denominator of `share`, over the same set the ranking pages through.
      const [conn, totals] = await Promise.all([
        lists[args.by](ctx, ROOT, filters, args),
        ctx.query<{total: string}>(`SELECT coalesce(sum(s.${RANK_COLUMN[args.by]}), 0)::text AS total FROM (${holderSet(p, filters)}) s`, p),
      ])
      const total = totals[0]?.total ?? '0'
      const asOfBlock = block ?? (await ctx.indexStatus()).height
      const column = RANK_COLUMN[args.by]
      const edges = conn.edges.map((e) => ({...e, node: {...e.node, share: shareOf(String(e.node[column]), total)}}))
      return {...conn, edges, total, asOfBlock}
    },
  },
}
