import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, IntColumn as IntColumn_, ManyToOne as ManyToOne_, Index as Index_} from "@subsquid/typeorm-store"
import {AuditEvent} from "./auditEvent.model"

@Entity_()
export class Account {
    constructor(props?: Partial<Account>) {
        Object.assign(this, props)
    }

    /**
     * Lowercased address.
     */
    @PrimaryColumn_()
    id!: string

    @IntColumn_({nullable: false})
    firstSeenBlock!: number

    @Index_()
    @ManyToOne_(() => AuditEvent, {nullable: true})
    firstSeenEvent!: AuditEvent
}
