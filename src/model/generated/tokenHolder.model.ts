import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, BigIntColumn as BigIntColumn_, StringColumn as StringColumn_, IntColumn as IntColumn_} from "@subsquid/typeorm-store"
import {Token} from "./token.model"
import {Account} from "./account.model"
import {AuditEvent} from "./auditEvent.model"

/**
 * Balance, voting power and delegate of one account in one token.
 */
@Index_(["token", "balance"], {unique: false})
@Index_(["token", "votes"], {unique: false})
@Entity_()
export class TokenHolder {
    constructor(props?: Partial<TokenHolder>) {
        Object.assign(this, props)
    }

    /**
     * token address + '-' + account address
     */
    @PrimaryColumn_()
    id!: string

    @ManyToOne_(() => Token, {nullable: true})
    token!: Token

    @Index_()
    @ManyToOne_(() => Account, {nullable: true})
    account!: Account

    @BigIntColumn_({nullable: false})
    balance!: bigint

    /**
     * Current voting power (ERC20Votes getVotes), from the latest DelegateVotesChanged.
     */
    @BigIntColumn_({nullable: false})
    votes!: bigint

    /**
     * Current delegatee; null when the account never delegated.
     */
    @Index_()
    @StringColumn_({nullable: true})
    delegate!: string | undefined | null

    @IntColumn_({nullable: false})
    updatedAtBlock!: number

    @Index_()
    @ManyToOne_(() => AuditEvent, {nullable: true})
    lastEvent!: AuditEvent
}
