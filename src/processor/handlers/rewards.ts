import {EpochStatus, RewardEpoch, RewardFunding, RewardPayout} from '../../model'
import {epochEntityId, modelEntityId} from '../ids'
import type {RawEvent} from '../raw'
import {type EventContext, warn} from './context'

type RewardEvent = Extract<RawEvent, {name: 'EpochOpened' | 'EpochFunded' | 'RewardPaid' | 'EpochClosed'}>

/** RewardDistributor events: epochs, their funding and every payout. */
export function applyRewardEvent(ctx: EventContext, raw: RewardEvent): void {
  const {state, meta} = ctx
  const id = epochEntityId(meta.contract, raw.epochId)
  if (raw.name === 'EpochOpened') {
    if (state.epochs.has(id)) return warn(ctx, `epoch ${id} opened twice; keeping the first`)
    const registry = ctx.contracts.modelRegistryFor(ctx.contracts.byAddress.get(meta.contract)!)
    const model =
      raw.modelId === 0n || registry === undefined ? null : state.models.get(modelEntityId(registry, raw.modelId)) ?? null
    if (raw.modelId !== 0n && !model) warn(ctx, `epoch ${id} names unknown model ${raw.modelId}`)
    state.epochs.add(
      new RewardEpoch({
        id,
        distributor: meta.contract,
        epochId: raw.epochId,
        scopeModelId: raw.modelId,
        model,
        totalFunded: 0n,
        totalPaid: 0n,
        payoutCount: 0,
        status: EpochStatus.OPEN,
        openedBlock: meta.blockNumber,
        closedBlock: null,
        event: ctx.event,
      }),
    )
    return
  }
  const epoch = state.epochs.get(id)
  if (!epoch) return warn(ctx, `${raw.name} for unknown epoch ${id}`)
  const where = {blockNumber: meta.blockNumber, timestamp: meta.timestamp, txHash: meta.txHash}
  switch (raw.name) {
    case 'EpochFunded':
      epoch.totalFunded += raw.amount
      state.fundings.push(new RewardFunding({id: meta.id, epoch, funder: raw.funder, amount: raw.amount, ...where}))
      break
    case 'RewardPaid':
      epoch.totalPaid += raw.amount
      epoch.payoutCount += 1
      state.payouts.push(new RewardPayout({id: meta.id, epoch, recipient: raw.recipient, amount: raw.amount, ...where}))
      break
    case 'EpochClosed':
      epoch.status = EpochStatus.CLOSED
      epoch.closedBlock = meta.blockNumber
      if (raw.totalFunded !== epoch.totalFunded || raw.totalPaid !== epoch.totalPaid) {
        warn(ctx, `epoch ${id} closed with totals ${raw.totalFunded}/${raw.totalPaid}, index has ${epoch.totalFunded}/${epoch.totalPaid}`)
      }
      break
  }
  state.epochs.touch(epoch)
}
