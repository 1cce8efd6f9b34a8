import DataLoader from 'dataloader'
import {defineList, ROOT, textKeyset} from '../connections'
import type {ApiContext} from '../context'
import type {PageArgs} from '../pagination'
import {columns, COLS, eventOf, loadById, type Row, selectFrom} from '../rows'
import type {Params} from '../sql'
import {contractScopedId} from './ids'
import {payoutList} from './rewards'

/** Models, versions, contributions and validations; Contributor is one address's view of the same rows. */

interface ContributionFilters {
  contributor: string | null
  status: string | null
  kind: string | null
}

type ContributionWhere = {contributor?: string | null; status?: string | null; kind?: string | null} | null | undefined

const contributionFilters = (w: ContributionWhere): ContributionFilters => ({
  contributor: w?.contributor ?? null,
  status: w?.status ?? null,
  kind: w?.kind ?? null,
})

function filterSql(p: Params, f: ContributionFilters): string {
  return (
    (f.contributor ? ` AND t.contributor = ${p.add(f.contributor, 'text')}` : '') +
    (f.status ? ` AND t.status = ${p.add(f.status, 'text')}` : '') +
    (f.kind ? ` AND t.kind = ${p.add(f.kind, 'text')}` : '')
  )
}

const models = defineList<{registry: string | null; owner: string | null}>({
  name: 'models',
  keyset: textKeyset('models', 'eventId'),
  set: (p, f) =>
    `${selectFrom('model')} WHERE TRUE` +
    (f.registry ? ` AND t.registry = ${p.add(f.registry, 'text')}` : '') +
    (f.owner ? ` AND t.owner = ${p.add(f.owner, 'text')}` : ''),
})

const versions = defineList<null>({
  name: 'modelVersions',
  keyset: textKeyset('modelVersions', 'eventId'),
  set: () => `${selectFrom('modelVersion')} WHERE t.model_id = p.parent`,
})

/** Contributions of a model (parent: Model.id). */
const modelContributions = defineList<ContributionFilters>({
  name: 'modelContributions',
  keyset: textKeyset('contributions', 'eventId'),
  set: (p, f) => `${selectFrom('contribution')} WHERE t.model_id = p.parent${filterSql(p, f)}`,
})

/** Contributions of an address (parent: the address). */
const contributorContributions = defineList<ContributionFilters>({
  name: 'contributorContributions',
  keyset: textKeyset('contributions', 'eventId'),
  set: (p, f) => `${selectFrom('contribution')} WHERE t.contributor = p.parent${filterSql(p, f)}`,
})

const validationsJoined = (condition: string) =>
  `SELECT ${columns('v', COLS.validation)} FROM validation v JOIN contribution t ON t.id = v.contribution_id WHERE ${condition}`

const modelValidations = defineList<null>({
  name: 'modelValidations',
  keyset: textKeyset('validations', 'id'),
  set: () => validationsJoined('t.model_id = p.parent'),
})

const validationsReceived = defineList<null>({
  name: 'validationsReceived',
  keyset: textKeyset('validations', 'id'),
  set: () => validationsJoined('t.contributor = p.parent'),
})

/** Validations per contribution: a short list (one per validator at most), batched per tick. */
function validationsOf(ctx: ApiContext) {
  return ctx.loader('validationsOf', () =>
    new DataLoader<string, Row[], string>(async (ids) => {
      const rows = await ctx.query<Row>(
        `SELECT ${columns('v', COLS.validation)} FROM validation v WHERE v.contribution_id = ANY($1::text[]) ORDER BY v.id`,
        [ids],
      )
      const byContribution = new Map<string, Row[]>(ids.map((id) => [id, []]))
      for (const r of rows) byContribution.get(String(r.contributionId))?.push(r)
      return ids.map((id) => byContribution.get(id) ?? [])
    }),
  )
}

export const modelResolvers = {
  Query: {
    models: (_: unknown, args: PageArgs & {registry?: string | null; owner?: string | null}, ctx: ApiContext) =>
      models(ctx, ROOT, {registry: args.registry ?? null, owner: args.owner ?? null}, args),
    model: (_: unknown, args: {id: string}, ctx: ApiContext) => loadById(ctx, 'model').load(contractScopedId(args.id, 'Model', 'id')),
    contributor: (_: unknown, args: {address: string}) => ({address: args.address}),
  },
  Model: {
    event: eventOf('eventId'),
    versions: (m: Row, args: PageArgs, ctx: ApiContext) => versions(ctx, m.id, null, args),
    contributions: (m: Row, args: PageArgs & {where?: ContributionWhere}, ctx: ApiContext) =>
      modelContributions(ctx, m.id, contributionFilters(args.where), args),
    validations: (m: Row, args: PageArgs, ctx: ApiContext) => modelValidations(ctx, m.id, null, args),
  },
  ModelVersion: {
    model: (v: Row, _: unknown, ctx: ApiContext) => loadById(ctx, 'model').load(String(v.modelId)),
    parent: (v: Row, _: unknown, ctx: ApiContext) => (v.parentId == null ? null : loadById(ctx, 'modelVersion').load(String(v.parentId))),
    event: eventOf('eventId'),
  },
  Contribution: {
    model: (c: Row, _: unknown, ctx: ApiContext) => loadById(ctx, 'model').load(String(c.modelId)),
    event: eventOf('eventId'),
    validations: (c: Row, _: unknown, ctx: ApiContext) => validationsOf(ctx).load(c.id),
  },
  Validation: {
    contribution: (v: Row, _: unknown, ctx: ApiContext) => loadById(ctx, 'contribution').load(String(v.contributionId)),
    event: eventOf('id'),
  },
  Contributor: {
    contributions: (c: {address: string}, args: PageArgs & {where?: ContributionWhere}, ctx: ApiContext) =>
      contributorContributions(ctx, c.address, contributionFilters(args.where), args),
    validationsReceived: (c: {address: string}, args: PageArgs, ctx: ApiContext) => validationsReceived(ctx, c.address, null, args),
    payouts: (c: {address: string}, args: PageArgs, ctx: ApiContext) => payoutList(ctx, ROOT, {recipient: c.address, epoch: null}, args),
    async totalRewards(c: {address: string}, _: unknown, ctx: ApiContext): Promise<string> {
      const rows = await ctx.query<{s: string}>(`SELECT coalesce(sum(amount), 0)::text AS s FROM reward_payout WHERE recipient = $1`, [c.address])
      return rows[0]?.s ?? '0'
    },
  },
}
