/**
 * SDL shared by every domain. The SDL lives in .ts string constants (one file per domain) rather than .graphql
 * files so tsc carries it into lib/ with the code that resolves it; `makeExecutableSchema` joins them (yoga.ts).
 */

/** Relay connection + edge types for `node` (`extra` adds connection-level fields such as asOfBlock). */
export function connection(node: string, extra = ''): string {
  return `
"A page of ${node}s. Pass pageInfo.endCursor as \`after\` for the next page."
type ${node}Connection {
  edges: [${node}Edge!]!
  pageInfo: PageInfo!
  "Rows matching the filters across all pages."
  totalCount: Int!${extra}
}
type ${node}Edge {
  node: ${node}!
  cursor: String!
}`
}

/** The arguments every connection takes. */
export const PAGE_ARGS = `
    "Page size: API_DEFAULT_PAGE when omitted (50 unless configured), at most API_MAX_PAGE (1000 unless configured)."
    first: Int
    "Opaque cursor: a previous page's endCursor."
    after: String`

export const commonSdl = /* GraphQL */ `
scalar BigInt
scalar Address
scalar DateTime
scalar JSON

type PageInfo {
  hasNextPage: Boolean!
  endCursor: String
}

"Sort direction of a history in chain order."
enum OrderDirection {
  ASC
  DESC
}

"Where the index stands. Every answer without atBlock is as of \`height\`."
type IndexStatus {
  "Highest block committed, unfinalized (hot) blocks included; -1 before the first batch."
  height: Int!
  "Highest block treated as final (FINALITY_CONFIRMATIONS below the head when indexed)."
  finalizedHeight: Int!
  "Hash of block \`height\`."
  hash: String
}

type Query {
  """
  Read afresh on every request, never from the response cache. Every other answer may be a cached one: identical
  queries (same text, operationName and variables) are answered again without recomputing until the index or the
  analytics change, so an answer is at most 1 s behind the latest processor commit or analytics write (the data
  version is read at most once a second; API_RESPONSE_CACHE_MB = 0 turns the cache off).
  """
  indexStatus: IndexStatus!
}
`
