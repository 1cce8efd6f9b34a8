import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, FloatColumn as FloatColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

/**
 * One metric value at one block for one scope, with what is needed to reproduce it.
 */
@Index_(["scopeKind", "scopeId", "metric", "distribution", "asOfBlock"], {unique: true})
@Index_(["jobVersion", "scopeKind", "scopeId", "distribution", "asOfBlock"], {unique: false})
@Entity_()
export class MetricValue {
    constructor(props?: Partial<MetricValue>) {
        Object.assign(this, props)
    }

    /**
     * metric/distribution/scopeKind/scopeId/asOfBlock
     */
    @PrimaryColumn_()
    id!: string

    /**
     * Catalogue id, e.g. concentration.gini (src/analytics/metrics/README.md).
     */
    @Index_()
    @StringColumn_({nullable: false})
    metric!: string

    /**
     * What is measured: balances, voting_power, weight_cast, contributions, rewards, validations, model_owners, votes or none.
     */
    @StringColumn_({nullable: false})
    distribution!: string

    /**
     * token, governor, proposal, model or protocol
     */
    @StringColumn_({nullable: false})
    scopeKind!: string

    /**
     * Contract address, governor-proposalId, registry-modelId, or 'protocol'.
     */
    @StringColumn_({nullable: false})
    scopeId!: string

    /**
     * The metric at the end of this block.
     */
    @Index_()
    @IntColumn_({nullable: false})
    asOfBlock!: number

    /**
     * Null when the metric is undefined for its input (e.g. an empty distribution).
     */
    @FloatColumn_({nullable: true})
    value!: number | undefined | null

    /**
     * Exact value for integer-valued metrics and totals (counts, wei amounts), as a decimal string.
     */
    @StringColumn_({nullable: true})
    valueExact!: string | undefined | null

    @IntColumn_({nullable: false})
    inputFromBlock!: number

    @IntColumn_({nullable: false})
    inputToBlock!: number

    @IntColumn_({nullable: false})
    inputRowCount!: number

    /**
     * Fingerprint of the input rows: the sum of their md5 numbers mod 2^128 (32 hex digits); with several inputs, sha256 of their relation:digest lines. The reproduce command exports the rows and the query.
     */
    @StringColumn_({nullable: false})
    inputDigest!: string

    /**
     * sha256 of the SQL that computed the value.
     */
    @StringColumn_({nullable: false})
    sqlDigest!: string

    @StringColumn_({nullable: false})
    jobVersion!: string

    @DateTimeColumn_({nullable: false})
    computedAt!: Date
}
