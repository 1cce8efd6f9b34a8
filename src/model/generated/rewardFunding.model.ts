import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {RewardEpoch} from "./rewardEpoch.model"

@Entity_()
export class RewardFunding {
    constructor(props?: Partial<RewardFunding>) {
        Object.assign(this, props)
    }

    /**
     * The id of the AuditEvent (log) that made this row.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => RewardEpoch, {nullable: true})
    epoch!: RewardEpoch

    @Index_()
    @StringColumn_({nullable: false})
    funder!: string

    @BigIntColumn_({nullable: false})
    amount!: bigint

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
