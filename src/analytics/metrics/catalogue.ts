/**
 * The metric catalogue: every stable metric id with its unit and one-line definition (the full definitions,
 * edge cases included, are in each family's module comment). README.md beside this file lists the same
 * catalogue; a test keeps the two in step. `unit`: share (a ratio in [0, 1]), count, nats, amount (an exact
 * integer: wei, or a count of validations or models; also available as a decimal string), flag (1 = true, 0 = false), rank_correlation ([−1, 1]).
 */
export type MetricUnit = 'share' | 'count' | 'nats' | 'amount' | 'flag' | 'rank_correlation'

export const METRICS = [
  { id: 'concentration.count', unit: 'count', definition: 'number of entities with weight > 0' },
  { id: 'concentration.total', unit: 'amount', definition: 'Σ weight over the entities' },
  { id: 'concentration.gini', unit: 'share', definition: 'Gini coefficient: mean absolute difference / (2 × mean); 0 for one holder' },
  { id: 'concentration.nakamoto_50', unit: 'count', definition: 'fewest largest entities holding strictly more than 50%' },
  { id: 'concentration.nakamoto_quorum', unit: 'count', definition: 'fewest largest entities holding strictly more than the quorum share' },
  { id: 'concentration.hhi', unit: 'share', definition: 'Herfindahl–Hirschman index Σ s²' },
  { id: 'concentration.hhi_normalized', unit: 'share', definition: '(HHI − 1/n) / (1 − 1/n); 1 for one holder' },
  { id: 'concentration.entropy', unit: 'nats', definition: 'Shannon entropy of the shares: −Σ s ln s' },
  { id: 'concentration.entropy_normalized', unit: 'share', definition: 'entropy / ln n; 0 for one holder' },
  { id: 'concentration.theil', unit: 'nats', definition: 'Theil T index: Σ s ln(n s) = ln n − entropy' },
  { id: 'concentration.top1_share', unit: 'share', definition: 'share of the largest entity' },
  { id: 'concentration.top10_share', unit: 'share', definition: 'share of the 10 largest entities' },
  { id: 'concentration.top1pct_share', unit: 'share', definition: 'share of the largest ceil(n / 100) entities' },
  { id: 'participation.for_votes', unit: 'amount', definition: 'weight cast for' },
  { id: 'participation.against_votes', unit: 'amount', definition: 'weight cast against' },
  { id: 'participation.abstain_votes', unit: 'amount', definition: 'weight cast abstaining' },
  { id: 'participation.quorum_reached', unit: 'flag', definition: 'for + abstain >= quorum at the snapshot' },
  { id: 'participation.succeeded', unit: 'flag', definition: 'for > against and quorum reached (OpenZeppelin counting)' },
  { id: 'participation.turnout', unit: 'share', definition: 'weight cast (for + against + abstain) / voting-power supply at the snapshot' },
  { id: 'participation.unique_voters', unit: 'count', definition: 'distinct voters of a proposal (zero-weight votes included)' },
  { id: 'participation.pivotality', unit: 'count', definition: 'fewest largest voters of the deciding side whose removal flips the outcome' },
  { id: 'participation.voters', unit: 'count', definition: 'distinct voters over a set of proposals' },
  { id: 'participation.repeat_voters', unit: 'count', definition: 'voters who voted in at least 2 proposals of the set' },
  { id: 'participation.repeat_voter_share', unit: 'share', definition: 'repeat voters / distinct voters of the set' },
  { id: 'participation.delegates', unit: 'count', definition: 'delegates holding voting power > 0 at the block' },
  { id: 'participation.active_delegates', unit: 'count', definition: 'of those, delegates who voted on at least one proposal up to the block' },
  { id: 'participation.delegate_activity', unit: 'share', definition: 'active delegates / delegates; NULL without delegates' },
  { id: 'fairness.entities', unit: 'count', definition: 'contributors ∪ recipients (positive contribution or reward)' },
  { id: 'fairness.contribution_total', unit: 'amount', definition: 'Σ validated contribution value' },
  { id: 'fairness.reward_total', unit: 'amount', definition: 'Σ rewards paid' },
  { id: 'fairness.tvd', unit: 'share', definition: 'total variation distance ½ Σ |contribution share − reward share|' },
  { id: 'fairness.gini_rewards', unit: 'share', definition: 'Gini of rewards over contributors ∪ recipients (zeros included)' },
  { id: 'fairness.gini_contributions', unit: 'share', definition: 'Gini of contributions over contributors ∪ recipients (zeros included)' },
  { id: 'fairness.spearman', unit: 'rank_correlation', definition: 'Spearman rank correlation of contribution and reward (average ranks for ties)' },
  { id: 'fairness.over_rewarded', unit: 'count', definition: 'entities paid more than 2 × their contribution share (or paid without contributing)' },
  { id: 'fairness.under_rewarded', unit: 'count', definition: 'contributors paid less than ½ × their contribution share (or nothing)' },
  { id: 'fairness.validator_gini', unit: 'share', definition: 'Gini of validations per validator' },
  { id: 'fairness.validator_nakamoto', unit: 'count', definition: 'fewest validators performing strictly more than half of all validations' },
  { id: 'fairness.validations', unit: 'count', definition: 'validations in scope' },
  { id: 'fairness.self_validations', unit: 'count', definition: 'validations where validator = contributor' },
  { id: 'fairness.self_validation_share', unit: 'share', definition: 'self-validations / all validations' },
  { id: 'fairness.insider_overlap_top10', unit: 'count', definition: 'top-10 voting-power holders who received a reward' },
  { id: 'fairness.insider_overlap_share', unit: 'share', definition: 'those holders / top-10 holders' },
  { id: 'fairness.insider_reward_share', unit: 'share', definition: 'rewards received by top-10 holders / all rewards' },
  { id: 'fairness.model_owner_gini', unit: 'share', definition: 'Gini of registered models per owner' },
  { id: 'fairness.model_owner_nakamoto', unit: 'count', definition: 'fewest owners holding strictly more than half of the models' },
] as const satisfies readonly { id: string; unit: MetricUnit; definition: string }[]

export type MetricId = (typeof METRICS)[number]['id']
