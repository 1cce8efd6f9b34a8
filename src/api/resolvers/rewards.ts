import {defineList, ROOT, textKeyset} from '../connections'
import type {ApiContext} from '../context'
import type {PageArgs} from '../pagination'
import {eventOf, loadById, type Row, selectFrom} from '../rows'
import {contractScopedId} from './ids'

/** Reward epochs, their fundings and payouts. */

interface EpochFilters {
  distributor: string | null
  model: string | null
  status: string | null
}

const epochs = defineList<EpochFilters>({
  name: 'rewardEpochs',
  keyset: textKeyset('rewardEpochs', 'eventId'),
  set: (p, f) =>
    `${selectFrom('rewardEpoch')} WHERE TRUE` +
    (f.distributor ? ` AND t.distributor = ${p.add(f.distributor, 'text')}` : '') +
    (f.model ? ` AND t.model_id = ${p.add(f.model, 'text')}` : '') +
    (f.status ? ` AND t.status = ${p.add(f.status, 'text')}` : ''),
})

/** Payouts filtered by recipient and/or epoch; root list and Contributor.payouts. */
export const payoutList = defineList<{recipient: string | null; epoch: string | null}>({
  name: 'rewardPayouts',
  keyset: textKeyset('rewardPayouts', 'id'),
  set: (p, f) =>
    `${selectFrom('rewardPayout')} WHERE TRUE` +
    (f.recipient ? ` AND t.recipient = ${p.add(f.recipient, 'text')}` : '') +
    (f.epoch ? ` AND t.epoch_id = ${p.add(f.epoch, 'text')}` : ''),
})

/** Nested under epochs (parent: RewardEpoch.id), batched across the epochs of a page. */
const epochPayouts = defineList<null>({
  name: 'epochPayouts',
  keyset: textKeyset('rewardPayouts', 'id'),
  set: () => `${selectFrom('rewardPayout')} WHERE t.epoch_id = p.parent`,
})

const epochFundings = defineList<null>({
  name: 'epochFundings',
  keyset: textKeyset('rewardFundings', 'id'),
  set: () => `${selectFrom('rewardFunding')} WHERE t.epoch_id = p.parent`,
})

export const rewardResolvers = {
  Query: {
    rewardEpochs: (_: unknown, args: PageArgs & {distributor?: string | null; model?: string | null; status?: string | null}, ctx: ApiContext) =>
      epochs(
        ctx,
        ROOT,
        {
          distributor: args.distributor ?? null,
          model: args.model == null ? null : contractScopedId(args.model, 'Model', 'model'),
          status: args.status ?? null,
        },
        args,
      ),
    rewardPayouts: (_: unknown, args: PageArgs & {recipient?: string | null; epoch?: string | null}, ctx: ApiContext) =>
      payoutList(
        ctx,
        ROOT,
        {recipient: args.recipient ?? null, epoch: args.epoch == null ? null : contractScopedId(args.epoch, 'RewardEpoch', 'epoch')},
        args,
      ),
  },
  RewardEpoch: {
    model: (e: Row, _: unknown, ctx: ApiContext) => (e.modelId == null ? null : loadById(ctx, 'model').load(String(e.modelId))),
    event: eventOf('eventId'),
    payouts: (e: Row, args: PageArgs, ctx: ApiContext) => epochPayouts(ctx, e.id, null, args),
    fundings: (e: Row, args: PageArgs, ctx: ApiContext) => epochFundings(ctx, e.id, null, args),
  },
  RewardPayout: {
    epoch: (r: Row, _: unknown, ctx: ApiContext) => loadById(ctx, 'rewardEpoch').load(String(r.epochId)),
    event: eventOf('id'),
  },
  RewardFunding: {
    epoch: (r: Row, _: unknown, ctx: ApiContext) => loadById(ctx, 'rewardEpoch').load(String(r.epochId)),
    event: eventOf('id'),
  },
}
