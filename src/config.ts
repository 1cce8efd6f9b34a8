import {z} from 'zod'

/**
 * The one place that reads process.env. Everything else receives a typed, frozen Config.
 *
 * Unset DATABASE_URL / RPC_URL mean "bring up the embedded default": an embedded Postgres under DATA_DIR and a local
 * anvil devnet with the reference protocol deployed (see src/main.ts).
 */
const EnvSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  RPC_URL: z.string().url().optional(),
  GATEWAY_URL: z.string().url().optional(),
  RPC_RATE_LIMIT: z.coerce.number().int().positive().optional(),
  RPC_MAX_BATCH_CALL_SIZE: z.coerce.number().int().positive().default(100),
  FINALITY_CONFIRMATIONS: z.coerce.number().int().min(0).default(10),
  /** Include every block header so the proposals' state is evaluated at the true head (cheap on a devnet). */
  INCLUDE_ALL_BLOCKS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** Stop indexing after this block (the processor exits there); unset = follow the head forever. */
  INDEX_TO_BLOCK: z.coerce.number().int().min(0).optional(),
  CONTRACTS_FILE: z.string().min(1).default('.data/contracts.json'),
  DATA_DIR: z.string().min(1).default('.data'),
  ANALYTICS_DB: z.string().default('.data/analytics.duckdb'),
  /** How often npm start refreshes the analytics while following the head (0 = only once, after catch-up). */
  ANALYTICS_INTERVAL_MS: z.coerce.number().int().min(0).default(5000),
  /** Backfill step: metrics are also computed every N blocks over history (0 = no backfill). */
  ANALYTICS_BACKFILL_EVERY: z.coerce.number().int().min(0).default(10),
  /**
   * Fairness tables and Lorenz curves (a row per contributor / 101 points) are kept at multiples of N blocks, plus
   * the latest finalized and the unfinalized ones; superseded others are deleted (0 = keep only those). Metric
   * values are all kept. Best a multiple of ANALYTICS_BACKFILL_EVERY, so the backfill writes tables at those blocks.
   */
  ANALYTICS_TABLES_EVERY: z.coerce.number().int().min(0).default(1000),
  /**
   * A recomputed fairness scope gets a new per-contributor table when its latest is at least N blocks old (or at a
   * multiple of ANALYTICS_TABLES_EVERY); its summary metrics are written every time (0 = a table every time).
   */
  ANALYTICS_TABLES_REFRESH_BLOCKS: z.coerce.number().int().min(0).default(100),
  DEVNET_ACCOUNTS: z.coerce.number().int().positive().default(60),
  DEVNET_EVENTS: z.coerce.number().int().positive().default(3000),
  DEVNET_SEED: z.coerce.number().int().default(7),
  DEVNET_LIVE_INTERVAL_MS: z.coerce.number().int().min(0).default(3000),
  // GraphQL audit API (src/api). Loopback by default: exposing it is a deliberate choice.
  API_PORT: z.coerce.number().int().min(0).max(65535).default(4350),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  /** Comma-separated origins allowed by CORS, or '*' for any; unset = no cross-origin access. */
  API_CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v) => (v ?? '').split(',').map((o) => o.trim()).filter((o) => o.length > 0)),
  /** Postgres statement_timeout for every API query: one expensive query cannot hold a connection for long. */
  API_STATEMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  /** Largest `first` a connection accepts, and the default when `first` is omitted. */
  API_MAX_PAGE: z.coerce.number().int().positive().default(1000),
  API_DEFAULT_PAGE: z.coerce.number().int().positive().default(50),
  /**
   * Memory for cached API answers, in MiB (src/api/response-cache.ts): repeated queries over unchanged data are
   * answered without SQL, and a repeated identical POST without yoga (src/api/http/fast-path.ts), from the same
   * memory; an answer is at most 1 s behind the index and the analytics. 0 = no cache and no fast path.
   */
  API_RESPONSE_CACHE_MB: z.coerce.number().min(0).max(65536).default(64),
  /**
   * API answers of at least this many bytes are gzipped for clients that accept gzip (src/api/http/compression.ts);
   * smaller ones are sent as they are. 0 = never compress.
   */
  API_COMPRESSION_MIN_BYTES: z.coerce.number().int().min(0).default(1024),
  /** The read-only role's URL (see src/api/readonly-role.ts); unset = DATABASE_URL, still in read-only transactions. */
  API_DATABASE_URL: z.string().url().optional(),
  /**
   * Bearer token for the API's admin actions (POST /admin/...: re-run analytics now). Unset = admin actions are off.
   * At least 32 characters, so a short guessable word cannot be configured by mistake.
   */
  API_ADMIN_TOKEN: z.string().min(32, 'API_ADMIN_TOKEN must be at least 32 characters').optional(),
}).refine((c) => c.API_DEFAULT_PAGE <= c.API_MAX_PAGE, {
  message: 'API_DEFAULT_PAGE must not exceed API_MAX_PAGE',
  path: ['API_DEFAULT_PAGE'],
})

export type Config = Readonly<z.infer<typeof EnvSchema>>

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')
    throw new Error(`Invalid configuration in the environment:\n${problems}`)
  }
  return Object.freeze(parsed.data)
}
