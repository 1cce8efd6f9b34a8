import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, Index as Index_, BigIntColumn as BigIntColumn_, ManyToOne as ManyToOne_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Model} from "./model.model"
import {ContributionKind} from "./_contributionKind"
import {ContributionStatus} from "./_contributionStatus"
import {AuditEvent} from "./auditEvent.model"

@Entity_()
export class Contribution {
    constructor(props?: Partial<Contribution>) {
        Object.assign(this, props)
    }

    /**
     * registry address + '-' + contribution id
     */
    @PrimaryColumn_()
    id!: string

    /**
     * Indexed so an audit trail can tell at once whether an address is a contribution registry (audit-sql.ts).
     */
    @Index_()
    @StringColumn_({nullable: false})
    registry!: string

    @BigIntColumn_({nullable: false})
    contributionId!: bigint

    @Index_()
    @ManyToOne_(() => Model, {nullable: true})
    model!: Model

    @Index_()
    @StringColumn_({nullable: false})
    contributor!: string

    @Column_("varchar", {length: 10, nullable: false})
    kind!: ContributionKind

    @BigIntColumn_({nullable: false})
    units!: bigint

    @StringColumn_({nullable: false})
    evidenceHash!: string

    @Index_()
    @Column_("varchar", {length: 8, nullable: false})
    status!: ContributionStatus

    /**
     * Validator score in basis points (0..10000); null while pending.
     */
    @IntColumn_({nullable: true})
    score!: number | undefined | null

    @StringColumn_({nullable: true})
    validator!: string | undefined | null

    @IntColumn_({nullable: true})
    validatedBlock!: number | undefined | null

    @Index_()
    @IntColumn_({nullable: false})
    submittedBlock!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string

    @Index_()
    @ManyToOne_(() => AuditEvent, {nullable: true})
    event!: AuditEvent
}
