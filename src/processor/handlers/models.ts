import {Model, ModelVersion} from '../../model'
import {modelEntityId, versionEntityId} from '../ids'
import type {RawEvent} from '../raw'
import {type EventContext, warn} from './context'

type ModelEvent = Extract<RawEvent, {name: 'ModelRegistered' | 'ModelVersionPublished' | 'ModelOwnershipTransferred'}>

/** ModelRegistry events: models, their owners, and the version tree. */
export function applyModelEvent(ctx: EventContext, raw: ModelEvent): void {
  const {state, meta} = ctx
  const id = modelEntityId(meta.contract, raw.modelId)
  if (raw.name === 'ModelRegistered') {
    if (state.models.has(id)) return warn(ctx, `model ${id} registered twice; keeping the first`)
    state.models.add(
      new Model({
        id,
        registry: meta.contract,
        modelId: raw.modelId,
        owner: raw.owner,
        name: raw.modelName,
        metadataURI: raw.metadataURI,
        versionCount: 0,
        contributionCount: 0,
        createdBlock: meta.blockNumber,
        event: ctx.event,
      }),
    )
    return
  }
  const model = state.models.get(id)
  if (!model) return warn(ctx, `${raw.name} for unknown model ${id}`)
  if (raw.name === 'ModelOwnershipTransferred') {
    model.owner = raw.newOwner
    state.models.touch(model)
    return
  }
  const versionId = versionEntityId(id, raw.versionId)
  if (state.versions.has(versionId)) return warn(ctx, `model version ${versionId} published twice; keeping the first`)
  let parent: ModelVersion | null = null
  if (raw.parentVersionId > 0n) {
    parent = state.versions.get(versionEntityId(id, raw.parentVersionId)) ?? null
    if (!parent) warn(ctx, `version ${versionId} names unknown parent ${raw.parentVersionId}; stored without parent`)
  }
  model.versionCount += 1
  state.models.touch(model)
  state.versions.add(
    new ModelVersion({
      id: versionId,
      model,
      versionId: raw.versionId,
      parent,
      publisher: raw.publisher,
      weightsHash: raw.weightsHash,
      metadataURI: raw.metadataURI,
      blockNumber: meta.blockNumber,
      timestamp: meta.timestamp,
      txHash: meta.txHash,
      event: ctx.event,
    }),
  )
}
