import {Contribution, ContributionKind, ContributionStatus, Validation, Validator} from '../../model'
import {contributionEntityId, modelEntityId, validatorEntityId} from '../ids'
import type {RawEvent} from '../raw'
import {type EventContext, warn} from './context'

type ContributionEvent = Extract<RawEvent, {name: 'ValidatorUpdated' | 'ContributionSubmitted' | 'ContributionValidated'}>

/** Solidity enum ContributionRegistry.Kind, in declaration order. */
const KINDS: readonly ContributionKind[] = [
  ContributionKind.DATA,
  ContributionKind.COMPUTE,
  ContributionKind.TRAINING,
  ContributionKind.EVALUATION,
  ContributionKind.CODE,
]

/** ContributionRegistry events: contributions, validators and their verdicts. */
export function applyContributionEvent(ctx: EventContext, raw: ContributionEvent): void {
  switch (raw.name) {
    case 'ValidatorUpdated':
      return applyValidatorUpdated(ctx, raw)
    case 'ContributionSubmitted':
      return applySubmitted(ctx, raw)
    case 'ContributionValidated':
      return applyValidated(ctx, raw)
  }
}

function applyValidatorUpdated(ctx: EventContext, raw: Extract<ContributionEvent, {name: 'ValidatorUpdated'}>): void {
  const validator = ensureValidator(ctx, raw.validator)
  validator.active = raw.active
  validator.updatedAtBlock = ctx.meta.blockNumber
  ctx.state.validators.touch(validator)
}

function applySubmitted(ctx: EventContext, raw: Extract<ContributionEvent, {name: 'ContributionSubmitted'}>): void {
  const {state, meta} = ctx
  const id = contributionEntityId(meta.contract, raw.contributionId)
  if (state.contributions.has(id)) return warn(ctx, `contribution ${id} submitted twice; keeping the first`)
  const kind = KINDS[raw.kind]
  if (kind === undefined) return warn(ctx, `contribution ${id} has unknown kind ${raw.kind}; kept in the audit log only`)
  const registry = ctx.contracts.modelRegistryFor(ctx.contracts.byAddress.get(meta.contract)!)
  const model = registry === undefined ? undefined : state.models.get(modelEntityId(registry, raw.modelId))
  if (!model) return warn(ctx, `contribution ${id} names unknown model ${raw.modelId}; kept in the audit log only`)
  model.contributionCount += 1
  state.models.touch(model)
  state.contributions.add(
    new Contribution({
      id,
      registry: meta.contract,
      contributionId: raw.contributionId,
      model,
      contributor: raw.contributor,
      kind,
      units: raw.units,
      evidenceHash: raw.evidenceHash,
      status: ContributionStatus.PENDING,
      score: null,
      validator: null,
      validatedBlock: null,
      submittedBlock: meta.blockNumber,
      timestamp: meta.timestamp,
      txHash: meta.txHash,
      event: ctx.event,
    }),
  )
}

function applyValidated(ctx: EventContext, raw: Extract<ContributionEvent, {name: 'ContributionValidated'}>): void {
  const {state, meta} = ctx
  const contribution = state.contributions.get(contributionEntityId(meta.contract, raw.contributionId))
  if (!contribution) return warn(ctx, `validation of unknown contribution ${raw.contributionId}`)
  contribution.status = raw.accepted ? ContributionStatus.ACCEPTED : ContributionStatus.REJECTED
  contribution.score = raw.score
  contribution.validator = raw.validator
  contribution.validatedBlock = meta.blockNumber
  state.contributions.touch(contribution)
  const validator = ensureValidator(ctx, raw.validator)
  validator.validationCount += 1
  state.validators.touch(validator)
  state.validations.push(
    new Validation({
      id: meta.id,
      contribution,
      validator: raw.validator,
      accepted: raw.accepted,
      score: raw.score,
      reportHash: raw.reportHash,
      selfValidated: raw.validator === contribution.contributor,
      blockNumber: meta.blockNumber,
      timestamp: meta.timestamp,
      txHash: meta.txHash,
    }),
  )
}

function ensureValidator(ctx: EventContext, address: string): Validator {
  const id = validatorEntityId(ctx.meta.contract, address)
  return (
    ctx.state.validators.get(id) ??
    ctx.state.validators.add(
      new Validator({
        id,
        registry: ctx.meta.contract,
        address,
        active: false,
        validationCount: 0,
        updatedAtBlock: ctx.meta.blockNumber,
      }),
    )
  )
}
