/**
 * The fault suite's cases: the name each test file gives its top-level `describe`, and what its trials check.
 * The summary reporter (summary-reporter.ts) prints one row per case from these names and the real test outcomes.
 */
export const FAULT_CASES = {
  'reorg inside finality': 'hot-block rollback: no orphaned rows in Postgres or the DuckDB mirror; invariant',
  'reorg deeper than finality': 'clear fork error with block + recovery advice, no restart loop; after reset + re-index: invariant',
  'SIGKILL and resume': 'processor killed at seeded random points while ingesting, restarted on the same database; invariant',
  'Postgres restart': 'Postgres stopped and started mid-ingestion; supervisor restarts the processor with backoff; invariant',
  'RPC faults': 'seeded proxy drops, delays, JSON-RPC errors, truncated bodies; slower but correct; invariant',
  'hostile chain data': 'ERC721-style Transfer, reverted tx, unknown emitter, 100 KB strings, zero-weight votes, delegation loops; invariant',
  'main command shutdown': 'SIGINT / SIGTERM to the main process alone, SIGINT to its group: exit 0, nothing restarted, nothing left running',
  // The API's cases (src/api/*.int.test.ts, also part of npm test): what the server does, and that nothing is written.
  'API while Postgres restarts': 'under load: HTTP 503 DATABASE_UNAVAILABLE + Retry-After while down, whole answers once back; no 5xx, no crash',
  'hostile GraphQL': 'SQL injection in every string arg, bombs, huge pages, bad scalars, bad bodies: clear errors, still serving, DB unchanged',
  'admin actions': 'refresh needs the env token: 401/403/405/501 without it, nothing written; runs with it',
  'API protections': 'depth/cost/alias/token/batch/row limits, masked errors, statement timeout, SELECT-only role that cannot write',
  CORS: 'only configured origins get CORS headers',
  '/health without a database': '503 with a clear JSON message',
} as const

export type FaultCaseName = keyof typeof FAULT_CASES

/** What the invariant of the chain cases is, worded once for the table and the README. */
export const INVARIANT =
  'index = chain truth over RPC (balances, votes, delegates, supply, proposal state + tallies, event counts per kind); ' +
  'audit log: no duplicate (tx hash, log index), no missing log, no row off the canonical chain'
