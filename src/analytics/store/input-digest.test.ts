import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {DuckDBConnection} from '@duckdb/node-api'
import {type AnalyticsDb, IN_MEMORY, openAnalyticsDb} from '../duckdb'
import {queryOne, queryRows} from '../metrics/sql-values'
import {DIGEST_OF_SUMS, INPUT_DIGEST_SQL, MD5_LOWER, MD5_UPPER} from './input-digest'

/** The digest as defined since JOB_VERSION 3, with DuckDB's own md5_number_upper and md5_number_lower (two md5s a row). */
const DEFINITION_SQL = (relation: string) =>
  `SELECT count(*) AS n, ${DIGEST_OF_SUMS('sum(md5_number_upper(r))', 'sum(md5_number_lower(r))')} AS digest FROM (SELECT CAST(t AS VARCHAR) AS r FROM ${relation} t)`

describe('input digest from one md5 per row', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeAll(async () => {
    db = await openAnalyticsDb(IN_MEMORY)
    conn = await db.connect()
    // Texts of many lengths (md5 pads at 56 and 64 bytes), the empty text, non-ASCII and control characters.
    await conn.run(`CREATE TABLE texts AS
      SELECT repeat(md5(i::VARCHAR), (i % 7)::INTEGER) || left(md5((i * 31)::VARCHAR), (i % 33)::INTEGER) AS s FROM range(5000) t(i)
      UNION ALL SELECT * FROM (VALUES (''), ('é∑'), (chr(0) || chr(9) || chr(10)), ('{''entity'': 0xab, ''w'': 5}')) v(s)`)
  })
  afterAll(() => db.close())

  it('MD5_UPPER and MD5_LOWER of md5_number(s) are md5_number_upper(s) and md5_number_lower(s), for every text', async () => {
    const bad = await queryRows(
      conn,
      `SELECT s FROM texts WHERE ${MD5_UPPER('md5_number(s)')} <> md5_number_upper(s) OR ${MD5_LOWER('md5_number(s)')} <> md5_number_lower(s) LIMIT 5`,
    )
    expect(bad).toEqual([])
    const {n} = await queryOne(conn, `SELECT count(*) AS n FROM texts`)
    expect(Number(n)).toBe(5004)
  })

  it('INPUT_DIGEST_SQL equals the definition over rows of several types, and over no rows', async () => {
    await conn.run(`CREATE TABLE dist AS SELECT '0x' || md5(i::VARCHAR) AS entity, (i * 7919)::HUGEINT * 1000000000000000000 AS w, i % 3 AS support FROM range(3000) t(i)`)
    await conn.run(`CREATE TABLE empty_dist AS SELECT * FROM dist WHERE false`)
    for (const relation of ['dist', 'empty_dist', 'texts']) {
      const kept = await queryOne(conn, INPUT_DIGEST_SQL(relation))
      expect(kept, relation).toEqual(await queryOne(conn, DEFINITION_SQL(relation)))
    }
    expect(String((await queryOne(conn, INPUT_DIGEST_SQL('dist'))).digest)).toMatch(/^[0-9a-f]{32}$/)
  })
})
