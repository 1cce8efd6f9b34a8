import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, Index as Index_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class Validator {
    constructor(props?: Partial<Validator>) {
        Object.assign(this, props)
    }

    /**
     * registry address + '-' + validator address
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    registry!: string

    @Index_()
    @StringColumn_({nullable: false})
    address!: string

    @BooleanColumn_({nullable: false})
    active!: boolean

    @IntColumn_({nullable: false})
    validationCount!: number

    @IntColumn_({nullable: false})
    updatedAtBlock!: number
}
