import {connection, PAGE_ARGS} from './common'

export const modelsSdl = /* GraphQL */ `
enum ContributionKind {
  DATA
  COMPUTE
  TRAINING
  EVALUATION
  CODE
}

enum ContributionStatus {
  PENDING
  ACCEPTED
  REJECTED
}

"All given fields must match."
input ContributionFilter {
  contributor: Address
  status: ContributionStatus
  kind: ContributionKind
}

type Model {
  "registry address (lowercase) + '-' + model id; the argument of model(id) and auditTrail(modelId)."
  id: ID!
  registry: Address!
  modelId: BigInt!
  "Current owner."
  owner: Address!
  name: String!
  metadataURI: String!
  versionCount: Int!
  contributionCount: Int!
  createdBlock: Int!
  "The ModelRegistered event."
  event: AuditEvent!
  "In chain order."
  versions(${PAGE_ARGS}): ModelVersionConnection!
  "In chain order."
  contributions(where: ContributionFilter, ${PAGE_ARGS}): ContributionConnection!
  "Validations of this model's contributions, in chain order."
  validations(${PAGE_ARGS}): ValidationConnection!
}

type ModelVersion {
  id: ID!
  model: Model!
  versionId: BigInt!
  parent: ModelVersion
  publisher: Address!
  weightsHash: String!
  metadataURI: String!
  blockNumber: Int!
  timestamp: DateTime!
  txHash: String!
  event: AuditEvent!
}

type Contribution {
  id: ID!
  registry: Address!
  contributionId: BigInt!
  model: Model!
  contributor: Address!
  kind: ContributionKind!
  units: BigInt!
  evidenceHash: String!
  status: ContributionStatus!
  "Validator score in basis points (0..10000); null while pending."
  score: Int
  validator: Address
  validatedBlock: Int
  submittedBlock: Int!
  timestamp: DateTime!
  txHash: String!
  "The ContributionSubmitted event."
  event: AuditEvent!
  "ContributionValidated events for this contribution, in chain order."
  validations: [Validation!]!
}

type Validation {
  id: ID!
  contribution: Contribution!
  validator: Address!
  accepted: Boolean!
  score: Int!
  reportHash: String!
  "The validator is the contributor."
  selfValidated: Boolean!
  blockNumber: Int!
  timestamp: DateTime!
  txHash: String!
  event: AuditEvent!
}

"One address as a contributor: what it submitted, how it was validated, what it was paid."
type Contributor {
  address: Address!
  "Contributions by this address (a contributor in \`where\` is combined with AND)."
  contributions(where: ContributionFilter, ${PAGE_ARGS}): ContributionConnection!
  "Validations of this address's contributions, in chain order."
  validationsReceived(${PAGE_ARGS}): ValidationConnection!
  payouts(${PAGE_ARGS}): RewardPayoutConnection!
  "Sum of every RewardPaid to this address."
  totalRewards: BigInt!
}

${connection('Model')}
${connection('ModelVersion')}
${connection('Contribution')}
${connection('Validation')}

extend type Query {
  "Models in registration order."
  models(registry: Address, owner: Address, ${PAGE_ARGS}): ModelConnection!
  "By Model.id (registry-modelId); null when not indexed."
  model(id: ID!): Model
  contributor(address: Address!): Contributor!
}
`
