import {connection, PAGE_ARGS} from './common'

export const auditSdl = /* GraphQL */ `
"One indexed log: the evidence every other number traces back to."
type AuditEvent {
  "Zero-padded block number, block hash prefix, log index: sorts in chain order."
  id: ID!
  blockNumber: Int!
  blockHash: String!
  timestamp: DateTime!
  txHash: String!
  transactionIndex: Int!
  logIndex: Int!
  contract: Address!
  "token, governor, timelock, modelRegistry, contributionRegistry, rewardDistributor"
  contractKind: String!
  eventName: String!
  "Decoded arguments; uint256 as decimal strings."
  args: JSON!
}

${connection('AuditEvent')}

extend type Query {
  """
  Every indexed event touching exactly one of: an address, a proposal (Proposal.id) or a model (Model.id), in
  chain order. Coverage (what the index can find without scanning the whole audit log) is listed in
  src/api/resolvers/audit-sql.ts; events kept only as evidence with no typed table (Approval,
  ModelOwnershipTransferred, ValidatorUpdated, role and timelock events) are not found by address.
  """
  auditTrail(address: Address, proposalId: ID, modelId: ID, ${PAGE_ARGS}): AuditEventConnection!
  auditEvent(id: ID!): AuditEvent
}
`
