import DataLoader from 'dataloader'
import {defineList, ROOT, textKeyset} from '../connections'
import type {ApiContext} from '../context'
import type {Keyset, PageArgs} from '../pagination'
import {columns, COLS, eventOf, loadById, type Row, selectFrom} from '../rows'
import type {Params} from '../sql'
import {contractScopedId} from './ids'

/** Governors, proposals and votes, as indexed (Proposal.state is Governor.state() as of stateAtBlock). */

type ProposalOrder = 'CREATED_DESC' | 'CREATED_ASC'
type VoteOrder = 'WEIGHT_DESC' | 'BLOCK_ASC'

interface ProposalFilters {
  governor: string | null
  state: string | null
  proposer: string | null
}

function proposalSet(p: Params, f: ProposalFilters): string {
  const where = ['TRUE']
  if (f.governor) where.push(`t.governor_id = ${p.add(f.governor, 'text')}`)
  if (f.state) where.push(`t.state = ${p.add(f.state, 'text')}`)
  if (f.proposer) where.push(`t.proposer = ${p.add(f.proposer, 'text')}`)
  return `${selectFrom('proposal')} WHERE ${where.join(' AND ')}`
}

// event_id (the ProposalCreated log) is unique and sorts in chain order.
const proposalLists: Record<ProposalOrder, ReturnType<typeof defineList<ProposalFilters>>> = {
  CREATED_DESC: defineList({name: 'proposals:desc', keyset: textKeyset('proposals', 'eventId', 'DESC'), set: proposalSet}),
  CREATED_ASC: defineList({name: 'proposals:asc', keyset: textKeyset('proposals', 'eventId', 'ASC'), set: proposalSet}),
}

const byWeight: Keyset<Row> = {
  kind: 'votes:weight',
  columns: [
    ['s."weight"', 'numeric'],
    ['s."id"', 'text'],
  ],
  direction: 'DESC',
  key: (r) => [String(r.weight), String(r.id)],
}

/** Votes of a proposal (parent: Proposal.id); the (proposal_id, weight) index serves both orders' filter. */
const voteSet = () => `SELECT ${columns('t', COLS.vote)} FROM vote t WHERE t.proposal_id = p.parent`
const voteLists = {
  WEIGHT_DESC: defineList<null>({name: 'votes:weight', keyset: byWeight, set: voteSet}),
  BLOCK_ASC: defineList<null>({name: 'votes:block', keyset: textKeyset('votes', 'id', 'ASC'), set: voteSet}),
}

/** Latest participation.turnout per proposal, one statement per tick. */
function turnoutLoader(ctx: ApiContext) {
  return ctx.loader('turnout', () =>
    new DataLoader<string, Row | null, string>(async (ids) => {
      const rows = await ctx.query<Row>(
        `SELECT DISTINCT ON (t.scope_id) ${columns('t', COLS.metricValue)} FROM metric_value t
         WHERE t.metric = 'participation.turnout' AND t.scope_kind = 'proposal' AND t.scope_id = ANY($1::text[])
         ORDER BY t.scope_id, t.as_of_block DESC`,
        [ids],
      )
      const byScope = new Map(rows.map((r) => [String(r.scopeId), r]))
      return ids.map((id) => byScope.get(id) ?? null)
    }),
  )
}

export const governanceResolvers = {
  Query: {
    proposals: (
      _: unknown,
      args: PageArgs & {governor?: string | null; where?: {state?: string | null; proposer?: string | null} | null; orderBy: ProposalOrder},
      ctx: ApiContext,
    ) =>
      proposalLists[args.orderBy](
        ctx,
        ROOT,
        {governor: args.governor ?? null, state: args.where?.state ?? null, proposer: args.where?.proposer ?? null},
        args,
      ),
    proposal: (_: unknown, args: {id: string}, ctx: ApiContext) => loadById(ctx, 'proposal').load(contractScopedId(args.id, 'Proposal', 'id')),
  },
  Proposal: {
    governor: (r: Row, _: unknown, ctx: ApiContext) => loadById(ctx, 'governor').load(String(r.governorId)),
    timeline: (r: Row) => r,
    tallies: (r: Row) => r,
    quorumReached: (r: Row) => (r.quorum == null ? null : BigInt(String(r.forVotes)) + BigInt(String(r.abstainVotes)) >= BigInt(String(r.quorum))),
    turnout: (r: Row, _: unknown, ctx: ApiContext) => turnoutLoader(ctx).load(r.id),
    votes: (r: Row, args: PageArgs & {orderBy: VoteOrder}, ctx: ApiContext) => voteLists[args.orderBy](ctx, r.id, null, args),
    event: eventOf('eventId'),
  },
  Vote: {
    proposal: (r: Row, _: unknown, ctx: ApiContext) => loadById(ctx, 'proposal').load(String(r.proposalId)),
    event: eventOf('id'),
  },
}
