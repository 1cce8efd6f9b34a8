import type {GraphQLResolveInfo} from 'graphql'
import {defineList, ROOT} from '../connections'
import {type ApiContext, checkBlock} from '../context'
import {badInput} from '../errors'
import type {Keyset, PageArgs} from '../pagination'
import {columns, columnsFor, COLS, type Row} from '../rows'
import {selectedNodeFields} from '../selection'
import {Params} from '../sql'

/** Analytics results written by src/analytics (metric_value, lorenz_point, fairness_entry), with provenance. */

interface MetricFilters {
  metric: string | null
  distribution: string | null
  scopeKind: string | null
  scopeId: string | null
  fromBlock: number | null
  toBlock: number | null
  /** Node fields selected (selection.ts); null: all columns. */
  fields: string[] | null
}

/** Filter → column, a fixed map: request keys never reach the SQL text. */
const METRIC_COLUMNS = {metric: 'metric', distribution: 'distribution', scopeKind: 'scope_kind', scopeId: 'scope_id'} as const

const byBlock: Keyset<Row> = {
  kind: 'metricValues',
  columns: [
    ['s."asOfBlock"', 'int'],
    ['s."id"', 'text'],
  ],
  direction: 'ASC',
  key: (r) => [Number(r.asOfBlock), String(r.id)],
}

const metricValues = defineList<MetricFilters>({
  name: 'metricValues',
  keyset: byBlock,
  set(p, f) {
    const where = ['TRUE']
    for (const [field, column] of Object.entries(METRIC_COLUMNS) as [keyof typeof METRIC_COLUMNS, string][]) {
      const v = f[field]
      if (v !== null) where.push(`t.${column} = ${p.add(v, 'text')}`)
    }
    if (f.fromBlock !== null) where.push(`t.as_of_block >= ${p.add(f.fromBlock, 'int')}`)
    if (f.toBlock !== null) where.push(`t.as_of_block <= ${p.add(f.toBlock, 'int')}`)
    return `SELECT ${columnsFor('t', COLS.metricValue, f.fields, ['id', 'asOfBlock'])} FROM metric_value t WHERE ${where.join(' AND ')}`
  },
})

const FAIRNESS_COLS =
  'contributor contribution_value contribution_share reward_amount reward_share ratio verdict input_digest job_version'

const fairness = defineList<{scopeKind: string; scopeId: string; block: number}>({
  name: 'fairness',
  keyset: {kind: 'fairness', columns: [['s."contributor"', 'text']], direction: 'ASC', key: (r) => [String(r.contributor)]},
  set: (p, f) =>
    `SELECT ${columns('t', FAIRNESS_COLS)} FROM fairness_entry t
     WHERE t.scope_kind = ${p.add(f.scopeKind, 'text')} AND t.scope_id = ${p.add(f.scopeId, 'text')} AND t.as_of_block = ${p.add(f.block, 'int')}`,
})

const lower = (v: string | null | undefined) => (v == null ? null : v.trim().toLowerCase())

/** Latest block ≤ atBlock with rows for the scope, or null. */
async function latestBlock(ctx: ApiContext, table: 'lorenz_point' | 'fairness_entry', scope: Record<string, string>, atBlock: number | null) {
  const p = new Params()
  const where = Object.entries(scope).map(([column, v]) => `${column} = ${p.add(v, 'text')}`)
  if (atBlock !== null) where.push(`as_of_block <= ${p.add(atBlock, 'int')}`)
  const rows = await ctx.query<{b: number | null}>(`SELECT max(as_of_block) AS b FROM ${table} WHERE ${where.join(' AND ')}`, p)
  return rows[0]?.b ?? null
}

/** numeric columns arrive as text; Float fields want numbers (null stays null). */
const float = (field: string) => (r: Row) => (r[field] == null ? null : Number(r[field]))

export const analyticsResolvers = {
  Query: {
    async metricValues(
      _: unknown,
      args: PageArgs & {where: Partial<Record<keyof typeof METRIC_COLUMNS, string | null>>; fromBlock?: number | null; toBlock?: number | null},
      ctx: ApiContext,
      info: GraphQLResolveInfo,
    ) {
      for (const [name, v] of [['fromBlock', args.fromBlock], ['toBlock', args.toBlock]] as const) {
        if (v != null && v < 0) throw badInput(`${name} must be ≥ 0, got ${v}`, {argument: name})
      }
      if (args.fromBlock != null && args.toBlock != null && args.fromBlock > args.toBlock) {
        throw badInput(`fromBlock ${args.fromBlock} is above toBlock ${args.toBlock}`, {argument: 'fromBlock'})
      }
      const w = args.where
      const filters: MetricFilters = {
        metric: w.metric ?? null,
        distribution: w.distribution ?? null,
        scopeKind: w.scopeKind ?? null,
        scopeId: lower(w.scopeId),
        fromBlock: args.fromBlock ?? null,
        toBlock: args.toBlock ?? null,
        fields: selectedNodeFields(info) ?? null,
      }
      return metricValues(ctx, ROOT, filters, args)
    },
    async lorenzCurve(_: unknown, args: {distribution: string; scopeKind: string; scopeId: string; atBlock?: number | null}, ctx: ApiContext) {
      const atBlock = await checkBlock(ctx, args.atBlock)
      const scope = {distribution: args.distribution, scope_kind: args.scopeKind, scope_id: lower(args.scopeId)!}
      const block = await latestBlock(ctx, 'lorenz_point', scope, atBlock)
      if (block === null) return null
      const points = await ctx.query<{x: string; y: string; inputDigest: string; jobVersion: string}>(
        `SELECT x, y, input_digest AS "inputDigest", job_version AS "jobVersion" FROM lorenz_point
         WHERE distribution = $1 AND scope_kind = $2 AND scope_id = $3 AND as_of_block = $4 ORDER BY point_index`,
        [scope.distribution, scope.scope_kind, scope.scope_id, block],
      )
      return {
        distribution: args.distribution,
        scopeKind: args.scopeKind,
        scopeId: scope.scope_id,
        asOfBlock: block,
        inputDigest: points[0]?.inputDigest ?? '',
        jobVersion: points[0]?.jobVersion ?? '',
        points: points.map((pt) => ({x: Number(pt.x), y: Number(pt.y)})),
      }
    },
    async fairnessTable(_: unknown, args: PageArgs & {scopeKind: string; scopeId: string; atBlock?: number | null}, ctx: ApiContext) {
      const atBlock = await checkBlock(ctx, args.atBlock)
      const scope = {scopeKind: args.scopeKind, scopeId: lower(args.scopeId)!}
      const block = await latestBlock(ctx, 'fairness_entry', {scope_kind: scope.scopeKind, scope_id: scope.scopeId}, atBlock)
      // No table yet: an empty page (the page arguments are still validated) and asOfBlock null.
      const conn = await fairness(ctx, ROOT, {...scope, block: block ?? -1}, args)
      return {...conn, asOfBlock: block}
    },
  },
  MetricValue: {value: float('value')},
  FairnessEntry: {contributionShare: float('contributionShare'), rewardShare: float('rewardShare'), ratio: float('ratio')},
}
