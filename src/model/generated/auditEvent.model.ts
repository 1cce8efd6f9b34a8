import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, IntColumn as IntColumn_, StringColumn as StringColumn_, DateTimeColumn as DateTimeColumn_, JSONColumn as JSONColumn_} from "@subsquid/typeorm-store"

/**
 * One indexed log, append-only: the evidence every other row points to.
 */
@Index_(["txHash", "logIndex"], {unique: true})
@Entity_()
export class AuditEvent {
    constructor(props?: Partial<AuditEvent>) {
        Object.assign(this, props)
    }

    /**
     * Subsquid log id: zero-padded block number, block hash prefix, log index; sorts in chain order.
     */
    @PrimaryColumn_()
    id!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    @StringColumn_({nullable: false})
    blockHash!: string

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string

    @IntColumn_({nullable: false})
    transactionIndex!: number

    @IntColumn_({nullable: false})
    logIndex!: number

    @StringColumn_({nullable: false})
    contract!: string

    @StringColumn_({nullable: false})
    contractKind!: string

    @StringColumn_({nullable: false})
    eventName!: string

    /**
     * Decoded arguments; uint256 values as decimal strings.
     */
    @JSONColumn_({nullable: false})
    args!: unknown
}
