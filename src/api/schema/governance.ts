import {connection, PAGE_ARGS} from './common'

export const governanceSdl = /* GraphQL */ `
type Governor {
  address: Address!
  name: String
  token: Token!
  timelock: Address
  votingDelay: BigInt
  votingPeriod: BigInt
  proposalThreshold: BigInt
  "Quorum fraction: quorum(t) = totalSupply at t × quorumNumerator / quorumDenominator."
  quorumNumerator: BigInt!
  quorumDenominator: BigInt!
  proposalCount: Int!
  updatedAtBlock: Int!
}

"OpenZeppelin Governor.state()."
enum ProposalState {
  PENDING
  ACTIVE
  CANCELED
  DEFEATED
  SUCCEEDED
  QUEUED
  EXPIRED
  EXECUTED
}

enum VoteSupport {
  AGAINST
  FOR
  ABSTAIN
}

enum ProposalOrder {
  "Newest first (by the ProposalCreated event's chain position)."
  CREATED_DESC
  CREATED_ASC
}

enum VoteOrder {
  "Largest weight first; ties in reverse chain order."
  WEIGHT_DESC
  "Chain order."
  BLOCK_ASC
}

input ProposalFilter {
  state: ProposalState
  proposer: Address
}

type ProposalTimeline {
  createdBlock: Int!
  createdTimestamp: DateTime!
  createdTx: String!
  "Snapshot block: voting power is read at the end of this block."
  voteStart: BigInt!
  "Deadline block: voting is open through this block."
  voteEnd: BigInt!
  queuedBlock: Int
  "Timelock eta in seconds (ProposalQueued)."
  eta: BigInt
  executedBlock: Int
  canceledBlock: Int
}

type ProposalTallies {
  forVotes: BigInt!
  againstVotes: BigInt!
  abstainVotes: BigInt!
  voteCount: Int!
}

type Proposal {
  "governor address (lowercase) + '-' + proposal id (decimal); the argument of proposal(id) and auditTrail(proposalId)."
  id: ID!
  governor: Governor!
  proposalId: BigInt!
  proposer: Address!
  description: String!
  targets: [Address!]!
  values: [BigInt!]!
  signatures: [String!]!
  calldatas: [String!]!
  "Governor.state() as of stateAtBlock, derived from the events and the head block."
  state: ProposalState!
  stateAtBlock: Int!
  timeline: ProposalTimeline!
  tallies: ProposalTallies!
  "quorum(voteStart); null until the snapshot block has passed."
  quorum: BigInt
  "forVotes + abstainVotes ≥ quorum (GovernorCountingSimple); null while quorum is unknown."
  quorumReached: Boolean
  "Latest participation.turnout metric for this proposal (weight cast / voting power at the snapshot), with provenance; null until the analytics computed it."
  turnout: MetricValue
  votes(orderBy: VoteOrder = WEIGHT_DESC, ${PAGE_ARGS}): VoteConnection!
  "The ProposalCreated event."
  event: AuditEvent!
}

type Vote {
  id: ID!
  proposal: Proposal!
  voter: Address!
  support: VoteSupport!
  weight: BigInt!
  reason: String!
  "ABI-encoded params of VoteCastWithParams; null for plain VoteCast."
  params: String
  blockNumber: Int!
  timestamp: DateTime!
  txHash: String!
  event: AuditEvent!
}

${connection('Proposal')}
${connection('Vote')}

extend type Query {
  proposals(governor: Address, where: ProposalFilter, orderBy: ProposalOrder = CREATED_DESC, ${PAGE_ARGS}): ProposalConnection!
  "By Proposal.id (governor-proposalId); null when not indexed."
  proposal(id: ID!): Proposal
}
`
