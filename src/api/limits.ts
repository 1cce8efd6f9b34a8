/**
 * Query protection limits, set explicitly rather than left to the libraries' defaults, so a change is a reviewed
 * decision. Sized for the deepest legitimate query in the schema (e.g. models → contributions → validations, or
 * proposals → votes → event → args, depth 8) and for one full page of a flat list (first: API_MAX_PAGE).
 * protection.int.test.ts checks each limit at and just past its value.
 */
export const QUERY_LIMITS = Object.freeze({
  /** Field nesting depth (graphql-armor max-depth; introspection exempt). */
  maxDepth: 10,
  /**
   * graphql-armor cost: objects 2, scalars 1, ×1.5 per level, × literal `first`. A flat page of 1000 nodes with a few
   * fields costs ~30,000; 100 proposals × 100 votes each costs ~550,000 and is refused.
   */
  maxCost: 50_000,
  /** Aliases per operation: aliases are the cheap way to multiply work inside one request. */
  maxAliases: 15,
  /** Lexer tokens per document: bounds parse work before anything else runs (GraphiQL's introspection fits). */
  maxTokens: 2_000,
  /** Directives per operation. */
  maxDirectives: 20,
  /**
   * Largest POST body accepted (bytes), checked on the Content-Length header before the body is read
   * (http/body-limit.ts). The longest legitimate document (maxTokens tokens, a batch of maxBatch) fits many times.
   */
  maxBodyBytes: 100_000,
  /** Operations per HTTP request when batching (yoga `batching.limit`). */
  maxBatch: 5,
  /**
   * Runtime row budget per request, in pages of API_MAX_PAGE: the sum of `first` over every connection the request
   * resolves (nested ones once per parent). Catches what the static cost rule cannot see: `first` passed in
   * variables or left to its default.
   */
  rowBudgetPages: 10,
})
