module.exports = class MetricSeriesIndex1796053330333 {
    name = 'MetricSeriesIndex1796053330333'

    async up(db) {
        await db.query(`CREATE INDEX "IDX_cf7f2e51e7d0d1ad3508ee846c" ON "metric_value" ("job_version", "scope_kind", "scope_id", "distribution", "as_of_block") `)
    }

    async down(db) {
        await db.query(`DROP INDEX "public"."IDX_cf7f2e51e7d0d1ad3508ee846c"`)
    }
}
