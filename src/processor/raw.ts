/**
 * Decoded events as plain records: what the domain handlers consume. Decoding (src/processor/decode.ts) is the only
 * place that knows about ABIs; handlers only know these shapes, which keeps them pure and unit-testable.
 */

/** Where a log sits on chain. `id` is Subsquid's log id, which sorts in chain order. */
export interface LogMeta {
  id: string
  blockNumber: number
  blockHash: string
  timestamp: Date
  txHash: string
  transactionIndex: number
  logIndex: number
  /** Emitting contract, lowercased. */
  contract: string
}

export type RawEvent =
  | {name: 'Transfer'; from: string; to: string; value: bigint}
  | {name: 'DelegateChanged'; delegator: string; fromDelegate: string; toDelegate: string}
  | {name: 'DelegateVotesChanged'; delegate: string; previousVotes: bigint; newVotes: bigint}
  | {
      name: 'ProposalCreated'
      proposalId: bigint
      proposer: string
      targets: string[]
      values: bigint[]
      signatures: string[]
      calldatas: string[]
      voteStart: bigint
      voteEnd: bigint
      description: string
    }
  | {name: 'VoteCast'; voter: string; proposalId: bigint; support: number; weight: bigint; reason: string; params?: string}
  | {name: 'ProposalQueued'; proposalId: bigint; etaSeconds: bigint}
  | {name: 'ProposalExecuted'; proposalId: bigint}
  | {name: 'ProposalCanceled'; proposalId: bigint}
  | {name: 'VotingDelaySet'; newVotingDelay: bigint}
  | {name: 'VotingPeriodSet'; newVotingPeriod: bigint}
  | {name: 'ProposalThresholdSet'; newProposalThreshold: bigint}
  | {name: 'QuorumNumeratorUpdated'; newQuorumNumerator: bigint}
  | {name: 'TimelockChange'; newTimelock: string}
  | {name: 'ModelRegistered'; modelId: bigint; owner: string; modelName: string; metadataURI: string}
  | {
      name: 'ModelVersionPublished'
      modelId: bigint
      versionId: bigint
      publisher: string
      parentVersionId: bigint
      weightsHash: string
      metadataURI: string
    }
  | {name: 'ModelOwnershipTransferred'; modelId: bigint; previousOwner: string; newOwner: string}
  | {name: 'ValidatorUpdated'; validator: string; active: boolean}
  | {
      name: 'ContributionSubmitted'
      contributionId: bigint
      modelId: bigint
      contributor: string
      kind: number
      units: bigint
      evidenceHash: string
    }
  | {name: 'ContributionValidated'; contributionId: bigint; validator: string; accepted: boolean; score: number; reportHash: string}
  | {name: 'EpochOpened'; epochId: bigint; modelId: bigint}
  | {name: 'EpochFunded'; epochId: bigint; funder: string; amount: bigint}
  | {name: 'RewardPaid'; epochId: bigint; recipient: string; amount: bigint}
  | {name: 'EpochClosed'; epochId: bigint; totalFunded: bigint; totalPaid: bigint}

export type RawEventName = RawEvent['name']

/** A decoded log: its coordinates, its domain record (when the event has domain meaning) and its audit args. */
export interface DecodedLog {
  meta: LogMeta
  contractKind: string
  eventName: string
  /** JSON-safe decoded arguments (bigints as decimal strings) for the audit log. */
  args: Record<string, unknown>
  /** Undefined for events kept in the audit log only (Approval, timelock internals, ...) or that failed to decode. */
  raw?: RawEvent
}
