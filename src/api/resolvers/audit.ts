import type {ApiContext} from '../context'
import {badInput} from '../errors'
import {type Keyset, type PageArgs, readPage, toConnection} from '../pagination'
import {columns, COLS, loadById, type Row} from '../rows'
import {Params} from '../sql'
import {trailCountSql, trailPageSql, type TrailTarget} from './audit-sql'
import {contractScopedId} from './ids'

/** auditTrail and auditEvent: the raw evidence, in chain order (audit ids sort in chain order). */

const trailKeyset: Keyset<Row> = {kind: 'auditTrail', columns: [['t.id', 'text']], direction: 'ASC', key: (r) => [r.id]}

type TrailArgs = PageArgs & {address?: string | null; proposalId?: string | null; modelId?: string | null}

function targetOf(args: TrailArgs): TrailTarget {
  const given = [args.address, args.proposalId, args.modelId].filter((v) => v != null)
  if (given.length !== 1) throw badInput('auditTrail needs exactly one of address, proposalId or modelId')
  if (args.address != null) return {address: args.address}
  if (args.proposalId != null) return {proposal: contractScopedId(args.proposalId, 'Proposal', 'proposalId')}
  return {model: contractScopedId(args.modelId!, 'Model', 'modelId')}
}

export const auditResolvers = {
  Query: {
    async auditTrail(_: unknown, args: TrailArgs, ctx: ApiContext) {
      const target = targetOf(args)
      const page = readPage(args, trailKeyset, ctx.settings, ctx.budget)
      const p = new Params()
      const sql = trailPageSql(p, target, page.after?.[0] as string | undefined, page.limit + 1, columns('t', COLS.auditEvent))
      const rows = await ctx.query<Row>(sql, p)
      return toConnection(rows, page, trailKeyset, async () => {
        const c = new Params()
        return (await ctx.query<{n: number}>(trailCountSql(c, target), c))[0]?.n ?? 0
      })
    },
    auditEvent: (_: unknown, args: {id: string}, ctx: ApiContext) => loadById(ctx, 'auditEvent').load(args.id),
  },
}
