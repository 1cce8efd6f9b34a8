import type {DuckDBConnection} from '@duckdb/node-api'
import {ZERO_ADDRESS} from '../../processor/ids'
import {EXACT_SUM, EXACT_SUMS_BY} from '../metrics/exact-sum'
import {BALANCE_TOTAL_SUM_SQL} from './balance-totals'

/**
 * The input relations of the metric jobs, as-of a block, over the mirror's typed tables. Each constant is one
 * query with named parameters ($token, $block, ...), bound by DuckDB, never spliced. Materialize them under the
 * names the metric SQL reads with `materialize()`; each says which relation of src/analytics/metrics it feeds and
 * has that relation's exact column names.
 *
 * Conventions
 * - Distribution shape (`dist`): `(entity VARCHAR, w HUGEINT)`, one row per entity, only w > 0.
 * - `$block` is inclusive: the state at the end of that block. Where it is optional, NULL means "everything
 *   mirrored". Rows above the mirror's finalized height (sync_state.finalized_height) may still be reorged away.
 * - On-chain ids ($proposal, $model, contribution and epoch ids) are decimal strings.
 * - Every uint256 read goes through exact(): a value the mirror could not hold (see schema.ts, oversized_amount)
 *   raises an error naming the event instead of dropping out of a sum.
 */
const exact = (column: string, id: string) =>
  `coalesce(${column}, error('uint256 beyond HUGEINT (|x| >= 2^127) in event ' || ${id} || ': ${column} is in oversized_amount; this scope cannot be measured exactly'))`

const ZERO = `'${ZERO_ADDRESS}'`
/** A transfer's change of the supply (HUGEINT): its value when minted, minus it when burnt. */
const MINT_MINUS_BURN = `(CASE WHEN t.from_addr = ${ZERO} THEN ${exact('t.value', 't.id')} ELSE 0 END -
    CASE WHEN t.to_addr = ${ZERO} THEN ${exact('t.value', 't.id')} ELSE 0 END)`
const BLOCK = 'CAST($block AS BIGINT)'
const MODEL = 'CAST($model AS VARCHAR)'
/** Optional as-of filter and model scope. */
const upTo = (column: string) => `(${BLOCK} IS NULL OR ${column} <= ${BLOCK})`
const inModel = (column: string) => `(${MODEL} IS NULL OR ${column} = ${MODEL})`

/** → dist. Token balances at $block ($token, $block): incoming minus outgoing transfers; the zero address excluded. */
export const BALANCES_AT = `
SELECT entity, w FROM (
  SELECT entity, CAST(sum(w) AS HUGEINT) AS w FROM (
    SELECT t.to_addr AS entity, ${exact('t.value', 't.id')} AS w
    FROM token_transfer t WHERE t.token = $token AND t.block_number <= ${BLOCK}
    UNION ALL
    SELECT t.from_addr, -${exact('t.value', 't.id')}
    FROM token_transfer t WHERE t.token = $token AND t.block_number <= ${BLOCK}
  ) WHERE entity <> ${ZERO} GROUP BY entity
) WHERE w > 0`

/** → dist. Delegated voting power at $block ($token, $block): each delegate's last DelegateVotesChanged.newVotes. */
export const VOTING_POWER_AT = `
SELECT entity, w FROM (
  SELECT v.delegate AS entity, ${exact('v.new_votes', 'v.id')} AS w
  FROM votes_change v WHERE v.token = $token AND v.block_number <= ${BLOCK}
  QUALIFY row_number() OVER (PARTITION BY v.delegate ORDER BY v.id DESC) = 1
) WHERE w > 0`

/** Total supply at $block ($token, $block) → (supply HUGEINT): mints minus burns. */
export const TOTAL_SUPPLY_AT = `
SELECT CAST(coalesce(sum(
  CASE WHEN t.from_addr = ${ZERO} THEN ${exact('t.value', 't.id')} ELSE 0 END -
  CASE WHEN t.to_addr = ${ZERO} THEN ${exact('t.value', 't.id')} ELSE 0 END), 0) AS HUGEINT) AS supply
FROM token_transfer t
WHERE t.token = $token AND t.block_number <= ${BLOCK} AND (t.from_addr = ${ZERO} OR t.to_addr = ${ZERO})`

/**
 * Quorum at a proposal's snapshot ($governor, $proposal, $token = the governor's token) →
 * (snapshot_block, supply, numerator, quorum): OpenZeppelin's GovernorVotesQuorumFraction,
 * supply(voteStart) × numerator(voteStart) / 100, floored. quorum is NULL while the mirror has not passed the
 * snapshot block (as in Postgres' proposal.quorum) or no QuorumNumeratorUpdated is mirrored.
 */
export const QUORUM_AT = `
WITH p AS (
  SELECT ${exact('p.vote_start', 'p.id')} AS snapshot_block FROM proposal p
  WHERE p.governor = $governor AND p.proposal_id = $proposal
), n AS (
  SELECT ${exact('q.numerator', 'q.id')} AS numerator FROM quorum_numerator q, p
  WHERE q.governor = $governor AND q.block_number <= p.snapshot_block
  QUALIFY row_number() OVER (ORDER BY q.id DESC) = 1
), s AS (
  SELECT CAST(coalesce(sum(
    CASE WHEN t.from_addr = ${ZERO} THEN ${exact('t.value', 't.id')} ELSE 0 END -
    CASE WHEN t.to_addr = ${ZERO} THEN ${exact('t.value', 't.id')} ELSE 0 END), 0) AS HUGEINT) AS supply
  FROM token_transfer t, p
  WHERE t.token = $token AND t.block_number <= p.snapshot_block AND (t.from_addr = ${ZERO} OR t.to_addr = ${ZERO})
)
SELECT p.snapshot_block, s.supply, n.numerator,
  CASE WHEN p.snapshot_block <= (SELECT max(height) FROM sync_state) THEN (s.supply * n.numerator) // 100 END AS quorum
FROM p CROSS JOIN s LEFT JOIN n ON true`

/** → dist. Weight cast per voter on one proposal ($governor, $proposal, $block or NULL). */
export const PROPOSAL_WEIGHTS = `
SELECT entity, w FROM (
  SELECT c.voter AS entity, CAST(sum(${exact('c.weight', 'c.id')}) AS HUGEINT) AS w
  FROM vote_cast c WHERE c.governor = $governor AND c.proposal_id = $proposal AND ${upTo('c.block_number')}
  GROUP BY c.voter
) WHERE w > 0`

/**
 * → votes. Votes on one proposal ($governor, $proposal, $block or NULL) → (voter, support 0 against / 1 for /
 * 2 abstain, weight).
 */
export const PROPOSAL_VOTES = `
SELECT c.voter, c.support, ${exact('c.weight', 'c.id')} AS weight
FROM vote_cast c WHERE c.governor = $governor AND c.proposal_id = $proposal AND ${upTo('c.block_number')}`

/*
 * The grouped inputs below read the scopes to measure from the caller's group_keys(g BIGINT, id VARCHAR): `id` is the
 * scope's parameter (a proposal id, a model id) and `g` a number standing for it, which the grouped rows carry. The
 * grouped metric queries partition and sort by g: a BIGINT key made their windows ~20 % faster than the VARCHAR id
 * (a proposal id is a uint256 in decimal).
 */

/**
 * → group_dist (g, entity, w). PROPOSAL_WEIGHTS of every proposal in group_keys (id = the proposal id) at once
 * ($governor, $block or NULL): per g, exactly PROPOSAL_WEIGHTS' rows. For the grouped metric queries
 * (metrics/grouped.ts).
 */
export const PROPOSAL_WEIGHTS_BY_PROPOSAL = proposalWeightsByProposal(false)

/**
 * PROPOSAL_WEIGHTS_BY_PROPOSAL's rows where no (proposal, voter) pair of $governor has two votes (one-vote-each.ts):
 * each voter's sum is its one vote, so no grouping. Not a definition: a route to the same rows (routes.ts).
 */
export const PROPOSAL_WEIGHTS_BY_PROPOSAL_ONE_VOTE_EACH = proposalWeightsByProposal(true)

function proposalWeightsByProposal(oneVoteEach: boolean): string {
  const weight = exact('c.weight', 'c.id')
  return `
SELECT g, entity, w FROM (
  SELECT k.g, c.voter AS entity, CAST(${oneVoteEach ? weight : `sum(${weight})`} AS HUGEINT) AS w
  FROM vote_cast c JOIN group_keys k ON k.id = c.proposal_id WHERE c.governor = $governor AND ${upTo('c.block_number')}${oneVoteEach ? '' : `
  GROUP BY k.g, c.voter`}
) WHERE w > 0`
}

/** → group_votes (g, voter, support, weight). PROPOSAL_VOTES of every proposal in group_keys at once. */
export const PROPOSAL_VOTES_BY_PROPOSAL = `
SELECT k.g, c.voter, c.support, ${exact('c.weight', 'c.id')} AS weight
FROM vote_cast c JOIN group_keys k ON k.id = c.proposal_id WHERE c.governor = $governor AND ${upTo('c.block_number')}`

const VALIDATED = `
  FROM validation v JOIN contribution c ON c.registry = v.registry AND c.contribution_id = v.contribution_id
  WHERE v.registry = $registry AND ${inModel('c.model_id')} AND ${upTo('v.block_number')}`

/**
 * → contrib (contributor, value). Validated contribution per contributor ($registry, $model or NULL for the whole
 * protocol, $block or NULL): sum(units × score) over accepted validations (score in basis points), value > 0.
 */
export const VALIDATED_CONTRIBUTION = `
SELECT contributor, value FROM (
  SELECT c.contributor, CAST(sum(${exact('c.units', 'c.id')} * v.score) AS HUGEINT) AS value
  ${VALIDATED} AND v.accepted GROUP BY c.contributor
) WHERE value > 0`

/**
 * → reward (recipient, amount). Rewards per recipient ($distributor, $model or NULL, $block or NULL), amount > 0.
 * An epoch with model_id '0' is protocol-wide: it counts only when $model is NULL (a model scope matches epochs of
 * that model only).
 */
export const REWARDS = `
SELECT recipient, amount FROM (
  SELECT r.recipient, CAST(sum(${exact('r.amount', 'r.id')}) AS HUGEINT) AS amount
  FROM reward_paid r LEFT JOIN epoch ep ON ep.distributor = r.distributor AND ep.epoch_id = r.epoch_id
  WHERE r.distributor = $distributor AND ${inModel('ep.model_id')} AND ${upTo('r.block_number')}
  GROUP BY r.recipient
) WHERE amount > 0`

/**
 * → top_holders (entity). The $limit largest voting-power holders at $block ($token, $block, $limit); ties broken
 * by address so the set is deterministic.
 */
export const TOP_HOLDERS_AT = `
SELECT entity FROM (${VOTING_POWER_AT}) ORDER BY w DESC, entity LIMIT CAST($limit AS BIGINT)`

/** → validations (validator, contributor). One row per validation ($registry, $model or NULL, $block or NULL). */
export const VALIDATIONS = `SELECT v.validator, c.contributor ${VALIDATED}`

/**
 * → votes_all (proposal, voter). One row per vote on the governor's proposals ($governor, $block or NULL), for the
 * repeat-voter metric.
 */
export const VOTES_ALL = `
SELECT c.proposal_id AS proposal, c.voter FROM vote_cast c WHERE c.governor = $governor AND ${upTo('c.block_number')}`

/** Validations joined to their contribution, of the models in the caller's group_keys (id = model id). */
const VALIDATED_BY_MODEL = `
  FROM validation v JOIN contribution c ON c.registry = v.registry AND c.contribution_id = v.contribution_id
  JOIN group_keys k ON k.id = c.model_id
  WHERE v.registry = $registry AND ${upTo('v.block_number')}`

/**
 * → group_contrib (g, contributor, value). VALIDATED_CONTRIBUTION of every model in group_keys (id = model id) at
 * once ($registry, $block or NULL): per g, exactly VALIDATED_CONTRIBUTION's rows with $model = its id.
 */
export const VALIDATED_CONTRIBUTION_BY_MODEL = `
SELECT g, contributor, value FROM (
  SELECT k.g, c.contributor, CAST(sum(${exact('c.units', 'c.id')} * v.score) AS HUGEINT) AS value
  ${VALIDATED_BY_MODEL} AND v.accepted GROUP BY k.g, c.contributor
) WHERE value > 0`

/** → group_reward (g, recipient, amount). REWARDS of every model in group_keys (id = model id) at once. */
export const REWARDS_BY_MODEL = `
SELECT g, recipient, amount FROM (
  SELECT k.g, r.recipient, CAST(sum(${exact('r.amount', 'r.id')}) AS HUGEINT) AS amount
  FROM reward_paid r JOIN epoch ep ON ep.distributor = r.distributor AND ep.epoch_id = r.epoch_id
  JOIN group_keys k ON k.id = ep.model_id
  WHERE r.distributor = $distributor AND ${upTo('r.block_number')}
  GROUP BY k.g, r.recipient
) WHERE amount > 0`

/** → group_validations (g, validator, contributor). VALIDATIONS of every model in group_keys at once. */
export const VALIDATIONS_BY_MODEL = `SELECT k.g, v.validator, c.contributor ${VALIDATED_BY_MODEL}`

/** → dist. Validations (accepted or not) per validator ($registry, $model or NULL, $block or NULL) → (entity, w = count). */
export const VALIDATIONS_PER_VALIDATOR = `
SELECT v.validator AS entity, CAST(count(*) AS HUGEINT) AS w ${VALIDATED} GROUP BY v.validator`

/** → dist. Self-validations (validator = contributor) per validator ($registry, $model or NULL, $block or NULL). */
export const SELF_VALIDATIONS = `
SELECT v.validator AS entity, CAST(count(*) AS HUGEINT) AS w ${VALIDATED} AND v.validator = c.contributor
GROUP BY v.validator`

/** → models (model, owner). Owner of each model at $block ($registry, $block or NULL). */
export const MODEL_OWNERS_AT = `
SELECT model_id AS model, owner FROM (
  SELECT m.id, m.model_id, m.owner FROM model m WHERE m.registry = $registry AND ${upTo('m.block_number')}
  UNION ALL
  SELECT o.id, o.model_id, o.new_owner FROM model_owner_change o WHERE o.registry = $registry AND ${upTo('o.block_number')}
) QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY id DESC) = 1`

export type InputParams = Record<string, string | number | bigint | null>

/** The $names a query binds, each once. */
export function paramNames(sql: string): string[] {
  return [...new Set([...sql.matchAll(/\$([a-z_][a-z0-9_]*)/gi)].map((m) => m[1]!))]
}

/**
 * (Re)creates TEMP TABLE `name` from one of the queries above; returns its row count. Parameters must match the
 * query's exactly (null for "not set"): DuckDB rejects extra ones with an unhelpful message, so both missing and
 * unknown names are reported here by name. Temp tables belong to the connection: use the same one for the metric.
 */
export async function materialize(conn: DuckDBConnection, name: string, sql: string, params: InputParams = {}): Promise<number> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`materialize: ${JSON.stringify(name)} is not a plain lowercase table name`)
  const wanted = paramNames(sql)
  const missing = wanted.filter((p) => params[p] === undefined)
  const unknown = Object.keys(params).filter((p) => !wanted.includes(p))
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(`materialize ${name}: missing parameters [${missing.join(', ')}], unknown parameters [${unknown.join(', ')}]`)
  }
  // DuckDB answers CREATE TABLE ... AS with the rows it wrote (a Count column): no count(*) of its own, a statement
  // that cost more in its wait for a turn beside the other connection's work than in its scan.
  const created = (await conn.runAndReadAll(`CREATE OR REPLACE TEMP TABLE ${name} AS ${sql}`, params)).getRowObjectsJson()[0]
  if (created?.Count !== undefined && created.Count !== null) return Number(created.Count)
  const count = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${name}`)
  return Number(count.getRowObjectsJson()[0]?.n)
}

/**
 * Snapshot figures of every proposal of $governor created at or below $block whose snapshot (vote_start) is above
 * $after ($governor, $token = the governor's token, $block, $after: NULL for every proposal), in ONE pass instead of
 * QUORUM_AT and a VOTING_POWER_AT sum per proposal → (id, proposal_id, vote_start, vote_end, quorum, power), ordered by
 * the proposal's event id (id). The scan reaches back to the first block whatever $after is; proposal-snapshots.ts keeps
 * finalized answers so that a refresh rarely runs it.
 *
 * - quorum (VARCHAR): exactly QUORUM_AT's quorum: supply(vote_start) × numerator(vote_start) // 100 in HUGEINT,
 *   with supply = mints minus burns of $token at or below vote_start (here a running total over per-block
 *   sums, exact in BIGNUM, joined as-of vote_start) and numerator the last QuorumNumeratorUpdated at or below
 *   vote_start (highest event id). NULL while the mirror has not passed the snapshot or no numerator is mirrored.
 * - power (VARCHAR): exactly the sum of VOTING_POWER_AT at vote_start: each delegate's last new_votes at or
 *   below the block, summed. Computed as a running total of the per-delegate changes (new_votes minus the
 *   delegate's previous new_votes, in event-id order), which telescopes to the same sum; exact in BIGNUM.
 */
export const PROPOSAL_SNAPSHOTS = `
WITH p AS (
  SELECT p.id, p.proposal_id, ${exact('p.vote_start', 'p.id')} AS snapshot_block, p.vote_end
  FROM proposal p WHERE p.governor = $governor AND p.block_number <= ${BLOCK}
    AND ${exact('p.vote_start', 'p.id')} > coalesce(CAST($after AS BIGINT), -1)
),
last_snapshot AS (SELECT max(snapshot_block) AS b FROM p),
mint_burn AS MATERIALIZED (
  SELECT t.block_number, ${MINT_MINUS_BURN} AS d
  FROM token_transfer t, last_snapshot l
  WHERE t.token = $token AND t.block_number <= l.b AND (t.from_addr = ${ZERO} OR t.to_addr = ${ZERO})
),
supply_per_block AS (SELECT block_number, total AS d FROM (${EXACT_SUMS_BY('block_number', 'd', 'mint_burn', 'true')})),
supply AS (
  SELECT block_number, sum(d) OVER (ORDER BY block_number ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS supply
  FROM supply_per_block
),
numerator AS (
  SELECT q.block_number, ${exact('q.numerator', 'q.id')} AS numerator FROM quorum_numerator q
  WHERE q.governor = $governor
  QUALIFY row_number() OVER (PARTITION BY q.block_number ORDER BY q.id DESC) = 1
),
power_change AS MATERIALIZED (
  SELECT v.block_number, v.w - coalesce(lag(v.w) OVER (PARTITION BY v.delegate ORDER BY v.id), 0) AS d
  FROM (
    SELECT v.id, v.block_number, v.delegate, ${exact('v.new_votes', 'v.id')} AS w
    FROM votes_change v, last_snapshot l WHERE v.token = $token AND v.block_number <= l.b
  ) v
),
power_per_block AS (SELECT block_number, total AS d FROM (${EXACT_SUMS_BY('block_number', 'd', 'power_change', 'true')})),
power AS (
  SELECT block_number, sum(d) OVER (ORDER BY block_number ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS power
  FROM power_per_block
),
joined AS (
  SELECT p.id, p.proposal_id, p.snapshot_block, p.vote_end,
    CAST(CAST(coalesce(s.supply, 0::BIGNUM) AS VARCHAR) AS HUGEINT) AS supply, n.numerator
  FROM p ASOF LEFT JOIN supply s ON p.snapshot_block >= s.block_number
  ASOF LEFT JOIN numerator n ON p.snapshot_block >= n.block_number
)
SELECT j.id, j.proposal_id, j.snapshot_block AS vote_start, j.vote_end,
  CAST(CASE WHEN j.snapshot_block <= (SELECT max(height) FROM sync_state) THEN (j.supply * j.numerator) // 100 END AS VARCHAR) AS quorum,
  CAST(coalesce(w.power, 0::BIGNUM) AS VARCHAR) AS power
FROM joined j ASOF LEFT JOIN power w ON j.snapshot_block >= w.block_number
ORDER BY j.id`

/** Mints minus burns of $token in the rows `where` selects (p = the proposal), exact in BIGNUM. */
const mintedMinusBurned = (where: string) =>
  `SELECT ${EXACT_SUM(MINT_MINUS_BURN, 'token_transfer t', `t.token = $token AND ${where} AND (t.from_addr = ${ZERO} OR t.to_addr = ${ZERO})`)}`

/**
 * PROPOSAL_SNAPSHOTS' row for ONE proposal ($governor, $token, $proposal = the proposal row's id, its event id): the
 * same columns, the same values, with no window over the history. For a refresh that needs the figures of one or two
 * newly passed snapshots (the usual case once proposal-snapshots.ts has cached the rest), this is several times cheaper
 * than PROPOSAL_SNAPSHOTS, whose running totals sort every vote change up to the latest snapshot.
 *
 * - quorum: supply(vote_start) times the last QuorumNumeratorUpdated at or below vote_start (highest block, then
 *   highest event id), // 100 in HUGEINT; NULL while the mirror has not passed the snapshot or no numerator is
 *   mirrored. supply is mints minus burns of $token at or below vote_start, exact in BIGNUM, computed one of two ways
 *   (proposalSnapshotAtSql).
 * - power: each delegate's last new_votes at or below vote_start (arg_max by event id), summed exactly in BIGNUM:
 *   the sum VOTING_POWER_AT defines and PROPOSAL_SNAPSHOTS reaches by telescoping.
 */
function proposalSnapshotAtSql(supply: string, power: string): string {
  return `
WITH p AS (
  SELECT p.id, p.proposal_id, ${exact('p.vote_start', 'p.id')} AS snapshot_block, p.vote_end
  FROM proposal p WHERE p.governor = $governor AND p.id = $proposal
),
supply AS (SELECT (${supply}) AS supply),
numerator AS (
  SELECT ${exact('q.numerator', 'q.id')} AS numerator FROM quorum_numerator q, p
  WHERE q.governor = $governor AND q.block_number <= p.snapshot_block
  ORDER BY q.block_number DESC, q.id DESC LIMIT 1
),
power_rows AS MATERIALIZED (${power}),
power AS (SELECT ${EXACT_SUM('w', 'power_rows', 'true')} AS power)
SELECT p.id, p.proposal_id, p.snapshot_block AS vote_start, p.vote_end,
  CAST(CASE WHEN p.snapshot_block <= (SELECT max(height) FROM sync_state)
    THEN (CAST(CAST(s.supply AS VARCHAR) AS HUGEINT) * (SELECT numerator FROM numerator)) // 100 END AS VARCHAR) AS quorum,
  CAST(w.power AS VARCHAR) AS power
FROM p, supply s, power w`
}

/** Each delegate's last new_votes at or below vote_start (w), from every vote change of $token up to it. */
const POWER_AT_SNAPSHOT = `
    SELECT arg_max(${exact('v.new_votes', 'v.id')}, v.id) AS w FROM votes_change v, p
    WHERE v.token = $token AND v.block_number <= p.snapshot_block
    GROUP BY v.delegate`

/**
 * PROPOSAL_SNAPSHOT_AT with supply summed over every mint and burn at or below vote_start (a scan of the token's
 * transfers) and power over every vote change up to it.
 */
export const PROPOSAL_SNAPSHOT_AT = proposalSnapshotAtSql(mintedMinusBurned('t.block_number <= (SELECT snapshot_block FROM p)'), POWER_AT_SNAPSHOT)

/**
 * The sum of $token's balances in balance_state (which never holds the zero address, see balances.ts), exact, as
 * BIGNUM, from the totals the sync keeps of it (balance-totals.ts; balances can be negative, the mirror does not police
 * ERC-20): summing a million balances cost ~35 ms of every refresh that passes a snapshot, ~70 ms in BIGNUM.
 */
const BALANCE_STATE_SUM = `coalesce((SELECT ${BALANCE_TOTAL_SUM_SQL('k')} FROM balance_total k WHERE k.token = $token), 0::BIGNUM)`

/**
 * PROPOSAL_SNAPSHOT_AT from the state the sync keeps, for a recent snapshot:
 * - supply from balance_state's kept sum: the sum of every non-zero account's balance is every mint minus every burn mirrored (a
 *   transfer between accounts adds and takes the same amount), so supply at vote_start is that sum minus the mints and
 *   burns above vote_start, a few blocks' rows. On the benchmark's mirror (1 M mints among 7.9 M transfers) this
 *   supply took ~100 ms against ~500 ms for the scan.
 * - power from delegate_power (delegate-power.ts): a delegate with no vote change above vote_start has its newest
 *   row there; only the few delegates that changed since have their last row at or below vote_start looked up (the
 *   full arg_max grouped all 500,000 vote changes: ~170 ms).
 * Both leave out amounts that did not fit (NULL): use this only while neither does (proposal-snapshots.ts),
 * otherwise PROPOSAL_SNAPSHOT_AT, whose scans raise the error naming the event.
 */
export const PROPOSAL_SNAPSHOT_AT_FROM_STATE = proposalSnapshotAtSql(
  `
  ${BALANCE_STATE_SUM} -
  (${mintedMinusBurned('t.block_number > (SELECT snapshot_block FROM p)')})`,
  `
    WITH moved AS (SELECT DISTINCT v.delegate FROM votes_change v, p WHERE v.token = $token AND v.block_number > p.snapshot_block)
    SELECT d.new_votes AS w FROM delegate_power d WHERE d.token = $token AND d.delegate NOT IN (SELECT delegate FROM moved)
    UNION ALL
    SELECT arg_max(${exact('v.new_votes', 'v.id')}, v.id) FROM votes_change v, p
    WHERE v.token = $token AND v.block_number <= p.snapshot_block AND v.delegate IN (SELECT delegate FROM moved)
    GROUP BY v.delegate`,
)
