module.exports = class BalanceCheckpoints1795620290926 {
    name = 'BalanceCheckpoints1795620290926'

    async up(db) {
        await db.query(`CREATE TABLE "balance_checkpoint" ("id" character varying NOT NULL, "token" text NOT NULL, "account" text NOT NULL, "block_number" integer NOT NULL, "balance" numeric NOT NULL, CONSTRAINT "PK_dda4368eed085781443f5f95706" PRIMARY KEY ("id"))`)
        await db.query(`CREATE INDEX "IDX_d3afda0456d0b7ec1be27b9b31" ON "balance_checkpoint" ("token", "account", "block_number") `)
        await db.query(`CREATE INDEX "IDX_1d94773cf1e6a5ebc106facd86" ON "contribution" ("registry") `)
        // Added by hand after generation: checkpoints for the history indexed before this migration, from the transfer
        // table (the zero address, which mints and burns, has none), exactly as the processor writes them: the running
        // balance at the end of every block in which it changed. Hot blocks indexed before it are included but not
        // tracked for rollback; run it with the processor stopped and at the head, as `npm start` does.
        await db.query(`
            INSERT INTO "balance_checkpoint" ("id", "token", "account", "block_number", "balance")
            SELECT d.token || '-' || d.account || '-' || lpad(d.block_number::text, 10, '0'), d.token, d.account, d.block_number,
                   sum(d.delta) OVER (PARTITION BY d.token, d.account ORDER BY d.block_number)
            FROM (
                SELECT x.token, x.account, x.block_number, sum(x.delta) AS delta FROM (
                    SELECT token, "to" AS account, block_number, value AS delta FROM "transfer"
                    UNION ALL
                    SELECT token, "from", block_number, -value FROM "transfer"
                ) x
                WHERE x.account <> '0x0000000000000000000000000000000000000000'
                GROUP BY x.token, x.account, x.block_number
            ) d`)
    }

    async down(db) {
        await db.query(`DROP INDEX "public"."IDX_1d94773cf1e6a5ebc106facd86"`)
        await db.query(`DROP INDEX "public"."IDX_d3afda0456d0b7ec1be27b9b31"`)
        await db.query(`DROP TABLE "balance_checkpoint"`)
    }
}
