import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, Index as Index_, IntColumn as IntColumn_, ManyToOne as ManyToOne_} from "@subsquid/typeorm-store"
import {AuditEvent} from "./auditEvent.model"

@Entity_()
export class Model {
    constructor(props?: Partial<Model>) {
        Object.assign(this, props)
    }

    /**
     * registry address + '-' + model id
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    registry!: string

    @BigIntColumn_({nullable: false})
    modelId!: bigint

    @Index_()
    @StringColumn_({nullable: false})
    owner!: string

    @StringColumn_({nullable: false})
    name!: string

    @StringColumn_({nullable: false})
    metadataURI!: string

    @IntColumn_({nullable: false})
    versionCount!: number

    @IntColumn_({nullable: false})
    contributionCount!: number

    @IntColumn_({nullable: false})
    createdBlock!: number

    @Index_()
    @ManyToOne_(() => AuditEvent, {nullable: true})
    event!: AuditEvent
}
