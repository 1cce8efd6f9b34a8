import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, ManyToOne as ManyToOne_, Index as Index_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_} from "@subsquid/typeorm-store"
import {Token} from "./token.model"

@Entity_()
export class Governor {
    constructor(props?: Partial<Governor>) {
        Object.assign(this, props)
    }

    /**
     * Governor contract address.
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: true})
    name!: string | undefined | null

    @Index_()
    @ManyToOne_(() => Token, {nullable: true})
    token!: Token

    @StringColumn_({nullable: true})
    timelock!: string | undefined | null

    @BigIntColumn_({nullable: true})
    votingDelay!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    votingPeriod!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    proposalThreshold!: bigint | undefined | null

    /**
     * Quorum fraction numerator (QuorumNumeratorUpdated); the denominator is 100 for OpenZeppelin's fraction module.
     */
    @BigIntColumn_({nullable: false})
    quorumNumerator!: bigint

    @BigIntColumn_({nullable: false})
    quorumDenominator!: bigint

    @IntColumn_({nullable: false})
    proposalCount!: number

    @IntColumn_({nullable: false})
    updatedAtBlock!: number
}
