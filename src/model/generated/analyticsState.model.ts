import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

/**
 * The analytics' write counter (one row, id 'analytics'): src/analytics/jobs/results.ts bumps `version` in the same
 * transaction as every write of results, and after every drop of results, so the API's response cache
 * (src/api/response-cache.ts) knows when an analytics answer may have changed without reading the results.
 */
@Entity_()
export class AnalyticsState {
    constructor(props?: Partial<AnalyticsState>) {
        Object.assign(this, props)
    }

    /**
     * Always 'analytics'.
     */
    @PrimaryColumn_()
    id!: string

    /**
     * Incremented by every write or drop of analytics results; never decreases.
     */
    @BigIntColumn_({nullable: false})
    version!: bigint

    /**
     * When the last write or drop committed.
     */
    @DateTimeColumn_({nullable: false})
    writtenAt!: Date
}
