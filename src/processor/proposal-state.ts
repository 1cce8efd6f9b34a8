import {ProposalState} from '../model'

/** What OpenZeppelin's Governor.state() reads, as the indexer knows it. */
export interface ProposalFacts {
  voteStart: bigint
  voteEnd: bigint
  forVotes: bigint
  againstVotes: bigint
  abstainVotes: bigint
  /** quorum(voteStart); null while the snapshot block has not passed yet. */
  quorum: bigint | null | undefined
  queued: boolean
  executed: boolean
  canceled: boolean
}

/**
 * Governor.state() (OpenZeppelin 5.x Governor + GovernorCountingSimple + GovernorTimelockControl, block-number
 * clock) evaluated at `timepoint`, the block.number the call runs in:
 *   executed → Executed; canceled → Canceled; snapshot >= now → Pending; deadline >= now → Active;
 *   quorum not reached (for + abstain < quorum) or for <= against → Defeated; not queued → Succeeded; else Queued.
 * OZ 5 has no Expired state; the enum keeps it for GovernorBravo-style sources.
 */
export function proposalState(p: ProposalFacts, timepoint: bigint): ProposalState {
  if (p.executed) return ProposalState.EXECUTED
  if (p.canceled) return ProposalState.CANCELED
  if (p.voteStart >= timepoint) return ProposalState.PENDING
  if (p.voteEnd >= timepoint) return ProposalState.ACTIVE
  if (p.quorum == null) {
    // Cannot happen when events are applied in order: the snapshot is settled before any later block is handled.
    throw new Error('proposalState: voting has ended but the quorum at the snapshot is unknown')
  }
  const quorumReached = p.forVotes + p.abstainVotes >= p.quorum
  const voteSucceeded = p.forVotes > p.againstVotes
  if (!quorumReached || !voteSucceeded) return ProposalState.DEFEATED
  return p.queued ? ProposalState.QUEUED : ProposalState.SUCCEEDED
}

/** States that can still change with the passage of blocks alone, without any event. */
export const TIME_DEPENDENT_STATES: readonly ProposalState[] = [ProposalState.PENDING, ProposalState.ACTIVE]
