import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {Session} from 'node:inspector'
import os from 'node:os'
import path from 'node:path'
import type {DuckDBConnection} from '@duckdb/node-api'
import {Client, Pool} from 'pg'
import {openAnalyticsDb, type AnalyticsDb} from '../analytics/duckdb'
import {runFairnessTable} from '../analytics/metrics/fairness'
import {CONCENTRATION_WITH_LORENZ_SQL, readLorenzOfConcentration, runLorenz} from '../analytics/metrics/concentration'
import {queryOne, queryRows} from '../analytics/metrics/sql-values'
import {INPUT_DIGEST_SQL, JOB_VERSION, type Measurement} from '../analytics/jobs/measurement'
import {runBatched} from '../analytics/jobs/batch'
import {runFromTallies} from '../analytics/jobs/from-tallies'
import {planSuite} from '../analytics/jobs/plan'
import {latestStoredBlocks, writeResults, type SuiteResults} from '../analytics/jobs/results'
import {missingBackfillBlocks, refreshAnalytics} from '../analytics/jobs/run'
import {computeSuite} from '../analytics/jobs/suite'
import {forgetKeptBalances} from '../analytics/store/head-balances'
import {forgetKeptFairness} from '../analytics/jobs/kept-fairness'
import {forgetKeptPower} from '../analytics/store/head-power'
import {materializeInputWithKeptDigest} from '../analytics/store/routes'
import {blockIdPrefix} from '../analytics/store/pg-source'
import {syncFromPostgres} from '../analytics/store/sync'
import {createRandomDatabase, dropDatabase} from '../db/databases'
import {applyMigrations} from '../db/migrate'
import {parseContractsConfig, type ContractsConfig} from '../processor/contracts-config'
import {readIndexStatus} from '../processor/status'
import {backendCpuBetween, backendCpuSeconds} from './backend-cpu'
import {postgresForBench} from './postgres'
import {threadCpuSeconds} from './process-cpu'

/**
 * `npm run bench:analytics`: the analytics engine over a synthetic audit log (issue: 1M accounts, 10M events).
 *
 * 1. Generates the audit log inside Postgres with set-based SQL (a realistic mix: mints to every account, heavy-tailed
 *    transfers, delegate vote changes, proposals with their votes, contributions + validations, reward epochs) and
 *    sets the processor status to its last block as the finalized height.
 * 2. Loads it into a fresh DuckDB file with syncFromPostgres: rows/s.
 * 3. Times the full metric suite at the head (computeSuite, `--runs` times, median) and writing its results. Each run
 *    starts without the balances kept sorted in the process (head-balances.ts): it builds them, as a first refresh does.
 *    Profiles the suite per measurement (plan, input materialization, input digest, metric queries, Lorenz /
 *    fairness extras) when it misses its target or with `--profile`.
 * 4. Incremental: `--rounds` times, +`--increment` audit rows in new blocks above the head, then refreshAnalytics
 *    (sync + suite at the new head + write) as the follower calls it (keepState: the first round builds the state
 *    kept in the process across refreshes, kept-fairness.ts); median, and the sync part alone; each round also prints
 *    the process's CPU time. With `--profile`, every DuckDB statement of the last round that writes no fairness table
 *    is timed on both connections, and for the sync, the suite's part on the syncing connection and its part on the
 *    side connection apart, the slowest are printed by total time, then the rest's total.
 * 5. Peak RSS of this process (DuckDB runs in-process) and DuckDB's own memory accounting.
 * 6. The stored history: metric_value grown by ~1M rows (the full suite's values copied to 200 earlier blocks), and the
 *    reads a refresh makes of it (the latest stored block per series; the backfill's missing blocks) timed, each with
 *    the query it replaced beside it.
 *
 * Knobs (argv): --events N (default 10000000), --accounts N (default 1000000), --per-block N (default 500),
 * --runs N (default 3), --rounds N (default 7: with 20 blocks per round and ANALYTICS_TABLES_REFRESH_BLOCKS 100, the 5th round
 * rewrites the fairness tables, and the 1st builds the kept state; the median of 7 is one of the other five), --increment N (default 10000), --profile, --mirror FILE (development
 * loop: keep the loaded DuckDB mirror in FILE; when FILE already exists, skip generation, load and the incremental
 * rounds and time only the full suite on it, with --profile also the statements of its last run on both connections:
 * such a run is not a full benchmark and prints no SUMMARY line), --timeline FILE (with --profile: the profiled round's
 * statements of both connections in the order they started, as JSON lines), --cpu-profile FILE (a V8 CPU profile of
 * the JavaScript thread during that round), --unfinalized N (default 0: in the incremental rounds, the newest N blocks
 * stay unfinalized, as behind a live chain's head with FINALITY_CONFIRMATIONS = N, so each sync also checks the
 * previous sync's unfinalized tail against Postgres; the headline figures are those of the default), --reorg (with
 * --unfinalized: one more round, not in the medians, in which the previous round's newest blocks were reorged), --keep DIR
 * (development loop: keep the database and the mirror in DIR after the run), --resume DIR (only `--rounds` more
 * incremental rounds on what --keep DIR left, ~20 s for 5 rounds here; not a benchmark run), --discard DIR (drop what it kept).
 * Postgres: DATABASE_URL if set, else the local server on 127.0.0.1:5432 if reachable, else an embedded one; a
 * fresh random database is created, migrated and dropped at the end (also on failure or Ctrl-C).
 *
 * Targets (2 cores): full suite < 5 s, incremental refresh < 500 ms, peak RSS < 2 GiB.
 */
function argText(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const n = Number(process.argv[i + 1])
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} needs a non-negative integer, got ${process.argv[i + 1]}`)
  return n
}
const flag = (name: string) => process.argv.includes(`--${name}`)

const TARGET_SUITE_MS = 5000
const TARGET_INCREMENTAL_MS = 500
const TARGET_RSS_MIB = 2048

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`)
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')

function procStatusKiB(field: string): number {
  const status = readFileSync('/proc/self/status', 'utf8')
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN)
}
const peakRssMiB = () => procStatusKiB('VmHWM') / 1024

// ---------------------------------------------------------------------------------------------------------------
// Synthetic contracts and audit log

/** Contract addresses outside the accounts' range (accounts are 0x00..01 .. 0x00..0f4240). */
const ADDR = {
  token: '0xdea1000000000000000000000000000000000001',
  governor: '0xdea1000000000000000000000000000000000002',
  timelock: '0xdea1000000000000000000000000000000000003',
  modelRegistry: '0xdea1000000000000000000000000000000000004',
  contributionRegistry: '0xdea1000000000000000000000000000000000005',
  rewardDistributor: '0xdea1000000000000000000000000000000000006',
}

function benchContracts(): ContractsConfig {
  return parseContractsConfig({
    chainId: 31337,
    contracts: [
      {kind: 'token', address: ADDR.token, startBlock: 0},
      {kind: 'governor', address: ADDR.governor, startBlock: 0, token: ADDR.token, timelock: ADDR.timelock},
      {kind: 'timelock', address: ADDR.timelock, startBlock: 0},
      {kind: 'modelRegistry', address: ADDR.modelRegistry, startBlock: 0},
      {kind: 'contributionRegistry', address: ADDR.contributionRegistry, startBlock: 0, modelRegistry: ADDR.modelRegistry},
      {kind: 'rewardDistributor', address: ADDR.rewardDistributor, startBlock: 0, token: ADDR.token, modelRegistry: ADDR.modelRegistry},
    ],
  })
}

/** Event codes of the staging table; each maps to (contract, kind, event name, args) in FINAL_INSERT_SQL. */
const EV = {
  Transfer: 1,
  DelegateVotesChanged: 2,
  DelegateChanged: 3,
  ProposalCreated: 4,
  ProposalQueued: 5,
  ProposalExecuted: 6,
  ProposalCanceled: 7,
  VoteCast: 8,
  QuorumNumeratorUpdated: 9,
  ModelRegistered: 10,
  ModelOwnershipTransferred: 11,
  ContributionSubmitted: 12,
  ContributionValidated: 13,
  EpochOpened: 14,
  RewardPaid: 15,
} as const

const EVENT_META: Record<number, [contract: string, kind: string, name: string]> = {
  [EV.Transfer]: [ADDR.token, 'token', 'Transfer'],
  [EV.DelegateVotesChanged]: [ADDR.token, 'token', 'DelegateVotesChanged'],
  [EV.DelegateChanged]: [ADDR.token, 'token', 'DelegateChanged'],
  [EV.ProposalCreated]: [ADDR.governor, 'governor', 'ProposalCreated'],
  [EV.ProposalQueued]: [ADDR.governor, 'governor', 'ProposalQueued'],
  [EV.ProposalExecuted]: [ADDR.governor, 'governor', 'ProposalExecuted'],
  [EV.ProposalCanceled]: [ADDR.governor, 'governor', 'ProposalCanceled'],
  [EV.VoteCast]: [ADDR.governor, 'governor', 'VoteCast'],
  [EV.QuorumNumeratorUpdated]: [ADDR.governor, 'governor', 'QuorumNumeratorUpdated'],
  [EV.ModelRegistered]: [ADDR.modelRegistry, 'modelRegistry', 'ModelRegistered'],
  [EV.ModelOwnershipTransferred]: [ADDR.modelRegistry, 'modelRegistry', 'ModelOwnershipTransferred'],
  [EV.ContributionSubmitted]: [ADDR.contributionRegistry, 'contributionRegistry', 'ContributionSubmitted'],
  [EV.ContributionValidated]: [ADDR.contributionRegistry, 'contributionRegistry', 'ContributionValidated'],
  [EV.EpochOpened]: [ADDR.rewardDistributor, 'rewardDistributor', 'EpochOpened'],
  [EV.RewardPaid]: [ADDR.rewardDistributor, 'rewardDistributor', 'RewardPaid'],
}

const caseOf = (i: 0 | 1 | 2) => `CASE g.ev ${Object.entries(EVENT_META).map(([ev, m]) => `WHEN ${ev} THEN '${m[i]}'`).join(' ')} END`

/**
 * Helper functions (pg_temp: they live as long as the generating session), all inlined by the planner:
 * account n → address, block → hash (deterministic, so the increments agree with the base), proposal index → id.
 */
const HELPERS_SQL = [
  `CREATE FUNCTION pg_temp.addr(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '0x' || lpad(to_hex(n), 40, '0') $$`,
  `CREATE FUNCTION pg_temp.bhash(b bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '0x' || md5('block' || b) || md5('hash' || b) $$`,
  `CREATE FUNCTION pg_temp.pid(p bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT (98765432109876543210::numeric * 1000000 + p)::text $$`,
  // Heavy-tailed base weight of a delegate (its voting power at the end of the base segment).
  `CREATE FUNCTION pg_temp.power_of(d bigint) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT floor(1e24 / power(d::float8, 0.9))::numeric $$`,
]

/**
 * Staging rows: block, an ordering key inside the block, the event code and its parameters (a..d integers, v/w
 * amounts). Narrow, so the final sort by (block, pos) stays cheap; the JSON args are built in FINAL_INSERT_SQL.
 */
const STAGING_DDL = `CREATE UNLOGGED TABLE IF NOT EXISTS bench_gen (
  blk int8 NOT NULL, pos float8 NOT NULL, ev int2 NOT NULL, a int8, b int8, c int8, d int8, v numeric, w numeric)`

const ARGS_SQL = `CASE g.ev
  WHEN ${EV.Transfer} THEN jsonb_build_object('from', pg_temp.addr(g.a), 'to', pg_temp.addr(g.b), 'value', g.v::text)
  WHEN ${EV.DelegateVotesChanged} THEN jsonb_build_object('delegate', pg_temp.addr(g.a), 'previousVotes', g.v::text, 'newVotes', g.w::text)
  WHEN ${EV.DelegateChanged} THEN jsonb_build_object('delegator', pg_temp.addr(g.a), 'fromDelegate', pg_temp.addr(g.b), 'toDelegate', pg_temp.addr(g.c))
  WHEN ${EV.ProposalCreated} THEN jsonb_build_object('proposalId', pg_temp.pid(g.a), 'proposer', pg_temp.addr(g.b),
    'targets', jsonb_build_array('${ADDR.timelock}'), 'values', jsonb_build_array('0'), 'signatures', jsonb_build_array(''),
    'calldatas', jsonb_build_array('0x'), 'voteStart', g.c::text, 'voteEnd', g.d::text, 'description', 'Proposal #' || g.a)
  WHEN ${EV.ProposalQueued} THEN jsonb_build_object('proposalId', pg_temp.pid(g.a), 'etaSeconds', g.c::text)
  WHEN ${EV.ProposalExecuted} THEN jsonb_build_object('proposalId', pg_temp.pid(g.a))
  WHEN ${EV.ProposalCanceled} THEN jsonb_build_object('proposalId', pg_temp.pid(g.a))
  WHEN ${EV.VoteCast} THEN jsonb_build_object('voter', pg_temp.addr(g.a), 'proposalId', pg_temp.pid(g.c), 'support', g.b,
    'weight', g.w::text, 'reason', '')
  WHEN ${EV.QuorumNumeratorUpdated} THEN jsonb_build_object('oldQuorumNumerator', g.a::text, 'newQuorumNumerator', g.b::text)
  WHEN ${EV.ModelRegistered} THEN jsonb_build_object('modelId', g.a::text, 'owner', pg_temp.addr(g.b), 'name', 'model-' || g.a,
    'metadataURI', 'ipfs://model-' || g.a)
  WHEN ${EV.ModelOwnershipTransferred} THEN jsonb_build_object('modelId', g.a::text, 'previousOwner', pg_temp.addr(g.b), 'newOwner', pg_temp.addr(g.c))
  WHEN ${EV.ContributionSubmitted} THEN jsonb_build_object('contributionId', g.a::text, 'modelId', g.b::text, 'contributor', pg_temp.addr(g.c),
    'kind', g.d, 'units', g.v::text, 'evidenceHash', '0x' || lpad(to_hex(g.a), 64, '0'))
  WHEN ${EV.ContributionValidated} THEN jsonb_build_object('contributionId', g.a::text, 'validator', pg_temp.addr(g.b), 'accepted', g.c = 1,
    'score', g.d, 'reportHash', '0x' || lpad(to_hex(g.a), 64, 'f'))
  WHEN ${EV.EpochOpened} THEN jsonb_build_object('epochId', g.a::text, 'modelId', g.b::text)
  WHEN ${EV.RewardPaid} THEN jsonb_build_object('epochId', g.a::text, 'recipient', pg_temp.addr(g.b), 'amount', g.v::text)
END`

/**
 * Staging → audit_event, in (block, pos) order so both unique indexes are appended to at their right edge. Ids in
 * the Subsquid format (padded block, 5 hex chars of the block hash, padded log index) sort in chain order.
 */
const FINAL_INSERT_SQL = `
INSERT INTO audit_event (id, block_number, block_hash, "timestamp", tx_hash, transaction_index, log_index, contract, contract_kind, event_name, args)
SELECT lpad(g.blk::text, 10, '0') || '-' || substr(pg_temp.bhash(g.blk), 3, 5) || '-' || lpad(g.li::text, 6, '0'),
  g.blk, pg_temp.bhash(g.blk), TIMESTAMPTZ '2026-01-01 00:00:00+00' + g.blk * INTERVAL '2 seconds',
  '0x' || lpad(to_hex(g.blk), 16, '0') || lpad(to_hex(g.li), 48, '0'), g.li, g.li,
  ${caseOf(0)}, ${caseOf(1)}, ${caseOf(2)}, ${ARGS_SQL}
FROM (SELECT s.*, (row_number() OVER (PARTITION BY s.blk ORDER BY s.pos) - 1)::int AS li FROM bench_gen s) g
ORDER BY g.blk, g.li`

interface BasePlan {
  firstBlock: number
  blocks: number
  accounts: number
  delegates: number
  changesPerDelegate: number
  proposals: number
  votesPerProposal: number
  activeProposals: number
  contributions: number
  contributors: number
  epochs: number
  rewardsPerEpoch: number
  models: number
  transfers: number
  counts: Record<string, number>
  total: number
}

/** The mix at --events/--accounts: the issue's proportions at 10M / 1M, scaled; transfers fill the rest. */
function basePlan(events: number, accounts: number, perBlock: number): BasePlan {
  const s = events / 10_000_000
  const delegates = Math.max(10, Math.round(accounts / 20))
  const changesPerDelegate = 10
  const proposals = Math.max(10, Math.round(200 * s))
  const canceled = (p: number) => p % 10 === 9
  const queued = (p: number) => p % 10 <= 6
  let activeProposals = 0
  let outcomes = 0
  for (let p = 0; p < proposals; p++) {
    if (canceled(p)) outcomes += 1
    else activeProposals++
    if (queued(p)) outcomes += 2
  }
  const votesPerProposal = Math.min(delegates, Math.floor((1_000_000 * s) / activeProposals))
  const contributions = Math.round(200_000 * s)
  const epochs = Math.max(10, Math.round(100 * s))
  const rewardsPerEpoch = Math.round((200_000 * s) / epochs)
  const models = 20
  const counts: Record<string, number> = {
    QuorumNumeratorUpdated: 2,
    ModelRegistered: models,
    ModelOwnershipTransferred: 3,
    'Transfer (mints)': accounts,
    DelegateChanged: delegates,
    DelegateVotesChanged: delegates * changesPerDelegate,
    ProposalCreated: proposals,
    'Proposal outcomes': outcomes,
    VoteCast: votesPerProposal * activeProposals,
    ContributionSubmitted: contributions,
    ContributionValidated: contributions,
    EpochOpened: epochs,
    RewardPaid: rewardsPerEpoch * epochs,
  }
  const others = Object.values(counts).reduce((a, b) => a + b, 0)
  const transfers = events - others
  if (transfers < 0) throw new Error(`--events ${events} is too small for --accounts ${accounts}: the non-transfer events alone are ${others}`)
  counts['Transfer (between accounts)'] = transfers
  return {
    firstBlock: 1,
    blocks: Math.max(100, Math.ceil(events / perBlock)),
    accounts,
    delegates,
    changesPerDelegate,
    proposals,
    votesPerProposal,
    activeProposals,
    contributions,
    contributors: Math.max(100, Math.round(accounts / 20)),
    epochs,
    rewardsPerEpoch,
    models,
    transfers,
    counts,
    total: events,
  }
}

/**
 * The base segment's staging statements. Positions are fractions of the segment (block = first + floor(pos ×
 * blocks)); the order constraints hold by construction: models and the quorum first, mints before transfers,
 * each delegate's vote changes in increasing order, votes inside their proposal's voting window, outcomes after
 * it, validations after their contribution, rewards after their epoch opened.
 */
function baseStagingSql(p: BasePlan): string[] {
  const first = p.firstBlock
  const nb = p.blocks
  const A = p.accounts
  const blk = (pos: string) => `${first} + least(${nb - 1}, floor((${pos}) * ${nb})::int8)`
  const delay = Math.max(1, Math.floor(nb / 1000))
  const period = Math.max(5, Math.floor(nb / 50))
  const at = (pos: string, rest: string) => `SELECT ${blk(pos)}, ${pos}, ${rest}`
  return [
    // Quorum numerator 4 % at the start, 5 % half-way.
    `INSERT INTO bench_gen (blk, pos, ev, a, b) VALUES
      (${first}, 0.00001, ${EV.QuorumNumeratorUpdated}, 0, 4),
      (${first + Math.floor(nb / 2)}, 0.5, ${EV.QuorumNumeratorUpdated}, 4, 5)`,
    // Models, owned by a spread of accounts; three change owner half-way.
    `INSERT INTO bench_gen (blk, pos, ev, a, b)
      ${at(`0.0002 + 0.0005 * (m - 1) / ${p.models}`, `${EV.ModelRegistered}, m, 1 + (m * 7919) % ${A}`)}
      FROM generate_series(1, ${p.models}) m`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c)
      ${at(`0.5 + 0.001 * m`, `${EV.ModelOwnershipTransferred}, m, 1 + (m * 7919) % ${A}, 1 + (m * 104729) % ${A}`)}
      FROM generate_series(1, 3) m`,
    // Mints: every account once, Zipf-like amounts (account 1 gets 1e24 wei).
    `INSERT INTO bench_gen (blk, pos, ev, a, b, v)
      ${at(`0.001 + 0.049 * (i - 1) / ${A}`, `${EV.Transfer}, 0, i, floor(1e24 / power(i::float8, 0.8))::numeric`)}
      FROM generate_series(1, ${A}) i`,
    // Delegates (accounts 1..D) delegate to themselves.
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c)
      ${at(`0.05 + 0.01 * (d - 1) / ${p.delegates}`, `${EV.DelegateChanged}, d, 0, d`)}
      FROM generate_series(1, ${p.delegates}) d`,
    // Each delegate's votes grow in K steps to its heavy-tailed power.
    `INSERT INTO bench_gen (blk, pos, ev, a, v, w)
      SELECT ${blk('x.pos')}, x.pos, ${EV.DelegateVotesChanged}, x.d,
        floor(pg_temp.power_of(x.d) * (x.k - 1) / ${p.changesPerDelegate}), floor(pg_temp.power_of(x.d) * x.k / ${p.changesPerDelegate})
      FROM (SELECT d, k, 0.06 + 0.93 * ((k - 1) + random()) / ${p.changesPerDelegate} AS pos
            FROM generate_series(1, ${p.delegates}) d, generate_series(1, ${p.changesPerDelegate}) k) x`,
    // Transfers between accounts: senders and receivers skewed towards the big holders (low account numbers).
    `INSERT INTO bench_gen (blk, pos, ev, a, b, v)
      SELECT ${blk('x.pos')}, x.pos, ${EV.Transfer}, 1 + floor(${A} * power(random(), 3))::int8, 1 + floor(${A} * power(random(), 1.5))::int8,
        (1 + floor(random() * 1000000)::int8)::numeric * 1000000000000
      FROM (SELECT 0.05 + 0.95 * random() AS pos FROM generate_series(1, ${p.transfers})) x`,
    // Proposals: created at cb, votes in (voteStart, voteEnd], canceled (every 10th) right after creation.
    `CREATE UNLOGGED TABLE bench_prop AS
      SELECT p, ${blk(`0.1 + 0.8 * p / ${p.proposals}`)} AS cb, 0.1 + 0.8 * p / ${p.proposals} AS pos FROM generate_series(0, ${p.proposals - 1}) p`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c, d)
      SELECT cb, pos, ${EV.ProposalCreated}, p, 1 + p % 100, cb + ${delay}, cb + ${delay + period} FROM bench_prop`,
    `INSERT INTO bench_gen (blk, pos, ev, a) SELECT cb + 1, pos, ${EV.ProposalCanceled}, p FROM bench_prop WHERE p % 10 = 9`,
    `INSERT INTO bench_gen (blk, pos, ev, a, c)
      SELECT cb + ${delay + period + 1}, pos, ${EV.ProposalQueued}, p, 1767225600 + (cb + ${delay + period + 1}) * 2 + 172800 FROM bench_prop WHERE p % 10 <= 6`,
    `INSERT INTO bench_gen (blk, pos, ev, a) SELECT cb + ${delay + period + 2}, pos, ${EV.ProposalExecuted}, p FROM bench_prop WHERE p % 10 <= 6`,
    // Votes: distinct delegates per proposal (a window of the delegates starting at a per-proposal offset), support
    // 60 % for / 30 % against / 10 % abstain, weight = the delegate's power.
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c, w)
      SELECT cb + ${delay + 1} + floor(random() * ${period})::int8, random(), ${EV.VoteCast}, x.voter,
        CASE WHEN x.r < 0.6 THEN 1 WHEN x.r < 0.9 THEN 0 ELSE 2 END, x.p, pg_temp.power_of(x.voter)
      FROM (SELECT bp.p, bp.cb, 1 + (bp.p * 7919 + j) % ${p.delegates} AS voter, random() AS r
            FROM bench_prop bp, generate_series(0, ${p.votesPerProposal - 1}) j WHERE bp.p % 10 <> 9) x`,
    // Contributions: models skewed, contributors skewed over a pool; each validated once (85 % accepted) shortly after,
    // validators skewed over accounts 1..100 (so contributors in that range self-validate sometimes).
    `CREATE UNLOGGED TABLE bench_contrib AS
      SELECT c, 0.1 + 0.85 * (c - 1) / ${p.contributions} AS pos FROM generate_series(1, ${p.contributions}) c`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c, d, v)
      SELECT ${blk('pos')}, pos, ${EV.ContributionSubmitted}, c, 1 + floor(${p.models} * power(random(), 2))::int8,
        1 + floor(${p.contributors} * power(random(), 2))::int8, floor(random() * 4)::int8, 1 + floor(random() * 1000)::int8
      FROM bench_contrib`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c, d)
      SELECT ${blk('x.pos')}, x.pos, ${EV.ContributionValidated}, x.c, 1 + floor(100 * power(random(), 2))::int8,
        CASE WHEN random() < 0.85 THEN 1 ELSE 0 END, 5000 + floor(random() * 5001)::int8
      FROM (SELECT c, pos + 1e-12 + 0.02 * random() AS pos FROM bench_contrib) x`,
    // Epochs: model (e mod (M+1)), 0 = protocol-wide; rewards after the epoch opened, recipients skewed over the
    // contributor pool (a different skew, so some are over- and some under-rewarded).
    `CREATE UNLOGGED TABLE bench_epoch AS
      SELECT e, 0.1 + 0.85 * (e - 1) / ${p.epochs} AS pos FROM generate_series(1, ${p.epochs}) e`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b) SELECT ${blk('pos')}, pos, ${EV.EpochOpened}, e, e % ${p.models + 1} FROM bench_epoch`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, v)
      SELECT ${blk('x.pos')}, x.pos, ${EV.RewardPaid}, x.e, 1 + floor(${p.contributors} * power(random(), 2.5))::int8,
        (1 + floor(random() * 1000000)::int8)::numeric * 1000000000000
      FROM (SELECT e, pos + 1e-12 + 0.8 * random() / ${p.epochs} AS pos FROM bench_epoch, generate_series(1, ${p.rewardsPerEpoch})) x`,
  ]
}

interface IncrementState {
  nextProposal: number
  nextContribution: number
  lastEpoch: number
}

/**
 * An increment of `n` audit rows in `blocks` new blocks from `first`: 80 % transfers, then vote changes, delegations,
 * one new proposal with votes in its window, contributions + validations, rewards of the last epoch.
 */
function incrementStagingSql(p: BasePlan, st: IncrementState, first: number, blocks: number, n: number): string[] {
  const A = p.accounts
  const votes = Math.min(p.delegates, Math.floor(n * 0.06))
  const dvc = Math.floor(n * 0.05)
  const dch = Math.floor(n * 0.01)
  const contribs = Math.floor(n * 0.03)
  const rewards = Math.floor(n * 0.02)
  const transfers = n - votes - dvc - dch - 2 * contribs - rewards - 1
  if (transfers < 0) throw new Error(`--increment ${n} is too small`)
  const blk = (pos: string) => `${first} + least(${blocks - 1}, floor((${pos}) * ${blocks})::int8)`
  const proposal = st.nextProposal
  const c0 = st.nextContribution
  st.nextProposal += 1
  st.nextContribution += contribs
  return [
    `INSERT INTO bench_gen (blk, pos, ev, a, b, v)
      SELECT ${blk('x.pos')}, x.pos, ${EV.Transfer}, 1 + floor(${A} * power(random(), 3))::int8, 1 + floor(${A} * power(random(), 1.5))::int8,
        (1 + floor(random() * 1000000)::int8)::numeric * 1000000000000
      FROM (SELECT random() AS pos FROM generate_series(1, ${transfers})) x`,
    `INSERT INTO bench_gen (blk, pos, ev, a, v, w)
      SELECT ${blk('x.pos')}, x.pos, ${EV.DelegateVotesChanged}, x.d, pg_temp.power_of(x.d), floor(pg_temp.power_of(x.d) * (1 + random() / 10))
      FROM (SELECT 1 + floor(${p.delegates} * power(random(), 2))::int8 AS d, random() AS pos FROM generate_series(1, ${dvc})) x`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c)
      SELECT ${blk('x.pos')}, x.pos, ${EV.DelegateChanged}, x.a, 0, 1 + floor(${p.delegates} * random())::int8
      FROM (SELECT ${p.delegates} + 1 + floor((${A} - ${p.delegates}) * random())::int8 AS a, random() AS pos FROM generate_series(1, ${dch})) x`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c, d) VALUES (${first}, 0, ${EV.ProposalCreated}, ${proposal}, 1 + ${proposal} % 100, ${first + 1}, ${first + 1000})`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c, w)
      SELECT ${first + 2} + floor(random() * ${Math.max(1, blocks - 2)})::int8, random(), ${EV.VoteCast}, x.voter,
        CASE WHEN x.r < 0.6 THEN 1 WHEN x.r < 0.9 THEN 0 ELSE 2 END, ${proposal}, pg_temp.power_of(x.voter)
      FROM (SELECT 1 + (${proposal} * 7919 + j) % ${p.delegates} AS voter, random() AS r FROM generate_series(0, ${votes - 1}) j) x`,
    `CREATE TEMP TABLE bench_inc_contrib AS SELECT c, 0.8 * random() AS pos FROM generate_series(${c0}, ${c0 + contribs - 1}) c`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c, d, v)
      SELECT ${blk('pos')}, pos, ${EV.ContributionSubmitted}, c, 1 + floor(${p.models} * power(random(), 2))::int8,
        1 + floor(${p.contributors} * power(random(), 2))::int8, floor(random() * 4)::int8, 1 + floor(random() * 1000)::int8
      FROM bench_inc_contrib`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, c, d)
      SELECT ${blk('x.pos')}, x.pos, ${EV.ContributionValidated}, x.c, 1 + floor(100 * power(random(), 2))::int8,
        CASE WHEN random() < 0.85 THEN 1 ELSE 0 END, 5000 + floor(random() * 5001)::int8
      FROM (SELECT c, pos + 1e-12 + 0.19 * random() AS pos FROM bench_inc_contrib) x`,
    `DROP TABLE bench_inc_contrib`,
    `INSERT INTO bench_gen (blk, pos, ev, a, b, v)
      SELECT ${blk('x.pos')}, x.pos, ${EV.RewardPaid}, ${st.lastEpoch}, 1 + floor(${p.contributors} * power(random(), 2.5))::int8,
        (1 + floor(random() * 1000000)::int8)::numeric * 1000000000000
      FROM (SELECT random() AS pos FROM generate_series(1, ${rewards})) x`,
  ]
}

/** @subsquid/typeorm-store's bookkeeping tables (as its initTransaction creates them), then the finalized height. */
async function setFinalizedHeight(c: Client, height: number): Promise<void> {
  await c.query(`CREATE SCHEMA IF NOT EXISTS squid_processor`)
  await c.query(`CREATE TABLE IF NOT EXISTS squid_processor.status (id int4 primary key, height int4 not null, hash text DEFAULT '0x', nonce int4 DEFAULT 0)`)
  await c.query(`CREATE TABLE IF NOT EXISTS squid_processor.hot_block (height int4 primary key, hash text not null)`)
  await c.query(
    `CREATE TABLE IF NOT EXISTS squid_processor.hot_change_log (block_height int4 not null references squid_processor.hot_block on delete cascade, ` +
      `index int4 not null, change jsonb not null, PRIMARY KEY (block_height, index))`,
  )
  await c.query(
    `INSERT INTO squid_processor.status (id, height, hash, nonce) VALUES (0, $1::int4, pg_temp.bhash($1::int4), 0)
     ON CONFLICT (id) DO UPDATE SET height = EXCLUDED.height, hash = EXCLUDED.hash, nonce = squid_processor.status.nonce + 1`,
    [height],
  )
}

/**
 * The processor's status with the blocks above `finalized` up to `head` unfinalized: squid_processor.hot_block holds
 * them, as the processor keeps the blocks it may still roll back (readIndexStatus reads the height from there).
 */
async function setIndexStatus(c: Client, finalized: number, head: number): Promise<void> {
  await setFinalizedHeight(c, finalized)
  await c.query(`DELETE FROM squid_processor.hot_block`)
  await c.query(
    `INSERT INTO squid_processor.hot_block (height, hash) SELECT h, pg_temp.bhash(h) FROM generate_series($1::int4, $2::int4) AS h`,
    [finalized + 1, head],
  )
}

/** Blocks a --reorg round replaces. */
const REORG_DEPTH = 5

/**
 * A reorg of the newest `depth` blocks up to `head`, as the processor leaves it once it rolled back and indexed the
 * new branch: the same events in blocks with other hashes (their ids keep the old hash's prefix, which the sync does
 * not read). Returns the audit rows in those blocks.
 */
async function replaceNewestBlocks(c: Client, head: number, depth: number): Promise<number> {
  const res = await c.query(
    `UPDATE audit_event SET block_hash = '0x' || md5('reorged' || block_number) || md5('hash' || block_number)
     WHERE id >= $1 AND block_number > $2`,
    [blockIdPrefix(head - depth + 1), head - depth],
  )
  return res.rowCount ?? 0
}

/** Runs staging statements, then moves the staging rows into audit_event; returns the rows inserted. */
async function stageAndInsert(c: Client, statements: string[]): Promise<number> {
  await c.query('TRUNCATE bench_gen')
  for (const sql of statements) await c.query(sql)
  const res = await c.query(FINAL_INSERT_SQL)
  await c.query('TRUNCATE bench_gen')
  return res.rowCount ?? 0
}

// ---------------------------------------------------------------------------------------------------------------
// Profile of the suite

interface MeasurementProfile {
  label: string
  materializeMs: number
  digestMs: number
  queriesMs: number
  extrasMs: number
  rows: number
  total: number
}

/** computeSuite, step by step with timings (same calls in the same order; results discarded). */
async function profileSuite(conn: DuckDBConnection, contracts: ContractsConfig, block: number): Promise<void> {
  const t0 = performance.now()
  const plan = await planSuite(conn, contracts, block)
  const planMs = performance.now() - t0
  const tb = performance.now()
  const batched = await runBatched(conn, plan, 0)
  const batchMs = performance.now() - tb
  const profiles: MeasurementProfile[] = []
  const singles = plan.filter((_, i) => !batched.has(i))
  for (const m of singles) profiles.push(await profileMeasurement(conn, m))
  const sum = (f: (p: MeasurementProfile) => number) => profiles.reduce((a, p) => a + f(p), 0)
  const total = planMs + batchMs + sum((p) => p.total)
  console.log(`profile of the suite at block ${block}: ${fmtMs(total)} in all, ${plan.length} measurements (${batched.size} in grouped queries, ${singles.length} one by one)`)
  console.log(
    `  by step: planSuite ${fmtMs(planMs)} | grouped proposal and model scopes ${fmtMs(batchMs)} | singles: input materialization ${fmtMs(sum((p) => p.materializeMs))} | ` +
      `input digest ${fmtMs(sum((p) => p.digestMs))} | metric queries ${fmtMs(sum((p) => p.queriesMs))} | ` +
      `Lorenz + fairness tables ${fmtMs(sum((p) => p.extrasMs))}`,
  )
  const byDistribution = new Map<string, {n: number; ms: number}>()
  for (const [i, p] of profiles.entries()) {
    const key = `${singles[i]!.distribution}/${singles[i]!.scopeKind}`
    const e = byDistribution.get(key) ?? {n: 0, ms: 0}
    e.n++
    e.ms += p.total
    byDistribution.set(key, e)
  }
  console.log(
    `  by kind: ${[...byDistribution.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([k, e]) => `${k} ×${e.n} ${fmtMs(e.ms)}`)
      .join(' | ')}`,
  )
  console.log('  top 5 slowest measurements:')
  for (const p of [...profiles].sort((a, b) => b.total - a.total).slice(0, 5)) {
    console.log(
      `    ${fmtMs(p.total).padStart(8)}  ${p.label} (${fmtInt(p.rows)} input rows): materialize ${fmtMs(p.materializeMs)}, ` +
        `digest ${fmtMs(p.digestMs)}, queries ${fmtMs(p.queriesMs)}, extras ${fmtMs(p.extrasMs)}`,
    )
  }
}

async function profileMeasurement(conn: DuckDBConnection, m: Measurement): Promise<MeasurementProfile> {
  const p: MeasurementProfile = {label: `${m.distribution}/${m.scopeKind}/${m.scopeId}`, materializeMs: 0, digestMs: 0, queriesMs: 0, extrasMs: 0, rows: 0, total: 0}
  // As computeSuite: repeat voters and delegate activity at the head come from the voter tallies (all of it counted as queries).
  const t = performance.now()
  const viaTallies = await runFromTallies(conn, m, 0)
  if (viaTallies) {
    p.rows = viaTallies.provenance.rowCount
    p.queriesMs = p.total = performance.now() - t
    return p
  }
  for (const input of m.inputs) {
    const t0 = performance.now()
    // As prepareInputs: the digest the sync keeps for the largest inputs at the head (read with the rows), else hashed.
    const {rows, kept} = await materializeInputWithKeptDigest(conn, input.relation, input.sql, input.params)
    p.rows += rows
    const t1 = performance.now()
    if (!kept) await queryOne(conn, INPUT_DIGEST_SQL(input.relation))
    const t2 = performance.now()
    p.materializeMs += t1 - t0
    p.digestMs += t2 - t1
  }
  const t3 = performance.now()
  // As computeSuite: a token distribution's concentration and Lorenz curve come from one query (one sort).
  const token = m.scopeKind === 'token'
  let curve: unknown[] | undefined = []
  for (const q of m.queries) {
    if (token) curve = readLorenzOfConcentration(await queryOne(conn, CONCENTRATION_WITH_LORENZ_SQL, {...q.params, max_points: 101}))
    else await queryOne(conn, q.sql, q.params)
  }
  const t4 = performance.now()
  if (token && curve === undefined) await runLorenz(conn, 101)
  if (m.distribution === 'contributions_vs_rewards') await runFairnessTable(conn, {limit: 10_000})
  const t5 = performance.now()
  p.queriesMs = t4 - t3
  p.extrasMs = t5 - t4
  p.total = p.materializeMs + p.digestMs + p.queriesMs + p.extrasMs
  return p
}

/**
 * Times every statement run on `conn` until stop() (refreshAnalytics' sync and suite both run on it): conn.run is
 * wrapped, which runAndReadAll also goes through. One performance.now() pair per statement: no measurable overhead.
 */
function timeStatements(conn: DuckDBConnection, origin = performance.now()): {stop(): TimedStatement[]} {
  const original = conn.run
  const timed: TimedStatement[] = []
  conn.run = async function (this: DuckDBConnection, ...args: Parameters<DuckDBConnection['run']>) {
    const t0 = performance.now()
    try {
      return await original.apply(this, args)
    } finally {
      timed.push({sql: args[0], ms: performance.now() - t0, at: t0 - origin})
    }
  }
  return {
    stop() {
      conn.run = original
      return timed
    },
  }
}

/**
 * --cpu-profile FILE: a V8 CPU profile of the JavaScript thread during the profiled round (the .cpuprofile format that
 * Chrome's DevTools open); the returned function stops it and gives the profile.
 */
async function startJsProfile(): Promise<() => Promise<object>> {
  const session = new Session()
  session.connect()
  const post = (method: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => session.post(method, (e, r) => (e ? reject(e) : resolve((r ?? {}) as Record<string, unknown>))))
  await post('Profiler.enable')
  await post('Profiler.start')
  return async () => {
    const {profile} = await post('Profiler.stop')
    session.disconnect()
    return profile as object
  }
}

/**
 * --timeline FILE: the profiled round's statements of both connections in the order they started (ms after the
 * round's start, duration, connection, text), one JSON object per line, for reading the refresh's critical path.
 */
function writeTimeline(file: string, onMain: TimedStatement[], onSide: TimedStatement[]): void {
  const rows = [...onMain.map((t) => ({...t, conn: 'main'})), ...onSide.map((t) => ({...t, conn: 'side'}))].sort((a, b) => a.at - b.at)
  writeFileSync(file, rows.map((t) => JSON.stringify({at: +t.at.toFixed(1), ms: +t.ms.toFixed(1), conn: t.conn, sql: t.sql.replace(/\s+/g, ' ').trim().slice(0, 200)})).join('\n') + '\n')
}

/** One statement timed by timeStatements: its text, its time, and when it started (ms after the origin). */
interface TimedStatement {
  sql: string
  ms: number
  at: number
}

/** The statements by total time, grouped by their text (first 120 characters, whitespace collapsed). */
function printStatementProfile(label: string, timed: TimedStatement[]): void {
  const bySql = new Map<string, {n: number; ms: number}>()
  for (const t of timed) {
    const key = t.sql.replace(/\s+/g, ' ').trim().slice(0, 120)
    const e = bySql.get(key) ?? {n: 0, ms: 0}
    e.n++
    e.ms += t.ms
    bySql.set(key, e)
  }
  const total = timed.reduce((a, t) => a + t.ms, 0)
  const span = timed.length === 0 ? '' : `, from ${fmtMs(Math.min(...timed.map((t) => t.at)))} to ${fmtMs(Math.max(...timed.map((t) => t.at + t.ms)))}`
  console.log(`  statement profile of ${label}: ${timed.length} DuckDB statements, ${fmtMs(total)} in all${span}; the 12 slowest (total ms, count, text):`)
  const sorted = [...bySql.entries()].sort((a, b) => b[1].ms - a[1].ms)
  for (const [sql, e] of sorted.slice(0, 12)) console.log(`    ${e.ms.toFixed(0).padStart(6)} ×${String(e.n).padEnd(3)} ${sql}`)
  const rest = sorted.slice(12)
  console.log(`    ${rest.reduce((a, [, e]) => a + e.ms, 0).toFixed(0).padStart(6)} in the other ${rest.reduce((a, [, e]) => a + e.n, 0)} statements`)
}

// ---------------------------------------------------------------------------------------------------------------

async function duckMemory(conn: DuckDBConnection): Promise<string> {
  const rows = await queryRows(conn, `SELECT tag, memory_usage_bytes AS b FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY memory_usage_bytes DESC`)
  const total = rows.reduce((a, r) => a + Number(r.b), 0)
  const limit = (await queryOne(conn, `SELECT current_setting('memory_limit') AS l, current_setting('threads') AS t`))
  const size = (await queryRows(conn, `PRAGMA database_size`))[0]
  return (
    `DuckDB memory ${(total / 2 ** 20).toFixed(0)} MiB (${rows.map((r) => `${String(r.tag)} ${(Number(r.b) / 2 ** 20).toFixed(0)}`).join(', ')}); ` +
    `memory_limit ${String(limit.l)}, threads ${String(limit.t)}; database file ${String(size?.database_size ?? '?')}`
  )
}

/**
 * Copies the full suite's stored metric values (every series, at `block`) to `copies` earlier blocks, as the history a
 * follower accumulates (a few hundred rows per refresh), then times latestStoredBlocks, which every refresh runs,
 * against the GROUP BY it replaced.
 */
async function storedHistoryReads(gen: Client, pool: Pool, block: number, copies = 200): Promise<string> {
  const t0 = performance.now()
  const added = await gen.query(
    `INSERT INTO metric_value
     SELECT id || '/h' || i, metric, distribution, scope_kind, scope_id, as_of_block - 20 * i, value, value_exact, input_from_block,
       as_of_block - 20 * i, input_row_count, input_digest, sql_digest, job_version, computed_at
     FROM metric_value, generate_series(1, $2::int) i WHERE as_of_block = $1`,
    [block, copies],
  )
  await gen.query('ANALYZE metric_value')
  const insertMs = performance.now() - t0
  const total = Number((await gen.query<{n: string}>('SELECT count(*) AS n FROM metric_value')).rows[0]?.n)
  const timed = async (read: () => Promise<unknown>) => {
    const ms: number[] = []
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      await read()
      ms.push(performance.now() - t)
    }
    return median(ms)
  }
  const indexed = await timed(() => latestStoredBlocks(pool))
  const grouped = await timed(() =>
    pool.query(
      `SELECT distribution, scope_kind, scope_id, max(as_of_block) AS b FROM metric_value
       WHERE scope_kind IN ('proposal', 'model', 'protocol') AND job_version = $1 GROUP BY distribution, scope_kind, scope_id`,
      [JOB_VERSION],
    ),
  )
  // The backfill's read (ANALYTICS_BACKFILL_EVERY, 10 by default in production; the bench's refreshes run without it).
  const backfillProbes = await timed(() => missingBackfillBlocks(pool, 0, block, 10))
  const backfillDistinct = await timed(() => pool.query('SELECT DISTINCT as_of_block AS b FROM metric_value'))
  return (
    `stored history: ${fmtInt(total)} metric values after adding ${fmtInt(added.rowCount ?? 0)} (the full suite's, copied to ${copies} earlier blocks) ` +
    `(${fmtMs(insertMs)}); the latest stored block per series, read by every refresh: ${grouped.toFixed(0)} ms as a GROUP BY, ` +
    `${indexed.toFixed(1)} ms as the loose index scan (latestStoredBlocks); the backfill's missing blocks (every 10 up to ${block}): ` +
    `${backfillDistinct.toFixed(0)} ms as a DISTINCT over the stored values, ${backfillProbes.toFixed(1)} ms as index probes ` +
    `(missingBackfillBlocks); medians of 3`
  )
}

/** The refresh's pool (4 clients), ended at cleanup; an idle client's error (the database dropped at the end) is ignored. */
function benchPool(url: string, cleanup: (() => Promise<void>)[]): Pool {
  const pool = new Pool({connectionString: url, max: 4})
  pool.on('error', () => undefined)
  cleanup.push(() => pool.end())
  return pool
}

/** The connection that writes the generated rows, ended at cleanup: its helper functions and staging table made. */
async function generatorClient(url: string, cleanup: (() => Promise<void>)[]): Promise<Client> {
  const gen = new Client({connectionString: url})
  gen.on('error', () => undefined)
  await gen.connect()
  cleanup.push(() => gen.end())
  await gen.query(`SET synchronous_commit = off`)
  for (const sql of HELPERS_SQL) await gen.query(sql)
  await gen.query(STAGING_DDL)
  return gen
}

/** The development loop of --mirror: the full suite (and its profile) on an existing mirror file. */
async function suiteOnKeptMirror(file: string, pgUrl: string, contracts: ContractsConfig, runs: number, cleanup: (() => Promise<void>)[]): Promise<void> {
  const pool = benchPool(pgUrl, cleanup)
  const mirror = await openAnalyticsDb(file)
  cleanup.push(async () => mirror.close())
  const duck = await mirror.connect()
  const side = await mirror.connect()
  const head = Number((await queryOne(duck, `SELECT height FROM sync_state`)).height)
  console.log(`reusing the mirror ${file} at height ${head} (suite only; not a full benchmark run)`)
  const suiteMs: number[] = []
  for (let run = 1; run <= runs; run++) {
    await forgetKeptBalances(duck)
    await forgetKeptFairness(duck)
    for (const c of [duck, side]) forgetKeptPower(c)
    const t0 = performance.now()
    // --profile: the statements of the last run on both connections.
    const profiled = flag('profile') && run === runs ? [timeStatements(duck, t0), timeStatements(side, t0)] : undefined
    const results = await computeSuite(duck, contracts, head, 0, {sideConnection: side})
    const t1 = performance.now()
    if (profiled) {
      const [onMain, onSide] = profiled.map((p) => p.stop()) as [TimedStatement[], TimedStatement[]]
      printStatementProfile(`full suite run ${run} on the first connection`, onMain)
      printStatementProfile(`full suite run ${run} on the side connection`, onSide)
    }
    await writeResults(pool, results)
    const t2 = performance.now()
    suiteMs.push(t1 - t0)
    console.log(`full suite run ${run}: ${fmtMs(t1 - t0)} (${results.metrics.length} metric values, ${results.lorenz.length} Lorenz points, ${fmtInt(results.fairness.reduce((n, t) => n + t.rows, 0))} fairness table rows in ${results.fairness.length} tables); writeResults ${fmtMs(t2 - t1)}`)
  }
  console.log(`full suite median of ${runs}: ${fmtMs(median(suiteMs))}; peak RSS ${peakRssMiB().toFixed(0)} MiB`)
  if (flag('profile')) await profileSuite(duck, contracts, head)
}

// ---------------------------------------------------------------------------------------------------------------
// Incremental rounds

interface IncrementalContext {
  gen: Client
  pool: Pool
  duck: DuckDBConnection
  side: DuckDBConnection
  contracts: ContractsConfig
  plan: BasePlan
  /** Advanced by every round (the next proposal, contribution, the epoch paid). */
  state: IncrementState
  head: number
  rounds: number
  increment: number
  perBlock: number
  /** Called after each round's rows are in Postgres (--keep: where the next run resumes). */
  afterInsert?: (head: number) => Promise<void>
}

interface IncrementalFigures {
  head: number
  refreshMs: number[]
  syncMs: number[]
  incSuiteMs: number[]
  incWriteMs: number[]
  /** Of the rounds that neither built the kept state (the first) nor rewrote the fairness tables. */
  typicalMs: number[]
  /** The CPU of those rounds, undefined when Postgres' backends are not visible from here. */
  typicalCpu: RoundCpu[] | undefined
}

/** The CPU one refresh cost, in ms. */
interface RoundCpu {
  /** This process: the JavaScript thread, DuckDB's threads, V8's background threads (compiler, garbage collector). */
  process: number
  /** The JavaScript thread alone (with the parsing and planning DuckDB does on the calling thread). */
  javascript: number
  /** The Postgres backends serving the bench database (the sync's copy, the results' upserts). */
  postgres: number
}

/**
 * Step 4: `rounds` times, +`increment` audit rows in new blocks above `head`, then refreshAnalytics as the follower
 * calls it. Prints each round and the medians.
 */
async function incrementalRounds(ctx: IncrementalContext): Promise<IncrementalFigures> {
  const {gen, pool, duck, side, contracts, plan, state, rounds, increment, perBlock} = ctx
  let head = ctx.head
  const typicalMs: number[] = []
  const refreshMs: number[] = []
  const syncMs: number[] = []
  const incSuiteMs: number[] = []
  const incWriteMs: number[] = []
  let typicalCpu: RoundCpu[] | undefined = []
  const incBlocks = Math.max(20, Math.ceil(increment / perBlock))
  const unfinalized = arg('unfinalized', 0)
  if (unfinalized < 0 || unfinalized > incBlocks) throw new Error(`--unfinalized must be between 0 and ${incBlocks} (the blocks of one round)`)
  // --reorg (with --unfinalized N): one more round, outside the medians, whose sync also finds the previous round's
  // newest blocks replaced (REORG_DEPTH of them, at most N): it rolls them back and pulls them again.
  const reorg = flag('reorg')
  if (reorg && unfinalized === 0) throw new Error('--reorg needs --unfinalized N: only unfinalized blocks are reorged')
  for (let round = 1; round <= rounds + (reorg ? 1 : 0); round++) {
    const reorgRound = round > rounds
    const ti = performance.now()
    const replaced = reorgRound ? await replaceNewestBlocks(gen, head, Math.min(REORG_DEPTH, unfinalized)) : 0
    const n = await stageAndInsert(gen, incrementStagingSql(plan, state, head + 1, incBlocks, increment))
    head += incBlocks
    await ctx.afterInsert?.(head)
    // --unfinalized N: the newest N blocks stay unfinalized, as behind a live chain's head, so each sync also compares
    // the previous sync's unfinalized tail with Postgres (unfinalized-tail.ts), and keeps it unless a --reorg round
    // replaced part of it.
    await setIndexStatus(gen, head - unfinalized, head)
    const insertMs = performance.now() - ti
    const status = await readIndexStatus(gen)
    // The CPU of Postgres' backends and of the JavaScript thread, read around the refresh: where its CPU goes.
    const backendsBefore = await backendCpuSeconds(gen)
    const jsBefore = threadCpuSeconds(process.pid, process.pid)
    // --profile: every DuckDB statement of the last round that writes no fairness table (the typical refresh).
    // Both connections, so the sync's statements, the suite's on the syncing connection and those on the side
    // connection are each summed: what a refresh spends outside DuckDB (Postgres, the process) is the rest.
    const origin = performance.now()
    const cpuBefore = process.cpuUsage()
    const faultsBefore = process.resourceUsage().minorPageFault
    const profiled = flag('profile') && round === Math.max(1, rounds - 1) ? [timeStatements(duck, origin), timeStatements(side, origin)] : undefined
    const jsProfile = argText('cpu-profile') && round === Math.max(1, rounds - 1) ? await startJsProfile() : undefined
    const run = await refreshAnalytics({duck, pg: pool, contracts, backfillEvery: 0, tablesEvery: 1000, tablesRefreshBlocks: 100, keepState: true, side})
    if (jsProfile) writeFileSync(argText('cpu-profile')!, JSON.stringify(await jsProfile()))
    if (profiled) {
      const [onMain, onSide] = profiled.map((p) => p.stop()) as [TimedStatement[], TimedStatement[]]
      const inSync = onMain.filter((t) => t.at < run.sync.ms)
      printStatementProfile(`incremental round ${round}, the sync (${fmtMs(run.sync.ms)})`, inSync)
      printStatementProfile(`incremental round ${round}, the suite on the syncing connection`, onMain.filter((t) => t.at >= run.sync.ms))
      printStatementProfile(`incremental round ${round}, the suite on the side connection`, onSide)
      const timeline = argText('timeline')
      if (timeline) writeTimeline(timeline, onMain, onSide)
    }
    // The rows rolled back (--reorg) are pulled again beside the new ones.
    if (run.sync.pulled !== n + run.sync.droppedUnfinalized || run.sync.droppedUnfinalized !== replaced) {
      throw new Error(`round ${round}: sync pulled ${run.sync.pulled}, inserted ${n}, rolled back ${run.sync.droppedUnfinalized} of ${replaced} replaced`)
    }
    if (run.blocks.at(-1) !== status.height) throw new Error(`round ${round}: suite at ${String(run.blocks.at(-1))}, head ${status.height}`)
    // This process's CPU time (the JavaScript thread, DuckDB's threads) beside the wall time: at ~2× the wall time
    // the refresh is bound by the machine's two cores, and only less work shortens it, not more overlap.
    const cpu = process.cpuUsage(cpuBefore)
    // Page faults: memory the process touched for the first time since the kernel mapped it (or since an allocator
    // gave it back). On a VM whose faults are slow they are a cost of their own, counted in the system CPU time.
    const faults = process.resourceUsage().minorPageFault - faultsBefore
    const jsAfter = threadCpuSeconds(process.pid, process.pid)
    const postgresS = backendCpuBetween(backendsBefore, await backendCpuSeconds(gen))
    const roundCpu: RoundCpu | undefined =
      jsBefore === undefined || jsAfter === undefined || postgresS === undefined
        ? undefined
        : {process: (cpu.user + cpu.system) / 1000, javascript: (jsAfter - jsBefore) * 1000, postgres: postgresS * 1000}
    if (!reorgRound) {
      refreshMs.push(run.ms)
      syncMs.push(run.sync.ms)
      incSuiteMs.push(run.suiteMs)
      incWriteMs.push(run.writeMs)
      if (round > 1 && run.fairnessRows === 0) {
        typicalMs.push(run.ms)
        typicalCpu = roundCpu && typicalCpu ? [...typicalCpu, roundCpu] : undefined
      }
    }
    console.log(
      `${reorgRound ? 'reorg round (not in the medians)' : `incremental round ${round}`}: +${fmtInt(n)} rows in blocks ${head - incBlocks + 1}..${head} (inserted in ${fmtMs(insertMs)})` +
        `${run.sync.droppedUnfinalized > 0 ? `, ${fmtInt(run.sync.droppedUnfinalized)} unfinalized rows rolled back and pulled again` : ''}` +
        `${run.sync.keptUnfinalized > 0 ? `, ${fmtInt(run.sync.keptUnfinalized)} unfinalized rows checked and kept` : ''}; ` +
        `refreshAnalytics ${fmtMs(run.ms)} = sync ${fmtMs(run.sync.ms)} + suite ${fmtMs(run.suiteMs)} + write ${fmtMs(run.writeMs)} ` +
        `+ bookkeeping ${fmtMs(run.ms - run.sync.ms - run.suiteMs - run.writeMs)} (${run.metricValues} values, ${fmtInt(run.fairnessRows)} fairness table rows); ` +
        `CPU ${fmtMs((cpu.user + cpu.system) / 1000)} (system ${fmtMs(cpu.system / 1000)}${roundCpu ? `; the JavaScript thread ${fmtMs(roundCpu.javascript)}` : ''}), ` +
        `${roundCpu ? `Postgres ${fmtMs(roundCpu.postgres)}, ` : ''}${fmtInt(faults)} page faults`,
    )
  }
  console.log(`incremental refresh median of ${rounds}: ${fmtMs(median(refreshMs))} (target < ${fmtMs(TARGET_INCREMENTAL_MS)}); medians of its parts: sync ${fmtMs(median(syncMs))}, suite ${fmtMs(median(incSuiteMs))}, write ${fmtMs(median(incWriteMs))}`)
  if (typicalMs.length > 0) {
    console.log(`  typical rounds (not the first, which builds the kept state, nor one that rewrites the fairness tables): ${typicalMs.map((ms) => ms.toFixed(0)).join(', ')} ms, median ${fmtMs(median(typicalMs))}`)
    console.log(`  ${cpuFloorText(typicalCpu)}`)
  }
  return {head, refreshMs, syncMs, incSuiteMs, incWriteMs, typicalMs, typicalCpu}
}

/**
 * The wall-time floor the typical rounds' CPU puts on a refresh: this process's CPU and Postgres' (both on this
 * machine's cores) can take no less than their sum divided by the cores, however the work overlaps. The median of the
 * rounds' sums, not the sum of the medians.
 */
function cpuFloorText(rounds: readonly RoundCpu[] | undefined): string {
  const floor = cpuFloorMs(rounds)
  if (rounds === undefined || floor === undefined) return `CPU of the typical rounds: Postgres' backends not visible from here, so no floor from CPU`
  const cores = os.availableParallelism()
  const total = floor * cores
  return (
    `CPU of the typical rounds (medians): this process ${fmtMs(median(rounds.map((r) => r.process)))}, of which the JavaScript thread ` +
    `${fmtMs(median(rounds.map((r) => r.javascript)))}; Postgres ${fmtMs(median(rounds.map((r) => r.postgres)))}; together ${fmtMs(total)}: ` +
    `on ${cores} cores a refresh takes at least ${fmtMs(floor)} however its work overlaps (target < ${fmtMs(TARGET_INCREMENTAL_MS)})`
  )
}

/** The floor of cpuFloorText in ms; undefined without rounds or without Postgres' figures. */
function cpuFloorMs(rounds: readonly RoundCpu[] | undefined): number | undefined {
  if (rounds === undefined || rounds.length === 0) return undefined
  return median(rounds.map((r) => r.process + r.postgres)) / os.availableParallelism()
}

// ---------------------------------------------------------------------------------------------------------------
// --keep / --resume: a development loop for the incremental refresh

/** What --keep DIR leaves for --resume DIR beside the mirror file: the database and where the rounds stopped. */
interface KeptBench {
  adminUrl: string
  dbName: string
  dbUrl: string
  events: number
  accounts: number
  perBlock: number
  head: number
  state: IncrementState
}

const KEPT_MIRROR = 'analytics.duckdb'
const KEPT_STATE = 'bench.json'

async function writeKept(dir: string, kept: KeptBench): Promise<void> {
  // Written after each round's insert, with the state the next round's rows follow: a run stopped mid-round resumes
  // above the rows it inserted (the sync then pulls any the mirror missed).
  writeFileSync(path.join(dir, KEPT_STATE), JSON.stringify(kept, null, 2))
}

function readKept(dir: string): KeptBench {
  return JSON.parse(readFileSync(path.join(dir, KEPT_STATE), 'utf8')) as KeptBench
}

/**
 * --resume DIR: more incremental rounds on what --keep DIR left (its database and mirror, both at the same head), with
 * no generation, load or full suite: ~20 s for 5 rounds here instead of ~6–10 minutes, for comparing two builds or
 * settings in alternation.
 * The first round builds the kept state again (a new process). Not a benchmark run: no SUMMARY line. The database must
 * be on a server that outlived the first run (not the embedded one, which stops with it).
 */
async function resumeKept(dir: string, rounds: number, cleanup: (() => Promise<void>)[]): Promise<void> {
  const kept = readKept(dir)
  const plan = basePlan(kept.events, kept.accounts, kept.perBlock)
  const gen = await generatorClient(kept.dbUrl, cleanup)
  const pool = benchPool(kept.dbUrl, cleanup)
  const mirror = await openAnalyticsDb(path.join(dir, KEPT_MIRROR))
  cleanup.push(async () => mirror.close())
  const duck = await mirror.connect()
  const side = await mirror.connect()
  // Postgres' newest block, not the file's: a run stopped between a round's insert and its write of the file left
  // rows above the file's head.
  const newest = await gen.query<{b: string}>(`SELECT block_number::text AS b FROM audit_event ORDER BY id DESC LIMIT 1`)
  const head = Math.max(kept.head, Number(newest.rows[0]?.b ?? -1))
  console.log(`resuming ${kept.dbName} at block ${head} (incremental rounds only; not a full benchmark run)`)
  const afterInsert = async (at: number) => writeKept(dir, {...kept, head: at})
  const inc = await incrementalRounds({gen, pool, duck, side, contracts: benchContracts(), plan, state: kept.state, head, rounds, increment: arg('increment', 10_000), perBlock: kept.perBlock, afterInsert})
  console.log(`kept: at block ${inc.head} in ${dir}; peak RSS ${peakRssMiB().toFixed(0)} MiB`)
}

/** --discard DIR: drops the database --keep DIR kept and removes DIR. */
async function discardKept(dir: string): Promise<void> {
  const kept = readKept(dir)
  await dropDatabase(kept.adminUrl, kept.dbName)
  rmSync(dir, {recursive: true, force: true})
  console.log(`dropped ${kept.dbName} and removed ${dir}`)
}

async function main(): Promise<void> {
  const events = arg('events', 10_000_000)
  const accounts = arg('accounts', 1_000_000)
  const perBlock = arg('per-block', 500)
  const runs = Math.max(1, arg('runs', 3))
  const rounds = Math.max(1, arg('rounds', 7))
  const increment = arg('increment', 10_000)
  const keptMirror = argText('mirror')
  const benchStart = performance.now()
  const cleanup: (() => Promise<void>)[] = []
  let cleaning: Promise<void> | undefined
  const runCleanup = () =>
    (cleaning ??= (async () => {
      for (const step of cleanup.reverse()) await step().catch((e) => console.error('cleanup:', e instanceof Error ? e.message : e))
    })())
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: dropping the bench database and temp files`)
      void runCleanup().finally(() => process.exit(130))
    })
  }
  // --keep DIR: the database and the mirror stay for --resume DIR (a development loop for the incremental refresh).
  const keepDir = argText('keep')
  let keepDatabase = false
  try {
    const resumeDir = argText('resume')
    if (resumeDir !== undefined) return await resumeKept(resumeDir, rounds, cleanup)
    const discardDir = argText('discard')
    if (discardDir !== undefined) return await discardKept(discardDir)
    const adminUrl = await postgresForBench(cleanup)
    const db = await createRandomDatabase(adminUrl, 'deai_bench_analytics')
    cleanup.push(() => (keepDatabase ? Promise.resolve() : db.drop()))
    await applyMigrations(db.url)
    const contracts = benchContracts()
    if (keptMirror !== undefined && existsSync(keptMirror)) return await suiteOnKeptMirror(keptMirror, db.url, contracts, runs, cleanup)
    if (keepDir !== undefined) {
      if (existsSync(keepDir)) throw new Error(`--keep ${keepDir}: it exists already (--discard it first)`)
      mkdirSync(keepDir, {recursive: true})
    }

    // 1. Generation, inside Postgres.
    const plan = basePlan(events, accounts, perBlock)
    console.log(
      `generating ${fmtInt(events)} audit rows for ${fmtInt(accounts)} accounts in blocks ${plan.firstBlock}..${plan.firstBlock + plan.blocks - 1} ` +
        `(~${perBlock}/block): ${Object.entries(plan.counts).map(([k, n]) => `${k} ${fmtInt(n)}`).join(', ')}`,
    )
    const gen = await generatorClient(db.url, cleanup)
    await gen.query(`SET work_mem = '1GB'`)
    await gen.query(`SET maintenance_work_mem = '1GB'`)
    await gen.query(`SELECT setseed(0.42)`)
    const tg = performance.now()
    const staged = baseStagingSql(plan)
    await gen.query('TRUNCATE bench_gen')
    for (const sql of staged) await gen.query(sql)
    const stagedMs = performance.now() - tg
    const inserted = (await gen.query(FINAL_INSERT_SQL)).rowCount ?? 0
    await gen.query('TRUNCATE bench_gen')
    await gen.query('DROP TABLE bench_prop, bench_contrib, bench_epoch')
    if (inserted !== events) throw new Error(`generated ${inserted} audit rows, expected ${events}`)
    let head = plan.firstBlock + plan.blocks - 1
    await setFinalizedHeight(gen, head)
    await gen.query('ANALYZE audit_event')
    const genMs = performance.now() - tg
    const pgSize = (await gen.query<{s: string}>(`SELECT pg_size_pretty(pg_total_relation_size('audit_event')) AS s`)).rows[0]?.s
    console.log(
      `generated ${fmtInt(inserted)} audit rows in ${fmtMs(genMs)} (staging ${fmtMs(stagedMs)}, insert into audit_event ${fmtMs(genMs - stagedMs)}); ` +
        `audit_event is ${pgSize} in Postgres; finalized height ${head} (not part of the targets)`,
    )

    // 2. Load into a fresh DuckDB file.
    const pool = benchPool(db.url, cleanup)
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'deai-bench-analytics-'))
    cleanup.push(async () => rmSync(tmp, {recursive: true, force: true}))
    const mirror: AnalyticsDb = await openAnalyticsDb(keepDir !== undefined ? path.join(keepDir, KEPT_MIRROR) : (keptMirror ?? path.join(tmp, 'analytics.duckdb')))
    cleanup.push(async () => mirror.close())
    const duck = await mirror.connect()
    // The follower's second connection (follow.ts): the suite runs the measurements that need no kept state on it.
    const side = await mirror.connect()
    console.log(`  RSS before load: peak ${peakRssMiB().toFixed(0)} MiB, now ${(procStatusKiB('VmRSS') / 1024).toFixed(0)} MiB`)
    const load = await syncFromPostgres(duck, pool)
    if (load.pulled !== events) throw new Error(`sync pulled ${load.pulled} rows, expected ${events}`)
    const loadRowsPerS = load.pulled / (load.ms / 1000)
    console.log(
      `load: ${fmtInt(load.pulled)} rows in ${fmtMs(load.ms)} → ${fmtInt(loadRowsPerS)} rows/s ` +
        `(COPY → CSV → read_csv → typed extraction; typed rows: ${Object.entries(load.typed).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${fmtInt(n)}`).join(', ')})`,
    )
    console.log(`  RSS after load: peak ${peakRssMiB().toFixed(0)} MiB, now ${(procStatusKiB('VmRSS') / 1024).toFixed(0)} MiB; ${await duckMemory(duck)}`)

    // 3. Full suite at the head.
    const suiteMs: number[] = []
    const writeMs: number[] = []
    let results: SuiteResults | undefined
    for (let run = 1; run <= runs; run++) {
      // Each run from the mirror alone: without the balances or voting power a previous run kept sorted, or the
      // fairness amounts it kept.
      await forgetKeptBalances(duck)
      await forgetKeptFairness(duck)
      for (const c of [duck, side]) forgetKeptPower(c)
      const t0 = performance.now()
      results = await computeSuite(duck, contracts, head, 0, {sideConnection: side})
      const t1 = performance.now()
      await writeResults(pool, results)
      const t2 = performance.now()
      suiteMs.push(t1 - t0)
      writeMs.push(t2 - t1)
      console.log(
        `full suite run ${run}: ${fmtMs(t1 - t0)} (${results.metrics.length} metric values, ${results.lorenz.length} Lorenz points, ` +
          `${fmtInt(results.fairness.reduce((n, t) => n + t.rows, 0))} fairness table rows in ${results.fairness.length} tables); writeResults ${fmtMs(t2 - t1)}`,
      )
    }
    const suiteMedian = median(suiteMs)
    const writeMedian = median(writeMs)
    console.log(`full suite median of ${runs}: ${fmtMs(suiteMedian)} (target < ${fmtMs(TARGET_SUITE_MS)}); writeResults median ${fmtMs(writeMedian)}`)
    if (suiteMedian > TARGET_SUITE_MS || flag('profile')) await profileSuite(duck, contracts, head)

    const fullSuiteBlock = head
    // 4. Incremental refresh after +increment events.
    const state: IncrementState = {nextProposal: plan.proposals, nextContribution: plan.contributions + 1, lastEpoch: plan.epochs}
    const afterInsert =
      keepDir === undefined ? undefined : async (at: number) => writeKept(keepDir, {adminUrl, dbName: db.name, dbUrl: db.url, events, accounts, perBlock, head: at, state})
    const inc = await incrementalRounds({gen, pool, duck, side, contracts, plan, state, head, rounds, increment, perBlock, afterInsert})
    head = inc.head
    const refreshMedian = median(inc.refreshMs)
    const syncMedian = median(inc.syncMs)
    if (keepDir !== undefined) {
      // The resume point is written already, after the last round's insert (afterInsert).
      console.log(`kept: database ${db.name} and the mirror in ${keepDir}, at block ${head}: --resume ${keepDir} runs more rounds, --discard ${keepDir} drops both`)
      keepDatabase = true
    }

    // 5. Memory.
    const rssMiB = peakRssMiB()
    // 6. A refresh's read of the stored series once metric_value holds a long history (it is never pruned).
    const history = await storedHistoryReads(gen, pool, fullSuiteBlock)
    console.log(history)
    console.log(`peak RSS (VmHWM of this process, DuckDB in-process): ${rssMiB.toFixed(0)} MiB (target < ${TARGET_RSS_MIB} MiB); ${await duckMemory(duck)}`)
    const ok = (b: boolean) => (b ? 'ok' : 'MISSED')
    const floorMs = cpuFloorMs(inc.typicalCpu)
    console.log(
      `SUMMARY analytics bench, ${fmtInt(events)} events / ${fmtInt(accounts)} accounts: load ${fmtInt(loadRowsPerS)} rows/s; ` +
        `full suite median ${fmtMs(suiteMedian)} (< 5 s: ${ok(suiteMedian < TARGET_SUITE_MS)}), writeResults ${fmtMs(writeMedian)}; ` +
        `incremental refresh (+${fmtInt(increment)}) median ${fmtMs(refreshMedian)} (< 500 ms: ${ok(refreshMedian < TARGET_INCREMENTAL_MS)}), sync ${fmtMs(syncMedian)}` +
        `${floorMs === undefined ? '' : `, floor from its CPU ${fmtMs(floorMs)}`}; ` +
        `peak RSS ${rssMiB.toFixed(0)} MiB (< 2048 MiB: ${ok(rssMiB < TARGET_RSS_MIB)}); bench wall time ${fmtMs(performance.now() - benchStart)}`,
    )
  } finally {
    await runCleanup()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
