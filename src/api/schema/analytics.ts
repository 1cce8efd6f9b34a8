import {connection, PAGE_ARGS} from './common'

export const analyticsSdl = /* GraphQL */ `
"""
One metric value at one block for one scope, with its provenance: \`npm run analytics:reproduce -- <id>\` exports
the exact input rows and SQL so stock DuckDB recomputes it. Metric ids and definitions:
src/analytics/metrics/README.md.
"""
type MetricValue {
  "metric/distribution/scopeKind/scopeId/asOfBlock"
  id: ID!
  metric: String!
  "balances, voting_power, weight_cast, contributions, rewards, validations, model_owners, votes, ..."
  distribution: String!
  "token, governor, proposal, model or protocol"
  scopeKind: String!
  "Contract address, governor-proposalId, registry-modelId, or 'protocol' (lowercase)."
  scopeId: String!
  "The metric at the end of this block."
  asOfBlock: Int!
  "Null when the metric is undefined for its input (e.g. an empty distribution)."
  value: Float
  "Exact value for integer-valued metrics and totals, as a decimal string."
  valueExact: String
  inputFromBlock: Int!
  inputToBlock: Int!
  inputRowCount: Int!
  "Fingerprint of the input rows: the sum of their md5 numbers mod 2^128 (32 hex digits); with several inputs, sha256 of their relation:digest lines. The reproduce command exports the rows and the query."
  inputDigest: String!
  "sha256 of the SQL that computed the value."
  sqlDigest: String!
  jobVersion: String!
  computedAt: DateTime!
}

"All given fields must match. String values are compared lowercased (ids are stored lowercase)."
input MetricFilter {
  metric: String
  distribution: String
  scopeKind: String
  scopeId: String
}

type LorenzPoint {
  "Cumulative share of entities, poorest first."
  x: Float!
  "Cumulative share of weight."
  y: Float!
}

type LorenzCurve {
  distribution: String!
  scopeKind: String!
  scopeId: String!
  asOfBlock: Int!
  inputDigest: String!
  jobVersion: String!
  "At most 101 points, x ascending."
  points: [LorenzPoint!]!
}

"One contributor's validated contribution share against reward share."
type FairnessEntry {
  contributor: Address!
  "Σ units × validator score (basis points) over accepted contributions."
  contributionValue: BigInt!
  contributionShare: Float!
  rewardAmount: BigInt!
  rewardShare: Float!
  "rewardShare / contributionShare; null when the contribution share is 0."
  ratio: Float
  "over_rewarded (> 2×), under_rewarded (< 0.5×) or proportionate"
  verdict: String!
  inputDigest: String!
  jobVersion: String!
}

${connection('MetricValue')}
${connection('FairnessEntry', `
  "The block of the table: the latest computed at or below atBlock; null when none."
  asOfBlock: Int`)}

extend type Query {
  "A time series: values ordered by block (then id). fromBlock/toBlock bound asOfBlock, inclusive."
  metricValues(where: MetricFilter!, fromBlock: Int, toBlock: Int, ${PAGE_ARGS}): MetricValueConnection!
  "The curve stored at the latest block ≤ atBlock (default: the latest); null when none. Curves are kept at multiples of ANALYTICS_TABLES_EVERY blocks plus the latest ones, so asOfBlock may lie below atBlock."
  lorenzCurve(distribution: String!, scopeKind: String!, scopeId: String!, atBlock: Int): LorenzCurve
  "Fairness of a scope (model: registry-modelId; protocol: 'protocol' or the contribution registry) stored at the latest block ≤ atBlock, by contributor address. Tables are rewritten at most every ANALYTICS_TABLES_REFRESH_BLOCKS blocks (the scope's summary metrics at every refresh) and kept at multiples of ANALYTICS_TABLES_EVERY blocks plus the latest ones, so asOfBlock may lie below atBlock."
  fairnessTable(scopeKind: String!, scopeId: String!, atBlock: Int, ${PAGE_ARGS}): FairnessEntryConnection!
}
`
