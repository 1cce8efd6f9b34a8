import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, ManyToOne as ManyToOne_, Index as Index_, IntColumn as IntColumn_} from "@subsquid/typeorm-store"
import {Model} from "./model.model"
import {EpochStatus} from "./_epochStatus"
import {AuditEvent} from "./auditEvent.model"

@Entity_()
export class RewardEpoch {
    constructor(props?: Partial<RewardEpoch>) {
        Object.assign(this, props)
    }

    /**
     * distributor address + '-' + epoch id
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    distributor!: string

    @BigIntColumn_({nullable: false})
    epochId!: bigint

    /**
     * On-chain model id the epoch rewards; 0 means protocol-wide. (Not named modelId: that is the column of the model relation.)
     */
    @BigIntColumn_({nullable: false})
    scopeModelId!: bigint

    @Index_()
    @ManyToOne_(() => Model, {nullable: true})
    model!: Model | undefined | null

    @BigIntColumn_({nullable: false})
    totalFunded!: bigint

    @BigIntColumn_({nullable: false})
    totalPaid!: bigint

    @IntColumn_({nullable: false})
    payoutCount!: number

    @Column_("varchar", {length: 6, nullable: false})
    status!: EpochStatus

    @IntColumn_({nullable: false})
    openedBlock!: number

    @IntColumn_({nullable: true})
    closedBlock!: number | undefined | null

    @Index_()
    @ManyToOne_(() => AuditEvent, {nullable: true})
    event!: AuditEvent
}
