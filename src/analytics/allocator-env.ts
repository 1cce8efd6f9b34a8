/**
 * How long DuckDB's allocator keeps memory that DuckDB freed before it gives it back to the OS. Imported by
 * duckdb.ts before '@duckdb/node-api', because the setting is read once, when the DuckDB library loads.
 *
 * DuckDB's Linux builds allocate through a bundled jemalloc configured to return freed pages after ~1 s
 * (dirty_decay_ms and muzzy_decay_ms 1000). A follower refreshes every few seconds (ANALYTICS_INTERVAL_MS), and each
 * refresh frees and allocates again its hash tables, temp tables and the new rows' column data: with that decay, each
 * refresh gets its memory from the OS anew, one page fault per 4 KiB page. On a virtual machine a page fault can be
 * slow: 13 µs where bare metal takes well under 1 µs, on the machine this was measured on. There a refresh at the
 * benchmark's size took 10,000–25,000 faults and 230–500 ms of system CPU; with 30 s, 1,900–8,700 faults in most
 * rounds and ~1/5 less wall time (docs/analytics-performance.md).
 *
 * jemalloc returns freed pages gradually over the decay time (along a smoothstep curve), so with 30 s less than a
 * tenth of what a refresh freed is returned before the next one, 5 s later. Not never (-1): pages never returned keep
 * the process at its highest use, and the benchmark's peak RSS went from 1.36 to 2.97 GiB, past its 2 GiB target (the
 * load's and the full suite's freed memory stayed). With 30 s it was 1.37–1.56 GiB. muzzy_decay_ms 0: a page past its
 * decay is returned at once (MADV_DONTNEED) instead of being marked lazily free, which would still count in the RSS.
 *
 * The variable is jemalloc's own (MALLOC_CONF, with the library's prefix): a value set in the environment wins, so an
 * operator can tune or undo this (DUCKDB_JE_MALLOC_CONF=dirty_decay_ms:1000,muzzy_decay_ms:1000 is DuckDB's default).
 * Where DuckDB is built without jemalloc, the variable is ignored.
 */
export const JEMALLOC_CONF_VARIABLE = 'DUCKDB_JE_MALLOC_CONF'

export const KEPT_FREED_MEMORY_CONF = 'dirty_decay_ms:30000,muzzy_decay_ms:0'

/** Sets the variable unless the environment has one (an empty value counts as set). Returns the value in effect. */
export function keepFreedMemory(env: NodeJS.ProcessEnv = process.env): string {
  env[JEMALLOC_CONF_VARIABLE] ??= KEPT_FREED_MEMORY_CONF
  return env[JEMALLOC_CONF_VARIABLE]!
}

keepFreedMemory()
