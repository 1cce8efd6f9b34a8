module.exports = class AnalyticsState1795991662600 {
    name = 'AnalyticsState1795991662600'

    async up(db) {
        await db.query(`CREATE TABLE "analytics_state" ("id" character varying NOT NULL, "version" numeric NOT NULL, "written_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_58911d6b9e88af59564926b282d" PRIMARY KEY ("id"))`)
        // Added by hand after generation: the one row, which every analytics write then only increments (an UPDATE
        // in the writer's transaction, so writes never race to create it).
        await db.query(`INSERT INTO "analytics_state" ("id", "version", "written_at") VALUES ('analytics', 0, now())`)
    }

    async down(db) {
        await db.query(`DROP TABLE "analytics_state"`)
    }
}
