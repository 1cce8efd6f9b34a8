/**
 * Reference implementations of the participation, fairness, validator and insider metrics, written the plain
 * way from the definitions in participation.ts, fairness.ts, validators.ts and insiders.ts (exact bigint
 * arithmetic, numbers only at the end). What the SQL is tested against; not for production.
 */
import type { FairnessResult, FairnessRow, FairnessStatus } from './fairness'
import { FAIRNESS_MARGIN } from './fairness'
import type { InsiderOverlapResult } from './insiders'
import type { ParticipationResult, RepeatVotersResult } from './participation'
import { concentrationRef, giniOfAll, ratio } from './reference'
import type { ValidatorMetrics } from './validators'

export interface VoteRecord { voter: string; support: number; weight: bigint }
export interface AmountRecord { entity: string; amount: bigint }
export interface ValidationRecord { validator: string; contributor: string }

const byWeightDesc = (a: { w: bigint; name: string }, b: { w: bigint; name: string }): number =>
  a.w > b.w ? -1 : a.w < b.w ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0

export function participationRef(votes: readonly VoteRecord[], supply: bigint, quorum: bigint): ParticipationResult {
  const counted = votes.filter((v) => v.support === 0 || v.support === 1 || v.support === 2)
  const tally = (support: number): bigint => counted.filter((v) => v.support === support).reduce((a, v) => a + v.weight, 0n)
  const [against, forVotes, abstain] = [tally(0), tally(1), tally(2)]
  const passes = (f: bigint, a: bigint, ab: bigint): boolean => f > a && f + ab >= quorum
  const quorumReached = forVotes + abstain >= quorum
  const succeeded = passes(forVotes, against, abstain)
  // the deciding side's voters, one entry per voter, largest first
  const side = new Map<string, bigint>()
  for (const v of counted) if (v.support === (succeeded ? 1 : 0)) side.set(v.voter, (side.get(v.voter) ?? 0n) + v.weight)
  const ranked = [...side].map(([name, w]) => ({ name, w })).sort(byWeightDesc)
  let pivotality: number | null = null
  let removed = 0n
  for (let k = 1; k <= ranked.length && pivotality === null; k++) {
    removed += ranked[k - 1]?.w ?? 0n
    const flipped = succeeded
      ? !passes(forVotes - removed, against, abstain)
      : quorumReached && passes(forVotes, against - removed, abstain)
    if (flipped) pivotality = k
  }
  return {
    forVotes: forVotes.toString(),
    againstVotes: against.toString(),
    abstainVotes: abstain.toString(),
    uniqueVoters: new Set(counted.map((v) => v.voter)).size,
    turnout: supply > 0n ? ratio(forVotes + against + abstain, supply) : null,
    quorumReached,
    voteSucceeded: forVotes > against,
    succeeded,
    pivotality,
  }
}

export function repeatVotersRef(votes: readonly { proposal: string; voter: string }[], minProposals = 2): RepeatVotersResult {
  const perVoter = new Map<string, Set<string>>()
  for (const v of votes) perVoter.set(v.voter, (perVoter.get(v.voter) ?? new Set()).add(v.proposal))
  const repeatVoters = [...perVoter.values()].filter((s) => s.size >= minProposals).length
  return {
    proposals: new Set(votes.map((v) => v.proposal)).size,
    voters: perVoter.size,
    repeatVoters,
    repeatVoterShare: perVoter.size > 0 ? repeatVoters / perVoter.size : null,
  }
}

function totals(records: readonly AmountRecord[]): Map<string, bigint> {
  const out = new Map<string, bigint>()
  for (const r of records) if (r.amount > 0n) out.set(r.entity, (out.get(r.entity) ?? 0n) + r.amount)
  return out
}

/** Average ranks (1-based, ties share the mean of their positions), in input order. */
export function averageRanks(values: readonly bigint[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0))
  const ranks = new Array<number>(values.length).fill(0)
  for (let start = 0; start < order.length;) {
    let end = start
    while (end + 1 < order.length && order[end + 1]?.v === order[start]?.v) end++
    for (let k = start; k <= end; k++) ranks[order[k]?.i ?? 0] = (start + end) / 2 + 1
    start = end + 1
  }
  return ranks
}

function pearson(xs: readonly number[], ys: readonly number[]): number | null {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let sxy = 0, sxx = 0, syy = 0
  xs.forEach((x, i) => {
    const dx = x - mx, dy = (ys[i] ?? 0) - my
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy
  })
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null
}

/**
 * Spearman as FAIRNESS_SQL computes it: exact integer sums of the doubled average ranks a, b (n Σab − Σa Σb over
 * the square root of (n Σa² − (Σa)²)(n Σb² − (Σb)²)), each integer rounded once to a number, clamped to [−1, 1]. The
 * SQL's value must equal this one bit for bit; `pearson` above is the textbook definition it is checked against.
 */
export function spearmanFromRankSums(c: readonly bigint[], r: readonly bigint[]): number | null {
  const {cov, varC: va, varR: vb} = rankSums(c, r)
  return va > 0n && vb > 0n ? Math.max(-1, Math.min(1, Number(cov) / Math.sqrt(Number(va) * Number(vb)))) : null
}

/** Doubled average ranks (rank_min + rank_max), exact, in input order. */
export function doubledRanks(values: readonly bigint[]): bigint[] {
  return averageRanks(values).map((x) => BigInt(2 * x))
}

/** FAIRNESS_SQL's exact rank sums over the doubled ranks a (of c) and b (of r): n Σab − Σa Σb, n Σa² − (Σa)², n Σb² − (Σb)². */
export function rankSums(c: readonly bigint[], r: readonly bigint[]): {cov: bigint; varC: bigint; varR: bigint} {
  const a = doubledRanks(c)
  const b = doubledRanks(r)
  const n = BigInt(a.length)
  const sum = (xs: readonly bigint[]): bigint => xs.reduce((s, x) => s + x, 0n)
  return {
    cov: n * sum(a.map((x, i) => x * (b[i] ?? 0n))) - sum(a) * sum(b),
    varC: n * sum(a.map((x) => x * x)) - sum(a) ** 2n,
    varR: n * sum(b.map((x) => x * x)) - sum(b) ** 2n,
  }
}

function fairnessEntities(contrib: readonly AmountRecord[], reward: readonly AmountRecord[]) {
  const c = totals(contrib)
  const r = totals(reward)
  const names = [...new Set([...c.keys(), ...r.keys()])]
  const C = [...c.values()].reduce((a, v) => a + v, 0n)
  const R = [...r.values()].reduce((a, v) => a + v, 0n)
  const rows = names.map((entity) => {
    const ci = c.get(entity) ?? 0n
    const ri = r.get(entity) ?? 0n
    const p = C > 0n ? ratio(ci, C) : null
    const q = R > 0n ? ratio(ri, R) : null
    let status: FairnessStatus = 'fair'
    if (ri > 0n && (ci === 0n || (q ?? 0) > 2 * (p ?? 0) * (1 + FAIRNESS_MARGIN))) status = 'over'
    else if (ci > 0n && (ri === 0n || (q ?? 0) < 0.5 * (p ?? 0) * (1 - FAIRNESS_MARGIN))) status = 'under'
    return { entity, c: ci, r: ri, p, q, status }
  })
  return { rows, C, R }
}

export function fairnessRef(contrib: readonly AmountRecord[], reward: readonly AmountRecord[]): FairnessResult {
  const { rows, C, R } = fairnessEntities(contrib, reward)
  const n = rows.length
  let tvd = 0
  for (const row of rows) tvd += Math.abs((row.p ?? 0) - (row.q ?? 0))
  return {
    entities: n,
    contributionTotal: C.toString(),
    rewardTotal: R.toString(),
    tvd: C > 0n && R > 0n ? tvd / 2 : null,
    giniRewards: giniOfAll(rows.map((x) => x.r)),
    giniContributions: giniOfAll(rows.map((x) => x.c)),
    spearman: n >= 2 ? pearson(averageRanks(rows.map((x) => x.c)), averageRanks(rows.map((x) => x.r))) : null,
    overRewarded: rows.filter((x) => x.status === 'over').length,
    underRewarded: rows.filter((x) => x.status === 'under').length,
  }
}

/** Same order as FAIRNESS_TABLE_SQL: contribution DESC, reward DESC, entity ASC (byte order; ASCII names). */
export function fairnessTableRef(contrib: readonly AmountRecord[], reward: readonly AmountRecord[]): FairnessRow[] {
  const { rows } = fairnessEntities(contrib, reward)
  rows.sort((a, b) => (a.c !== b.c ? (a.c > b.c ? -1 : 1) : a.r !== b.r ? (a.r > b.r ? -1 : 1) : a.entity < b.entity ? -1 : 1))
  return rows.map((x) => ({
    entity: x.entity,
    contribution: x.c.toString(),
    reward: x.r.toString(),
    contributionShare: x.p,
    rewardShare: x.q,
    rewardToContributionRatio: x.p !== null && x.p > 0 && x.q !== null ? x.q / x.p : null,
    status: x.status,
  }))
}

export function validatorMetricsRef(validations: readonly ValidationRecord[]): ValidatorMetrics {
  const perValidator = new Map<string, bigint>()
  for (const v of validations) perValidator.set(v.validator, (perValidator.get(v.validator) ?? 0n) + 1n)
  const selfValidations = validations.filter((v) => v.validator === v.contributor).length
  return {
    concentration: concentrationRef([...perValidator.values()]),
    validations: validations.length,
    selfValidations,
    selfValidationShare: validations.length > 0 ? selfValidations / validations.length : null,
  }
}

export function insiderOverlapRef(topHolders: readonly string[], reward: readonly AmountRecord[]): InsiderOverlapResult {
  const holders = [...new Set(topHolders)]
  const r = totals(reward)
  const total = [...r.values()].reduce((a, v) => a + v, 0n)
  const insiders = holders.filter((h) => r.has(h))
  const insiderRewards = insiders.reduce((a, h) => a + (r.get(h) ?? 0n), 0n)
  return {
    holders: holders.length,
    overlap: insiders.length,
    overlapShare: holders.length > 0 ? insiders.length / holders.length : null,
    insiderRewards: insiderRewards.toString(),
    totalRewards: total.toString(),
    insiderRewardShare: total > 0n ? ratio(insiderRewards, total) : null,
  }
}
