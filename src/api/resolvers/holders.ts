import {type ApiContext, checkBlock} from '../context'
import {type Keyset, type PageArgs, pageSql, readPage, toConnection} from '../pagination'
import {Params} from '../sql'
import {holderColumnsSql, type Ranking, rankSetSql, rankTotalSql} from './holdings-sql'

/**
 * topHolders: a token's accounts ranked by balance or voting power, largest first, with each one's share of the
 * total at the same block. Latest: token_holder (indexed on (token_id, balance) and (token_id, votes)); as of a
 * block: one checkpoint lookup per account (holdings-sql.ts).
 *
 * One statement per request: the total (share's denominator) and the page come from the same ranked set, and the
 * columns that are not ranked on are looked up for the page's rows only.
 */
interface HolderRow {
  address: string
  rank: string
  balance: string
  votes: string
  delegate: string | null
}

/** Cursor kinds and shapes as before this resolver had its own SQL, so clients' cursors stay valid. */
const keyset = (by: Ranking): Keyset<HolderRow> => ({
  kind: `holders:${by}`,
  columns: [
    ['s.rank', 'numeric'],
    ['s.address', 'text'],
  ],
  direction: 'DESC',
  key: (r) => [r.rank, r.address],
})

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
      const ks = keyset(args.by)
      const page = readPage(args, ks, ctx.settings, ctx.budget)
      const p = new Params()
      const set = rankSetSql(p, args.token, args.by, block)
      const cut = pageSql(p, ks, page)
      const cols = holderColumnsSql(p, args.token, args.by, block)
      const totalSql = rankTotalSql(p, args.token, args.by, block)
      // As of a block the set is read twice (total and page) and costs a lookup per account: MATERIALIZED does those
      // once. Latest, it is token_holder itself: inlined, the page walks the (token_id, rank) index and stops early.
      // The LEFT JOIN keeps the total's row when the page is empty.
      const rows = await ctx.query<HolderRow & {total: string}>(
        `WITH ranked AS ${block === null ? 'NOT MATERIALIZED' : 'MATERIALIZED'} (SELECT * FROM (${set}) r WHERE r.rank > 0)
         SELECT tot.total, pg.* FROM (${totalSql}) tot
         LEFT JOIN LATERAL (
           SELECT s.address, s.rank::text AS rank, ${cols} FROM ranked s WHERE ${cut.after} ORDER BY ${cut.order} LIMIT ${cut.limit}
         ) pg ON TRUE
         ORDER BY pg.rank::numeric DESC, pg.address DESC`,
        p,
      )
      const total = rows[0]?.total ?? '0'
      const found = rows.filter((r) => r.address !== null).map((r) => ({...r, share: shareOf(r.rank, total)}))
      const conn = toConnection(found, page, ks, async () => {
        const c = new Params()
        const n = await ctx.query<{n: number}>(`SELECT count(*)::int AS n FROM (${rankSetSql(c, args.token, args.by, block)}) r WHERE r.rank > 0`, c)
        return n[0]?.n ?? 0
      })
      return {...conn, total, asOfBlock: block ?? (await ctx.indexStatus()).height}
    },
  },
}
