import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Contribution} from "./contribution.model"

@Entity_()
export class Validation {
    constructor(props?: Partial<Validation>) {
        Object.assign(this, props)
    }

    /**
     * The id of the AuditEvent (log) that made this row.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Contribution, {nullable: true})
    contribution!: Contribution

    @Index_()
    @StringColumn_({nullable: false})
    validator!: string

    @BooleanColumn_({nullable: false})
    accepted!: boolean

    @IntColumn_({nullable: false})
    score!: number

    @StringColumn_({nullable: false})
    reportHash!: string

    /**
     * validator == contributor: the analytics flag self-validation.
     */
    @BooleanColumn_({nullable: false})
    selfValidated!: boolean

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
