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
} as const

export type FaultCaseName = keyof typeof FAULT_CASES

/** What the invariant is, worded once for the table and the README. */
export const INVARIANT =
  'index = chain truth over RPC (balances, votes, delegates, supply, proposal state + tallies, event counts per kind); ' +
  'audit log: no duplicate (tx hash, log index), no missing log, no row off the canonical chain'
