/**
 * Governance phase: treasury-grant proposals, each steered to a planned end state by choosing who votes.
 *
 * Voting power is read on chain at each proposal's snapshot, and the votes are planned from it, so the
 * intended outcome holds for any seed; the planned tallies are checked against OZ's rules (quorum counts
 * for + abstain; success needs for > against) before anything is sent.
 */
import { keccak256, stringToHex, type Address, type Hex } from 'viem'
import type { Rng } from '../prng'
import type { ScenarioContext } from './context'

/** OZ IGovernor.ProposalState, by numeric value. */
export const PROPOSAL_STATES = [
  'Pending', 'Active', 'Canceled', 'Defeated', 'Succeeded', 'Queued', 'Expired', 'Executed',
] as const
export type ProposalStateName = (typeof PROPOSAL_STATES)[number]

export type ProposalCase =
  | 'executed' | 'defeatedByVotes' | 'quorumNotReached' | 'canceledWhilePending'
  | 'succeededNotQueued' | 'queuedNotExecuted' | 'activeAtEnd'

export interface PlannedProposal {
  proposalId: bigint
  case: ProposalCase
  expectedOutcome: ProposalStateName
  proposer: Address
  description: string
}

interface Proposal extends PlannedProposal {
  targets: Address[]
  values: bigint[]
  calldatas: Hex[]
  descriptionHash: Hex
  recipient: Address
  amount: bigint
}

/** Support values of GovernorCountingSimple. */
const AGAINST = 0
const FOR = 1
const ABSTAIN = 2
interface Vote { voter: Address; support: number }

const REASONS: Record<number, string[]> = {
  [FOR]: ['Strong track record; the grant is well scoped.', 'Supports open model evaluation. Yes.',
    'Milestones are clear and verifiable.'],
  [AGAINST]: ['Budget too large for an unproven team.', 'Deliverables are vague; resubmit with milestones.',
    'Treasury runway matters more right now.'],
  [ABSTAIN]: ['Conflict of interest: I collaborate with the applicant.', 'Need more information before deciding.'],
}

const TOPICS = ['open evaluation harness', 'dataset provenance tooling', 'distributed training credits',
  'model card standard', 'inference benchmark', 'red-teaming bounty', 'validator client audit']

function makeProposal(ctx: ScenarioContext, rng: Rng, kase: ProposalCase, proposer: Address, n: number): Proposal {
  const recipient = rng.pick(ctx.roles.contributors)
  const amount = ctx.ledger.portion(ctx.d.timelock, 0.01 + rng.next() * 0.02)
  const topic = rng.pick(TOPICS)
  const description =
    `# DIP-${ctx.rng.seed}-${ctx.origin}-${n}: Grant for ${topic}\n\n` +
    `Transfer ${amount} DEAI (wei) from the treasury to ${recipient} to fund the ${topic}.`
  const expectedOutcome: Record<ProposalCase, ProposalStateName> = {
    executed: 'Executed', defeatedByVotes: 'Defeated', quorumNotReached: 'Defeated',
    canceledWhilePending: 'Canceled', succeededNotQueued: 'Succeeded', queuedNotExecuted: 'Queued',
    activeAtEnd: 'Active',
  }
  return {
    proposalId: 0n, case: kase, expectedOutcome: expectedOutcome[kase], proposer, description,
    targets: [ctx.d.token], values: [0n], calldatas: [ctx.p.encode('token', 'transfer', [recipient, amount])],
    descriptionHash: keccak256(stringToHex(description)), recipient, amount,
  }
}

/** Proposes all, in one block, and fills in their ids. */
async function propose(ctx: ScenarioContext, proposals: Proposal[]): Promise<void> {
  for (const pr of proposals) {
    ctx.p.tx(pr.proposer, 'governor', 'propose', [pr.targets, pr.values, pr.calldatas, pr.description])
  }
  // One block: the proposals share a snapshot, and a cancel in the next block finds them still Pending.
  await ctx.chain.mine({ oneBlock: true })
  const ids = await ctx.p.readMany<bigint>(proposals.map((pr) =>
    ['governor', 'hashProposal', [pr.targets, pr.values, pr.calldatas, pr.descriptionHash]]))
  proposals.forEach((pr, i) => (pr.proposalId = ids[i] as bigint))
}

/** Voting power of every account at the proposals' snapshot (all share one), largest first. */
async function powersAt(ctx: ScenarioContext, snapshot: bigint): Promise<[Address, bigint][]> {
  const accounts = ctx.roles.accounts
  const votes = await ctx.p.readMany<bigint>(accounts.map((a) => ['governor', 'getVotes', [a, snapshot]]))
  return accounts
    .map((a, i) => [a, votes[i] as bigint] as [Address, bigint])
    .filter(([, v]) => v > 0n)
    .sort((x, y) => (x[1] === y[1] ? x[0].localeCompare(y[0]) : x[1] > y[1] ? -1 : 1))
}

/** Who votes how, per case. `ranked` is largest power first. */
function planVotes(kase: ProposalCase, ranked: [Address, bigint][], quorum: bigint, zero: Address): Vote[] {
  const vote = (support: number) => ([voter]: [Address, bigint]): Vote => ({ voter, support })
  const smallest = ranked.slice(-2).reverse() // [smallest, second smallest]
  const untilQuorum = (list: [Address, bigint][], times: bigint): [Address, bigint][] => {
    const out: [Address, bigint][] = []
    let sum = 0n
    for (const e of list) {
      if (sum >= quorum * times) break
      out.push(e)
      sum += e[1]
    }
    return out
  }
  switch (kase) {
    case 'executed':
      // A broad majority, one small dissent, one abstention, and a vote that weighs nothing.
      return [...untilQuorum(ranked.slice(0, -2), 2n).map(vote(FOR)), vote(AGAINST)(smallest[0]!),
        vote(ABSTAIN)(smallest[1]!), { voter: zero, support: FOR }]
    case 'defeatedByVotes':
      // The largest bloc outvotes the runner-up; a mid-sized holder abstains.
      return [vote(AGAINST)(ranked[0]!), vote(FOR)(ranked[1]!), vote(ABSTAIN)(ranked[Math.floor(ranked.length / 2)]!)]
    case 'quorumNotReached':
      return [vote(FOR)(smallest[0]!), { voter: zero, support: AGAINST }]
    case 'succeededNotQueued':
    case 'queuedNotExecuted':
    case 'activeAtEnd':
      return untilQuorum(ranked, 1n).map(vote(FOR))
    case 'canceledWhilePending':
      return []
  }
}

/** Outcome under GovernorCountingSimple once voting ended. */
function tallyOutcome(votes: Vote[], power: Map<Address, bigint>, quorum: bigint): 'Succeeded' | 'Defeated' {
  const t = [0n, 0n, 0n]
  for (const v of votes) t[v.support] = (t[v.support] as bigint) + (power.get(v.voter) ?? 0n)
  const [against, forV, abstain] = t as [bigint, bigint, bigint]
  return forV + abstain >= quorum && forV > against ? 'Succeeded' : 'Defeated'
}

function castVotes(ctx: ScenarioContext, rng: Rng, pr: Proposal, votes: Vote[]): void {
  for (const [i, v] of votes.entries()) {
    const reason = rng.pick(REASONS[v.support] as string[])
    if (v.voter === ctx.roles.neverDelegates) {
      ctx.p.tx(v.voter, 'governor', 'castVote', [pr.proposalId, v.support]) // zero weight, no reason
    } else if (i === 1 && v.support === FOR) {
      // castVoteWithReasonAndParams with non-empty params emits VoteCastWithParams.
      ctx.p.tx(v.voter, 'governor', 'castVoteWithReasonAndParams', [pr.proposalId, v.support, reason, '0x01'])
    } else if (v.support === FOR && rng.chance(0.3)) {
      ctx.p.tx(v.voter, 'governor', 'castVote', [pr.proposalId, v.support])
    } else {
      ctx.p.tx(v.voter, 'governor', 'castVoteWithReason', [pr.proposalId, v.support, reason])
    }
  }
}

async function proposeAndVote(ctx: ScenarioContext, rng: Rng, proposals: Proposal[]): Promise<void> {
  const { chain, p } = ctx
  await propose(ctx, proposals)
  const canceled = proposals.filter((pr) => pr.case === 'canceledWhilePending')
  for (const pr of canceled) {
    p.tx(pr.proposer, 'governor', 'cancel', [pr.targets, pr.values, pr.calldatas, pr.descriptionHash])
  }
  await chain.mine({ oneBlock: true }) // still within the voting delay: the proposals are Pending

  const first = proposals[0] as Proposal
  const snapshot = await p.read<bigint>('governor', 'proposalSnapshot', [first.proposalId])
  // getVotes needs the snapshot strictly in the past, and voting opens only after it.
  await chain.mineEmpty(Math.max(0, Number(snapshot) + 1 - (await chain.blockNumber())))
  const quorum = await p.read<bigint>('governor', 'quorum', [snapshot])
  const ranked = await powersAt(ctx, snapshot)
  const power = new Map(ranked)
  for (const pr of proposals) {
    const votes = planVotes(pr.case, ranked, quorum, ctx.roles.neverDelegates)
    const planned = pr.case === 'canceledWhilePending' ? 'Defeated' : tallyOutcome(votes, power, quorum)
    const wanted = pr.case === 'defeatedByVotes' || pr.case === 'quorumNotReached' ? 'Defeated' : 'Succeeded'
    if (pr.case !== 'canceledWhilePending' && planned !== wanted) {
      throw new Error(`seed ${ctx.rng.seed}: cannot steer proposal '${pr.case}' to ${wanted} (planned ${planned})`)
    }
    castVotes(ctx, rng, pr, votes)
  }
  await chain.mine({ oneBlock: true }) // every vote lands inside the voting period, whatever perBlock is
}

/** The core governance story: executed, defeated, quorum-failed, canceled, succeeded and queued proposals. */
export async function runGovernance(ctx: ScenarioContext): Promise<PlannedProposal[]> {
  const { chain, p, roles, d } = ctx
  const rng = ctx.rng.fork('governance')
  const [i0, i1] = roles.insiders as [Address, Address]
  const cases: [ProposalCase, Address][] = [
    ['executed', i0], ['defeatedByVotes', roles.delegates[2] as Address],
    ['quorumNotReached', rng.pick(roles.regular)], ['canceledWhilePending', i1],
    ['succeededNotQueued', i0], ['queuedNotExecuted', i1],
  ]
  const proposals = cases.map(([k, who], n) => makeProposal(ctx, rng, k, who, n + 1))
  await proposeAndVote(ctx, rng, proposals)

  const deadline = await p.read<bigint>('governor', 'proposalDeadline', [proposals[0]!.proposalId])
  await chain.mineEmpty(Number(deadline) + 1 - (await chain.blockNumber()))
  const queued = proposals.filter((pr) => pr.case === 'executed' || pr.case === 'queuedNotExecuted')
  for (const pr of queued) p.tx(pr.proposer, 'governor', 'queue', [pr.targets, pr.values, pr.calldatas, pr.descriptionHash])
  await chain.mine({ oneBlock: true })

  await chain.increaseTime(d.governorSettings.timelockMinDelay + 1)
  const executed = proposals.filter((pr) => pr.case === 'executed')
  // Execution is permissionless (executor role = anyone): a random holder triggers it.
  for (const pr of executed) {
    p.tx(rng.pick(roles.accounts), 'governor', 'execute', [pr.targets, pr.values, pr.calldatas, pr.descriptionHash])
    ctx.ledger.move(d.timelock, pr.recipient, pr.amount)
  }
  await chain.mine()
  return proposals.map(publicView)
}

/** A proposal created at the very end and voted on, so its voting period is still running afterwards. */
export async function proposeActive(ctx: ScenarioContext): Promise<PlannedProposal> {
  const rng = ctx.rng.fork('governance-final')
  const pr = makeProposal(ctx, rng, 'activeAtEnd', ctx.roles.insiders[1] as Address, 99)
  await proposeAndVote(ctx, rng, [pr])
  return publicView(pr)
}

function publicView(pr: Proposal): PlannedProposal {
  const { proposalId, case: kase, expectedOutcome, proposer, description } = pr
  return { proposalId, case: kase, expectedOutcome, proposer, description }
}
