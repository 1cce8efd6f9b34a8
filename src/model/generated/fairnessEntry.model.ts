import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, BigIntColumn as BigIntColumn_, FloatColumn as FloatColumn_} from "@subsquid/typeorm-store"

/**
 * One contributor's validated contribution share against reward share, per scope and block.
 */
@Index_(["scopeKind", "scopeId", "asOfBlock"], {unique: false})
@Entity_()
export class FairnessEntry {
    constructor(props?: Partial<FairnessEntry>) {
        Object.assign(this, props)
    }

    /**
     * scopeKind/scopeId/asOfBlock/contributor
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    scopeKind!: string

    @StringColumn_({nullable: false})
    scopeId!: string

    @IntColumn_({nullable: false})
    asOfBlock!: number

    @Index_()
    @StringColumn_({nullable: false})
    contributor!: string

    /**
     * Sum of units × validator score (basis points) over accepted contributions.
     */
    @BigIntColumn_({nullable: false})
    contributionValue!: bigint

    @FloatColumn_({nullable: false})
    contributionShare!: number

    @BigIntColumn_({nullable: false})
    rewardAmount!: bigint

    @FloatColumn_({nullable: false})
    rewardShare!: number

    /**
     * rewardShare / contributionShare; null when the contribution share is 0.
     */
    @FloatColumn_({nullable: true})
    ratio!: number | undefined | null

    /**
     * over_rewarded (> 2×), under_rewarded (< 0.5×) or proportionate
     */
    @StringColumn_({nullable: false})
    verdict!: string

    @StringColumn_({nullable: false})
    inputDigest!: string

    @StringColumn_({nullable: false})
    jobVersion!: string
}
