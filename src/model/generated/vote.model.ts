import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Proposal} from "./proposal.model"
import {VoteSupport} from "./_voteSupport"

@Index_(["proposal", "weight"], {unique: false})
@Entity_()
export class Vote {
    constructor(props?: Partial<Vote>) {
        Object.assign(this, props)
    }

    /**
     * The id of the AuditEvent (log) that made this row.
     */
    @PrimaryColumn_()
    id!: string

    @ManyToOne_(() => Proposal, {nullable: true})
    proposal!: Proposal

    @Index_()
    @StringColumn_({nullable: false})
    voter!: string

    @Column_("varchar", {length: 7, nullable: false})
    support!: VoteSupport

    @BigIntColumn_({nullable: false})
    weight!: bigint

    @StringColumn_({nullable: false})
    reason!: string

    /**
     * ABI-encoded params of VoteCastWithParams; null for plain VoteCast.
     */
    @StringColumn_({nullable: true})
    params!: string | undefined | null

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
