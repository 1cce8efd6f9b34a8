/**
 * Deterministic DeAI activity on a dev node: the same (seed, accounts, events, perBlock) on a fresh
 * deployment produces the same sequence of logs. See scenario/ for the phases.
 */
import type { Address } from 'viem'
import { Chain } from './chain'
import type { Deployment } from './deploy'
import { Rng } from './prng'
import { Protocol } from './protocol'
import type { ScenarioContext } from './scenario/context'
import { fill } from './scenario/filler'
import { type PlannedProposal, PROPOSAL_STATES, proposeActive, runGovernance } from './scenario/governance'
import { Ledger } from './scenario/ledger'
import { contribute, registerModels } from './scenario/models'
import { runEpochs } from './scenario/rewards'
import { assignRoles } from './scenario/roles'
import { delegateVotes, distribute, everydayActivity } from './scenario/tokens'

export type { PlannedProposal, ProposalCase, ProposalStateName } from './scenario/governance'
export { PROPOSAL_STATES } from './scenario/governance'
// The live trickle lives in its own module; re-exported so callers find all activity generation here.
export { startLiveActivity, type LiveActivity, type LiveOptions } from './live'

export interface ScenarioOptions {
  seed: number
  /** Number of simulated participants (>= 20). */
  accounts: number
  /** Minimum number of logs to emit in total. */
  events: number
  /** Transactions per block (default 50). */
  perBlock?: number
}

export interface ScenarioResult {
  seed: number
  accounts: Address[]
  delegates: Address[]
  validators: Address[]
  insiders: Address[]
  underRewarded: Address[]
  proposals: PlannedProposal[]
  fromBlock: number
  toBlock: number
  logCount: number
  txCount: number
}

export const DEFAULT_PER_BLOCK = 50

export async function runScenario(rpcUrl: string, deployment: Deployment, opts: ScenarioOptions): Promise<ScenarioResult> {
  const roles = assignRoles(opts.seed, opts.accounts)
  const perBlock = opts.perBlock ?? DEFAULT_PER_BLOCK
  const chain = new Chain(rpcUrl, perBlock)
  const p = await Protocol.load(chain, deployment)
  chain.errorAbi = p.errorAbi
  const ctx: ScenarioContext = {
    chain, p, d: deployment, rng: new Rng(opts.seed), roles, ledger: new Ledger(), operator: deployment.deployer,
    origin: await chain.blockNumber(), modelIds: [], contributions: [],
  }
  await chain.prepare([...roles.accounts, deployment.deployer])
  try {
    await distribute(ctx)
    await delegateVotes(ctx)
    await everydayActivity(ctx)
    await registerModels(ctx)
    await contribute(ctx)
    await runEpochs(ctx)
    const proposals = await runGovernance(ctx)
    await fill(ctx, opts.events)
    proposals.push(await proposeActive(ctx))
    await checkOutcomes(p, proposals)
    return {
      seed: opts.seed,
      accounts: roles.accounts,
      delegates: roles.delegates,
      validators: roles.validators,
      insiders: roles.insiders,
      underRewarded: roles.underRewarded,
      proposals,
      fromBlock: chain.firstBlock ?? 0,
      toBlock: chain.lastBlock,
      logCount: chain.logCount,
      txCount: chain.txCount,
    }
  } finally {
    // Best effort: a failure here (e.g. the node is gone) must not mask the scenario's own error.
    await chain.release().catch(() => undefined)
  }
}

/** The scenario's own assertion that every proposal ended where it was steered. */
async function checkOutcomes(p: Protocol, proposals: PlannedProposal[]): Promise<void> {
  const states = await p.readMany<number>(proposals.map((pr) => ['governor', 'state', [pr.proposalId]]))
  proposals.forEach((pr, i) => {
    const actual = PROPOSAL_STATES[states[i] as number]
    if (actual !== pr.expectedOutcome) {
      throw new Error(`proposal '${pr.case}' ended ${actual}, expected ${pr.expectedOutcome}`)
    }
  })
}
