module.exports = class Data1795612166245 {
    name = 'Data1795612166245'

    async up(db) {
        await db.query(`CREATE TABLE "metric_value" ("id" character varying NOT NULL, "metric" text NOT NULL, "distribution" text NOT NULL, "scope_kind" text NOT NULL, "scope_id" text NOT NULL, "as_of_block" integer NOT NULL, "value" numeric, "value_exact" text, "input_from_block" integer NOT NULL, "input_to_block" integer NOT NULL, "input_row_count" integer NOT NULL, "input_digest" text NOT NULL, "sql_digest" text NOT NULL, "job_version" text NOT NULL, "computed_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_b55bfd1170293feaa2032cb39b5" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_6324f6f052786d6f9258fc6db3" ON "metric_value" ("metric") `)
        await db.query(`CREATE INDEX "IDX_d5daeb779f1bd91562c10e0135" ON "metric_value" ("as_of_block") `)
        await db.query(`CREATE UNIQUE INDEX "IDX_7731f17badbf1ccf16deb90776" ON "metric_value" ("scope_kind", "scope_id", "metric", "distribution", "as_of_block") `)
        await db.query(`CREATE TABLE "lorenz_point" ("id" character varying NOT NULL, "distribution" text NOT NULL, "scope_kind" text NOT NULL, "scope_id" text NOT NULL, "as_of_block" integer NOT NULL, "point_index" integer NOT NULL, "x" numeric NOT NULL, "y" numeric NOT NULL, "input_digest" text NOT NULL, "job_version" text NOT NULL, CONSTRAINT "PK_410848616d3cdd73bd3f4168d97" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_331af440438e022dc2ed656cb4" ON "lorenz_point" ("scope_kind", "scope_id", "distribution", "as_of_block") `)
        await db.query(`CREATE TABLE "fairness_entry" ("id" character varying NOT NULL, "scope_kind" text NOT NULL, "scope_id" text NOT NULL, "as_of_block" integer NOT NULL, "contributor" text NOT NULL, "contribution_value" numeric NOT NULL, "contribution_share" numeric NOT NULL, "reward_amount" numeric NOT NULL, "reward_share" numeric NOT NULL, "ratio" numeric, "verdict" text NOT NULL, "input_digest" text NOT NULL, "job_version" text NOT NULL, CONSTRAINT "PK_3a249868e6321a8d8b47fb215f2" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_4d46b035373d13e02e702076b1" ON "fairness_entry" ("contributor") `)
        await db.query(`CREATE INDEX "IDX_34ad51b018d064766d666b1e72" ON "fairness_entry" ("scope_kind", "scope_id", "as_of_block") `)
    }

    async down(db) {
        await db.query(`DROP TABLE "metric_value"`)
        await db.query(`DROP INDEX "public"."IDX_6324f6f052786d6f9258fc6db3"`)
        await db.query(`DROP INDEX "public"."IDX_d5daeb779f1bd91562c10e0135"`)
        await db.query(`DROP INDEX "public"."IDX_7731f17badbf1ccf16deb90776"`)
        await db.query(`DROP TABLE "lorenz_point"`)
        await db.query(`DROP INDEX "public"."IDX_331af440438e022dc2ed656cb4"`)
        await db.query(`DROP TABLE "fairness_entry"`)
        await db.query(`DROP INDEX "public"."IDX_4d46b035373d13e02e702076b1"`)
        await db.query(`DROP INDEX "public"."IDX_34ad51b018d064766d666b1e72"`)
    }
}
