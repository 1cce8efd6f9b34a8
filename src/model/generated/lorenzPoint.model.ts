import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, FloatColumn as FloatColumn_} from "@subsquid/typeorm-store"

/**
 * A point of the Lorenz curve of a distribution (x: cumulative share of entities, y: cumulative share of weight).
 */
@Index_(["scopeKind", "scopeId", "distribution", "asOfBlock"], {unique: false})
@Entity_()
export class LorenzPoint {
    constructor(props?: Partial<LorenzPoint>) {
        Object.assign(this, props)
    }

    /**
     * distribution/scopeKind/scopeId/asOfBlock/pointIndex
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    distribution!: string

    @StringColumn_({nullable: false})
    scopeKind!: string

    @StringColumn_({nullable: false})
    scopeId!: string

    @IntColumn_({nullable: false})
    asOfBlock!: number

    @IntColumn_({nullable: false})
    pointIndex!: number

    @FloatColumn_({nullable: false})
    x!: number

    @FloatColumn_({nullable: false})
    y!: number

    @StringColumn_({nullable: false})
    inputDigest!: string

    @StringColumn_({nullable: false})
    jobVersion!: string
}
