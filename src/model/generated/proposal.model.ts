import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, BigIntColumn as BigIntColumn_, StringColumn as StringColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Governor} from "./governor.model"
import {ProposalState} from "./_proposalState"
import {AuditEvent} from "./auditEvent.model"

@Entity_()
export class Proposal {
    constructor(props?: Partial<Proposal>) {
        Object.assign(this, props)
    }

    /**
     * governor address + '-' + proposal id (decimal)
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Governor, {nullable: true})
    governor!: Governor

    @BigIntColumn_({nullable: false})
    proposalId!: bigint

    @Index_()
    @StringColumn_({nullable: false})
    proposer!: string

    @StringColumn_({array: true, nullable: false})
    targets!: (string)[]

    @StringColumn_({array: true, nullable: false})
    values!: (string)[]

    @StringColumn_({array: true, nullable: false})
    signatures!: (string)[]

    @StringColumn_({array: true, nullable: false})
    calldatas!: (string)[]

    @StringColumn_({nullable: false})
    description!: string

    /**
     * Snapshot timepoint (block number): voting power is read at the end of this block.
     */
    @BigIntColumn_({nullable: false})
    voteStart!: bigint

    /**
     * Deadline timepoint (block number): voting is open through this block.
     */
    @BigIntColumn_({nullable: false})
    voteEnd!: bigint

    @BigIntColumn_({nullable: false})
    forVotes!: bigint

    @BigIntColumn_({nullable: false})
    againstVotes!: bigint

    @BigIntColumn_({nullable: false})
    abstainVotes!: bigint

    @IntColumn_({nullable: false})
    voteCount!: number

    /**
     * quorum(voteStart) = totalSupply at voteStart × numerator / denominator; null until the snapshot block has passed.
     */
    @BigIntColumn_({nullable: true})
    quorum!: bigint | undefined | null

    /**
     * Governor.state() as of block stateAtBlock, derived from the events and the head block.
     */
    @Index_()
    @Column_("varchar", {length: 9, nullable: false})
    state!: ProposalState

    @IntColumn_({nullable: false})
    stateAtBlock!: number

    @Index_()
    @IntColumn_({nullable: false})
    createdBlock!: number

    @DateTimeColumn_({nullable: false})
    createdTimestamp!: Date

    @StringColumn_({nullable: false})
    createdTxHash!: string

    @IntColumn_({nullable: true})
    queuedBlock!: number | undefined | null

    /**
     * Timelock eta (seconds) from ProposalQueued.
     */
    @BigIntColumn_({nullable: true})
    eta!: bigint | undefined | null

    @IntColumn_({nullable: true})
    executedBlock!: number | undefined | null

    @IntColumn_({nullable: true})
    canceledBlock!: number | undefined | null

    @Index_()
    @ManyToOne_(() => AuditEvent, {nullable: true})
    event!: AuditEvent
}
