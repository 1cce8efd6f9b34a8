import type {Params} from '../sql'

/**
 * Which audit_event rows make up an audit trail, found through the typed tables instead of scanning the audit log:
 * audit_event has no index on `contract` or `args` (adding one is a schema change), but every event row (transfer,
 * vote, ...) shares its audit event's id and every aggregate keeps the id of the event that created it, and those
 * tables are indexed by the addresses and parents they reference.
 *
 * Each source is a query for ids. For a page, every source applies the cursor and the limit itself (the first n
 * ids of a union are among the first n of each member), so a trail of a million transfers costs one page.
 *
 * ADDRESS A — events whose arguments contain A, or whose contract is A:
 *   Transfer (from/to), DelegateChanged (delegator/fromDelegate/toDelegate), DelegateVotesChanged (delegate),
 *   VoteCast[WithParams] (voter), ProposalCreated (proposer, or A among the targets), ModelRegistered (owner at
 *   registration), ModelVersionPublished (publisher), ContributionSubmitted (contributor), ContributionValidated
 *   (validator), EpochFunded (funder), RewardPaid (recipient); and, when A is an indexed contract (token, governor,
 *   timelock, registry, distributor), every event it emitted.
 *   NOT found: events kept only as evidence, without a typed table, emitted by another contract: Approval
 *   (owner/spender), ModelOwnershipTransferred, ValidatorUpdated, OwnershipTransferred, role and timelock events,
 *   undecodable logs. Finding those by argument needs an index on audit_event.args (a future migration).
 * PROPOSAL P (governor-proposalId) — ProposalCreated, every vote, and ProposalQueued / ProposalExecuted /
 *   ProposalCanceled (looked up in the blocks the proposal row records, by the governor and args.proposalId).
 *   Timelock events of its execution (keyed by operation id, not proposal id) are not included.
 * MODEL M (registry-modelId) — ModelRegistered, its ModelVersionPublished, ContributionSubmitted and their
 *   ContributionValidated, and the reward epochs scoped to it: EpochOpened, EpochFunded, RewardPaid, EpochClosed.
 *   ModelOwnershipTransferred is not included (no typed table records its id).
 */
export type TrailTarget = {address: string} | {proposal: string} | {model: string}

/** Audit ids of events in block `block` (a SQL expression): ids start with the block number padded to 10 digits. */
const inBlock = (block: string) => `e.id >= lpad((${block})::text, 10, '0') AND e.id < lpad((${block} + 1)::text, 10, '0')`

export function trailSources(p: Params, target: TrailTarget): string[] {
  if ('address' in target) {
    const a = p.add(target.address, 'text')
    return [
      `SELECT id FROM transfer WHERE "from" = ${a}`,
      `SELECT id FROM transfer WHERE "to" = ${a}`,
      `SELECT id FROM delegate_change WHERE delegator = ${a} OR to_delegate = ${a} OR from_delegate = ${a}`,
      `SELECT id FROM voting_power_change WHERE delegate = ${a}`,
      `SELECT id FROM vote WHERE voter = ${a}`,
      `SELECT event_id AS id FROM proposal WHERE proposer = ${a} OR ${a} = ANY(targets)`,
      // The registration names the first owner; model.owner is the current one, so check the event itself.
      `SELECT e.id FROM model m JOIN audit_event e ON e.id = m.event_id WHERE e.args->>'owner' = ${a}`,
      `SELECT event_id AS id FROM model_version WHERE publisher = ${a}`,
      `SELECT event_id AS id FROM contribution WHERE contributor = ${a}`,
      `SELECT id FROM validation WHERE validator = ${a}`,
      `SELECT id FROM reward_funding WHERE funder = ${a}`,
      `SELECT id FROM reward_payout WHERE recipient = ${a}`,
      // A contract's own events: walked in id order, and skipped entirely (one-time filter) when A is no contract.
      `SELECT e.id FROM audit_event e WHERE e.contract = ${a} AND EXISTS (
         SELECT 1 FROM token WHERE id = ${a} UNION ALL SELECT 1 FROM governor WHERE id = ${a} OR timelock = ${a}
         UNION ALL SELECT 1 FROM model WHERE registry = ${a} UNION ALL SELECT 1 FROM validator WHERE registry = ${a}
         UNION ALL SELECT 1 FROM contribution WHERE registry = ${a} UNION ALL SELECT 1 FROM reward_epoch WHERE distributor = ${a})`,
    ]
  }
  if ('proposal' in target) {
    const id = p.add(target.proposal, 'text')
    return [
      `SELECT event_id AS id FROM proposal WHERE id = ${id}`,
      `SELECT id FROM vote WHERE proposal_id = ${id}`,
      `SELECT e.id FROM proposal pr CROSS JOIN LATERAL unnest(ARRAY[pr.queued_block, pr.executed_block, pr.canceled_block]) AS b(n)
       JOIN audit_event e ON ${inBlock('b.n')}
       WHERE pr.id = ${id} AND b.n IS NOT NULL AND e.contract = pr.governor_id AND e.args->>'proposalId' = pr.proposal_id::text`,
    ]
  }
  const id = p.add(target.model, 'text')
  return [
    `SELECT event_id AS id FROM model WHERE id = ${id}`,
    `SELECT event_id AS id FROM model_version WHERE model_id = ${id}`,
    `SELECT event_id AS id FROM contribution WHERE model_id = ${id}`,
    `SELECT v.id FROM validation v JOIN contribution c ON c.id = v.contribution_id WHERE c.model_id = ${id}`,
    `SELECT event_id AS id FROM reward_epoch WHERE model_id = ${id}`,
    `SELECT f.id FROM reward_funding f JOIN reward_epoch ep ON ep.id = f.epoch_id WHERE ep.model_id = ${id}`,
    `SELECT r.id FROM reward_payout r JOIN reward_epoch ep ON ep.id = r.epoch_id WHERE ep.model_id = ${id}`,
    `SELECT e.id FROM reward_epoch ep JOIN audit_event e ON ${inBlock('ep.closed_block')}
     WHERE ep.model_id = ${id} AND ep.closed_block IS NOT NULL AND e.contract = ep.distributor
       AND e.event_name = 'EpochClosed' AND e.args->>'epochId' = ep.epoch_id::text`,
  ]
}

/** One page of a trail: each source cut at the cursor and limit, then merged in chain order. */
export function trailPageSql(p: Params, target: TrailTarget, after: string | undefined, limit: number, auditColumns: string): string {
  const sources = trailSources(p, target)
  const cut = after === undefined ? 'TRUE' : `q.id > ${p.add(after, 'text')}`
  const n = p.add(limit, 'int')
  const union = sources.map((s) => `(SELECT q.id FROM (${s}) q WHERE ${cut} ORDER BY q.id LIMIT ${n})`).join('\nUNION\n')
  return `SELECT ${auditColumns} FROM audit_event t WHERE t.id IN (${union}) ORDER BY t.id LIMIT ${n}`
}

export function trailCountSql(p: Params, target: TrailTarget): string {
  return `SELECT count(*)::int AS n FROM (${trailSources(p, target).join('\nUNION\n')}) u`
}
