import {readConcentration} from '../metrics/concentration'
import type {Row} from '../metrics/sql-values'
import type {MetricReading} from './measurement'

/** Row → catalogue readings, one mapper per metric query. Ids match src/analytics/metrics/README.md. */

const num = (row: Row, column: string): number | null => (row[column] == null ? null : Number(row[column]))
const exact = (row: Row, column: string): string | null => (row[column] == null ? null : String(row[column]))
const bool = (row: Row, column: string): number | null => (row[column] == null ? null : row[column] === true ? 1 : 0)

export function concentrationReadings(prefix: string) {
  return (row: Row): MetricReading[] => {
    const c = readConcentration(row)
    return [
      {metric: `${prefix}.count`, value: c.count, exact: String(c.count)},
      {metric: `${prefix}.total`, value: Number(c.total), exact: c.total},
      {metric: `${prefix}.gini`, value: c.gini},
      {metric: `${prefix}.nakamoto_50`, value: c.nakamoto50, exact: c.nakamoto50 == null ? null : String(c.nakamoto50)},
      {metric: `${prefix}.nakamoto_quorum`, value: c.nakamotoQuorum, exact: c.nakamotoQuorum == null ? null : String(c.nakamotoQuorum)},
      {metric: `${prefix}.hhi`, value: c.hhi},
      {metric: `${prefix}.hhi_normalized`, value: c.hhiNormalized},
      {metric: `${prefix}.entropy`, value: c.entropy},
      {metric: `${prefix}.entropy_normalized`, value: c.entropyNormalized},
      {metric: `${prefix}.theil`, value: c.theil},
      {metric: `${prefix}.top1_share`, value: c.top1Share},
      {metric: `${prefix}.top10_share`, value: c.top10Share},
      {metric: `${prefix}.top1pct_share`, value: c.top1PctShare},
    ]
  }
}

/** Concentration of a distribution plus the catalogue's named aliases for it (e.g. fairness.validator_gini). */
export function concentrationWithAliases(aliasPrefix: string) {
  const all = concentrationReadings('concentration')
  return (row: Row): MetricReading[] => {
    const readings = all(row)
    const pick = (id: string) => readings.find((r) => r.metric === `concentration.${id}`)!
    return [
      ...readings,
      {...pick('gini'), metric: `fairness.${aliasPrefix}_gini`},
      {...pick('nakamoto_50'), metric: `fairness.${aliasPrefix}_nakamoto`},
    ]
  }
}

export function participationReadings(row: Row): MetricReading[] {
  return [
    {metric: 'participation.turnout', value: num(row, 'turnout')},
    {metric: 'participation.unique_voters', value: num(row, 'unique_voters'), exact: exact(row, 'unique_voters')},
    {metric: 'participation.pivotality', value: num(row, 'pivotality'), exact: exact(row, 'pivotality')},
    {metric: 'participation.quorum_reached', value: bool(row, 'quorum_reached')},
    {metric: 'participation.succeeded', value: bool(row, 'succeeded')},
    {metric: 'participation.for_votes', value: num(row, 'for_votes'), exact: exact(row, 'for_votes')},
    {metric: 'participation.against_votes', value: num(row, 'against_votes'), exact: exact(row, 'against_votes')},
    {metric: 'participation.abstain_votes', value: num(row, 'abstain_votes'), exact: exact(row, 'abstain_votes')},
  ]
}

export function repeatVoterReadings(row: Row): MetricReading[] {
  return [
    {metric: 'participation.voters', value: num(row, 'voters'), exact: exact(row, 'voters')},
    {metric: 'participation.repeat_voters', value: num(row, 'repeat_voters'), exact: exact(row, 'repeat_voters')},
    {metric: 'participation.repeat_voter_share', value: num(row, 'repeat_voter_share')},
  ]
}

export function fairnessReadings(row: Row): MetricReading[] {
  return [
    {metric: 'fairness.entities', value: num(row, 'entities'), exact: exact(row, 'entities')},
    {metric: 'fairness.contribution_total', value: num(row, 'contribution_total'), exact: exact(row, 'contribution_total')},
    {metric: 'fairness.reward_total', value: num(row, 'reward_total'), exact: exact(row, 'reward_total')},
    {metric: 'fairness.tvd', value: num(row, 'tvd')},
    {metric: 'fairness.gini_rewards', value: num(row, 'gini_rewards')},
    {metric: 'fairness.gini_contributions', value: num(row, 'gini_contributions')},
    {metric: 'fairness.spearman', value: num(row, 'spearman')},
    {metric: 'fairness.over_rewarded', value: num(row, 'over_rewarded'), exact: exact(row, 'over_rewarded')},
    {metric: 'fairness.under_rewarded', value: num(row, 'under_rewarded'), exact: exact(row, 'under_rewarded')},
  ]
}

export function selfValidationReadings(row: Row): MetricReading[] {
  return [
    {metric: 'fairness.validations', value: num(row, 'validations'), exact: exact(row, 'validations')},
    {metric: 'fairness.self_validations', value: num(row, 'self_validations'), exact: exact(row, 'self_validations')},
    {metric: 'fairness.self_validation_share', value: num(row, 'self_validation_share')},
  ]
}

export function insiderReadings(row: Row): MetricReading[] {
  return [
    {metric: 'fairness.insider_overlap_top10', value: num(row, 'overlap'), exact: exact(row, 'overlap')},
    {metric: 'fairness.insider_overlap_share', value: num(row, 'overlap_share')},
    {metric: 'fairness.insider_reward_share', value: num(row, 'insider_reward_share')},
  ]
}

export function delegateActivityReadings(row: Row): MetricReading[] {
  return [
    {metric: 'participation.delegates', value: num(row, 'delegates'), exact: exact(row, 'delegates')},
    {metric: 'participation.active_delegates', value: num(row, 'active_delegates'), exact: exact(row, 'active_delegates')},
    {metric: 'participation.delegate_activity', value: num(row, 'delegate_activity')},
  ]
}
