import {connection, PAGE_ARGS} from './common'

export const rewardsSdl = /* GraphQL */ `
enum EpochStatus {
  OPEN
  CLOSED
}

type RewardEpoch {
  "distributor address (lowercase) + '-' + epoch id."
  id: ID!
  distributor: Address!
  epochId: BigInt!
  "On-chain model id the epoch rewards; 0 = protocol-wide."
  scopeModelId: BigInt!
  model: Model
  totalFunded: BigInt!
  totalPaid: BigInt!
  payoutCount: Int!
  status: EpochStatus!
  openedBlock: Int!
  closedBlock: Int
  "The EpochOpened event."
  event: AuditEvent!
  "In chain order."
  payouts(${PAGE_ARGS}): RewardPayoutConnection!
  "In chain order."
  fundings(${PAGE_ARGS}): RewardFundingConnection!
}

type RewardPayout {
  id: ID!
  epoch: RewardEpoch!
  recipient: Address!
  amount: BigInt!
  blockNumber: Int!
  timestamp: DateTime!
  txHash: String!
  event: AuditEvent!
}

type RewardFunding {
  id: ID!
  epoch: RewardEpoch!
  funder: Address!
  amount: BigInt!
  blockNumber: Int!
  timestamp: DateTime!
  txHash: String!
  event: AuditEvent!
}

${connection('RewardEpoch')}
${connection('RewardPayout')}
${connection('RewardFunding')}

extend type Query {
  "Epochs in opening order. model: a Model.id."
  rewardEpochs(distributor: Address, model: ID, status: EpochStatus, ${PAGE_ARGS}): RewardEpochConnection!
  "Payouts in chain order. epoch: a RewardEpoch.id."
  rewardPayouts(recipient: Address, epoch: ID, ${PAGE_ARGS}): RewardPayoutConnection!
}
`
