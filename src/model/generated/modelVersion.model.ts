import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, BigIntColumn as BigIntColumn_, StringColumn as StringColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Model} from "./model.model"
import {AuditEvent} from "./auditEvent.model"

@Entity_()
export class ModelVersion {
    constructor(props?: Partial<ModelVersion>) {
        Object.assign(this, props)
    }

    /**
     * model id + '-' + version id
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Model, {nullable: true})
    model!: Model

    @BigIntColumn_({nullable: false})
    versionId!: bigint

    @Index_()
    @ManyToOne_(() => ModelVersion, {nullable: true})
    parent!: ModelVersion | undefined | null

    @StringColumn_({nullable: false})
    publisher!: string

    @StringColumn_({nullable: false})
    weightsHash!: string

    @StringColumn_({nullable: false})
    metadataURI!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string

    @Index_()
    @ManyToOne_(() => AuditEvent, {nullable: true})
    event!: AuditEvent
}
