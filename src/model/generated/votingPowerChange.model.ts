import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

/**
 * Voting-power history: one row per DelegateVotesChanged.
 */
@Index_(["delegate", "blockNumber"], {unique: false})
@Entity_()
export class VotingPowerChange {
    constructor(props?: Partial<VotingPowerChange>) {
        Object.assign(this, props)
    }

    /**
     * The id of the AuditEvent (log) that made this row.
     */
    @PrimaryColumn_()
    id!: string

    /**
     * Token contract address (a plain column, not a relation: these are the highest-volume tables).
     */
    @StringColumn_({nullable: false})
    token!: string

    @StringColumn_({nullable: false})
    delegate!: string

    @BigIntColumn_({nullable: false})
    previousVotes!: bigint

    @BigIntColumn_({nullable: false})
    newVotes!: bigint

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
