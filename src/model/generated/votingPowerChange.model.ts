import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Token} from "./token.model"
import {AuditEvent} from "./auditEvent.model"

/**
 * Voting-power history: one row per DelegateVotesChanged.
 */
@Index_(["delegate", "blockNumber"], {unique: false})
@Entity_()
export class VotingPowerChange {
    constructor(props?: Partial<VotingPowerChange>) {
        Object.assign(this, props)
    }

    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Token, {nullable: true})
    token!: Token

    @StringColumn_({nullable: false})
    delegate!: string

    @BigIntColumn_({nullable: false})
    previousVotes!: bigint

    @BigIntColumn_({nullable: false})
    newVotes!: bigint

    @Index_()
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
