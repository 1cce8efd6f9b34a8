import {CONCENTRATION_SQL} from '../metrics/concentration'
import {FAIRNESS_MARGIN, FAIRNESS_SQL} from '../metrics/fairness'
import {CONCENTRATION_BY_GROUP_SQL, PARTICIPATION_BY_GROUP_ONE_VOTE_EACH_SQL, PARTICIPATION_BY_GROUP_SQL} from '../metrics/grouped'
import {
  FAIRNESS_BY_GROUP_FROM_SUMS_SQL,
  FAIRNESS_BY_GROUP_SQL,
  FAIRNESS_COPY_BY_GROUP_FROM_SUMS_SQL,
  FAIRNESS_COPY_BY_GROUP_SQL,
  FAIRNESS_SUMS_BY_GROUP_SQL,
  FAIRNESS_SUMS_RELATION,
  INSIDER_OVERLAP_BY_GROUP_SQL,
  SELF_VALIDATION_BY_GROUP_SQL,
  VALIDATOR_CONCENTRATION_BY_GROUP_SQL,
} from '../metrics/grouped-fairness'
import {INSIDER_OVERLAP_SQL} from '../metrics/insiders'
import {PARTICIPATION_SQL} from '../metrics/participation'
import type {BoundValue} from '../metrics/sql-values'
import {SELF_VALIDATION_SQL, VALIDATOR_CONCENTRATION_SQL} from '../metrics/validators'
import * as inputs from '../store/inputs'
import {INSIDER_OVERLAP_BY_GROUP_FROM_COPY_SQL} from './kept-fairness'

/**
 * The measurement shapes batch.ts computes for many scopes at once: each single input query and metric query of a
 * shape, and the grouped twin that yields, per group, exactly its rows or its result row.
 */
export interface InputShape {
  /** The measurement's input: its query and relation name (the relation name enters a multi-input digest). */
  sql: string
  relation: string
  /** Columns of the single relation, in order: the digest renders each row as this struct. */
  columns: readonly string[]
  /** Its grouped twin; absent when the input does not depend on the group (materialized once, digested once). */
  grouped?: {sql: string; relation: string}
}

export interface QueryShape {
  sql: string
  grouped: string
  /**
   * The grouped query's twin over the kept fairness copy (kept-fairness.ts), for a batch whose grouped rewards the
   * copy stands for without having filled group_reward; a shape reading group_reward without one has it filled.
   */
  fromKeptCopy?: string
  /**
   * The grouped query's twin for votes of which no voter has two on one proposal (store/one-vote-each.ts), for a batch
   * whose governor is known to have none.
   */
  oneVoteEach?: string
  /** The grouped query's twin over the shape's shared sums (Shape.sums), for a batch that keeps them. */
  fromSums?: string
  /** Parameters that differ per group: they go into group_keys (as VARCHAR columns of the same name). */
  perGroupParams?: readonly string[]
}

export interface Shape {
  /** The input parameter that tells the scopes apart; it becomes group_keys.g. */
  groupParam: 'proposal' | 'model'
  inputs: readonly InputShape[]
  queries: readonly QueryShape[]
  /**
   * Per group over the same inputs, the suite's fairness table as COPY text (FAIRNESS_COPY_SQL): one row (g, rows,
   * lines) per group that has table rows.
   */
  table?: {sql: string; params: Record<string, BoundValue>; fromSums?: string}
  /**
   * What the shape's query and its table both compute first, kept once as TEMP TABLE `relation` by a batch that runs
   * both over the inputs' rows (the fairness summary and table: their per-entity sums, grouped-fairness.ts).
   */
  sums?: {sql: string; relation: string; params: Record<string, BoundValue>}
}

const REWARDS: InputShape = {
  sql: inputs.REWARDS,
  relation: 'reward',
  columns: ['recipient', 'amount'],
  grouped: {sql: inputs.REWARDS_BY_MODEL, relation: 'group_reward'},
}

/** Limit of the stored fairness table per scope (as suite.ts's FAIRNESS_COPY_SQL query). */
export const FAIRNESS_TABLE_LIMIT = 10_000

export const SHAPES: readonly Shape[] = [
  {
    groupParam: 'proposal',
    inputs: [{sql: inputs.PROPOSAL_WEIGHTS, relation: 'dist', columns: ['entity', 'w'], grouped: {sql: inputs.PROPOSAL_WEIGHTS_BY_PROPOSAL, relation: 'group_dist'}}],
    queries: [{sql: CONCENTRATION_SQL, grouped: CONCENTRATION_BY_GROUP_SQL}],
  },
  {
    groupParam: 'proposal',
    inputs: [
      {sql: inputs.PROPOSAL_VOTES, relation: 'votes', columns: ['voter', 'support', 'weight'], grouped: {sql: inputs.PROPOSAL_VOTES_BY_PROPOSAL, relation: 'group_votes'}},
    ],
    queries: [
      {sql: PARTICIPATION_SQL, grouped: PARTICIPATION_BY_GROUP_SQL, oneVoteEach: PARTICIPATION_BY_GROUP_ONE_VOTE_EACH_SQL, perGroupParams: ['supply', 'quorum']},
    ],
  },
  {
    groupParam: 'model',
    inputs: [
      {
        sql: inputs.VALIDATED_CONTRIBUTION,
        relation: 'contrib',
        columns: ['contributor', 'value'],
        grouped: {sql: inputs.VALIDATED_CONTRIBUTION_BY_MODEL, relation: 'group_contrib'},
      },
      REWARDS,
    ],
    queries: [{sql: FAIRNESS_SQL, grouped: FAIRNESS_BY_GROUP_SQL, fromSums: FAIRNESS_BY_GROUP_FROM_SUMS_SQL}],
    table: {sql: FAIRNESS_COPY_BY_GROUP_SQL, params: {margin: FAIRNESS_MARGIN, limit: FAIRNESS_TABLE_LIMIT}, fromSums: FAIRNESS_COPY_BY_GROUP_FROM_SUMS_SQL},
    sums: {sql: FAIRNESS_SUMS_BY_GROUP_SQL, relation: FAIRNESS_SUMS_RELATION, params: {margin: FAIRNESS_MARGIN}},
  },
  {
    groupParam: 'model',
    inputs: [
      {sql: inputs.VALIDATIONS, relation: 'validations', columns: ['validator', 'contributor'], grouped: {sql: inputs.VALIDATIONS_BY_MODEL, relation: 'group_validations'}},
    ],
    queries: [
      {sql: VALIDATOR_CONCENTRATION_SQL, grouped: VALIDATOR_CONCENTRATION_BY_GROUP_SQL},
      {sql: SELF_VALIDATION_SQL, grouped: SELF_VALIDATION_BY_GROUP_SQL},
    ],
  },
  {
    groupParam: 'model',
    inputs: [{sql: inputs.TOP_HOLDERS_AT, relation: 'top_holders', columns: ['entity']}, REWARDS],
    queries: [{sql: INSIDER_OVERLAP_SQL, grouped: INSIDER_OVERLAP_BY_GROUP_SQL, fromKeptCopy: INSIDER_OVERLAP_BY_GROUP_FROM_COPY_SQL}],
  },
]
