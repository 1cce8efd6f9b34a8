import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, BigIntColumn as BigIntColumn_} from "@subsquid/typeorm-store"

/**
 * Balance of one account in one token at the end of a block in which it changed (one row per account and block, however
 * many transfers the block had): the checkpoints that make `atBlock` reads index lookups instead of sums over history.
 */
@Index_(["token", "account", "blockNumber"], {unique: false})
@Entity_()
export class BalanceCheckpoint {
    constructor(props?: Partial<BalanceCheckpoint>) {
        Object.assign(this, props)
    }

    /**
     * token + '-' + account + '-' + block number zero-padded to 10 digits
     */
    @PrimaryColumn_()
    id!: string

    /**
     * Token contract address.
     */
    @StringColumn_({nullable: false})
    token!: string

    @StringColumn_({nullable: false})
    account!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    /**
     * Balance after the block's last transfer touching the account.
     */
    @BigIntColumn_({nullable: false})
    balance!: bigint
}
