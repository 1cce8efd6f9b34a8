import {connection, PAGE_ARGS} from './common'

export const tokensSdl = /* GraphQL */ `
"Protocol-wide overview."
type Protocol {
  tokens: [Token!]!
  governors: [Governor!]!
  modelCount: Int!
  contributionCount: Int!
  rewardEpochCount: Int!
  "Sum of EpochFunded amounts over all epochs."
  totalRewardsFunded: BigInt!
  "Sum of RewardPaid amounts over all epochs."
  totalRewardsPaid: BigInt!
  rewardPayoutCount: Int!
}

type Token {
  address: Address!
  name: String
  totalSupply: BigInt!
  "Accounts holding a non-zero balance."
  holderCount: Int!
  transferCount: Int!
  updatedAtBlock: Int!
}

"""
One address across every indexed token. Without atBlock the values are the indexed state at the indexed height;
with atBlock they are recomputed from history as of the end of that block: balance = Σ transfers in − Σ transfers
out, votes = the last DelegateVotesChanged.newVotes, delegate = the last DelegateChanged.toDelegate, each up to
and including atBlock. The histories below are limited to blocks ≤ atBlock as well.
"""
type Account {
  address: Address!
  "The block the values are as of: atBlock, or the indexed height as read at most 1 s before (the status is cached that long)."
  asOfBlock: Int!
  atBlock: Int
  "Block of the first indexed event touching this address; null when none."
  firstSeenBlock: Int
  "One entry per indexed token (zero balance and votes when the account never held it)."
  holdings: [Holding!]!
  votingPowerHistory(token: Address, order: OrderDirection = ASC, ${PAGE_ARGS}): VotingPowerChangeConnection!
  transfers(token: Address, direction: TransferDirection = ANY, order: OrderDirection = ASC, ${PAGE_ARGS}): TransferConnection!
  "DelegateChanged events naming this address as delegator, previous delegate or new delegate."
  delegations(token: Address, order: OrderDirection = ASC, ${PAGE_ARGS}): DelegateChangeConnection!
  "Votes this address cast, on any governor."
  votes(order: OrderDirection = ASC, ${PAGE_ARGS}): VoteConnection!
}

enum TransferDirection {
  ANY
  IN
  OUT
}

type Holding {
  token: Token!
  balance: BigInt!
  "Voting power (ERC20Votes getVotes)."
  votes: BigInt!
  "Current delegatee; null when the account never delegated."
  delegate: Address
  "Accounts whose delegate is this account, as of the same block, ordered by address."
  delegators(${PAGE_ARGS}): DelegatorConnection!
}

type Delegator {
  address: Address!
  "The delegator's token balance: the voting power it lends."
  balance: BigInt!
}

enum HolderRanking {
  BALANCE
  VOTES
}

type Holder {
  address: Address!
  balance: BigInt!
  votes: BigInt!
  delegate: Address
  "balance / total supply (ranking BALANCE) or votes / total voting power (VOTES) at the same block."
  share: Float!
}

type Transfer {
  id: ID!
  token: Address!
  from: Address!
  to: Address!
  value: BigInt!
  blockNumber: Int!
  timestamp: DateTime!
  txHash: String!
  event: AuditEvent!
}

type DelegateChange {
  id: ID!
  token: Address!
  delegator: Address!
  fromDelegate: Address!
  toDelegate: Address!
  blockNumber: Int!
  timestamp: DateTime!
  txHash: String!
  event: AuditEvent!
}

type VotingPowerChange {
  id: ID!
  token: Address!
  delegate: Address!
  previousVotes: BigInt!
  newVotes: BigInt!
  blockNumber: Int!
  timestamp: DateTime!
  txHash: String!
  event: AuditEvent!
}

${connection('Delegator')}
${connection('Transfer')}
${connection('DelegateChange')}
${connection('VotingPowerChange')}
${connection('Holder', `
  "The block the ranking is as of: atBlock, or the indexed height as read at most 1 s before (the status is cached that long)."
  asOfBlock: Int!
  "The denominator of share: total supply (BALANCE) or total voting power (VOTES) at asOfBlock."
  total: BigInt!`)}

extend type Query {
  protocol: Protocol!
  "Always returns an Account (all zeros for an address the index never saw). atBlock: 0 ≤ atBlock ≤ indexed height."
  account(address: Address!, atBlock: Int): Account!
  "Accounts of a token ranked by balance or voting power (non-zero only), largest first; ties by address."
  topHolders(token: Address!, by: HolderRanking = BALANCE, atBlock: Int, ${PAGE_ARGS}): HolderConnection!
}
`
