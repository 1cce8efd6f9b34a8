/**
 * The input digest (JOB_VERSION 3): each row rendered by DuckDB as VARCHAR (`{'entity': 0x.., 'w': 5}`) and hashed
 * with md5 into a 128-bit number, taken as DuckDB's two 64-bit halves (md5_number_upper, md5_number_lower); the
 * digest is the sum of those numbers modulo 2^128, as 32 hex digits (the upper half first). A sum does not depend on
 * row order, so it identifies the multiset of input rows without sorting them, and it can be kept current by adding
 * the rows that arrive and subtracting the rows that go (store/head-digests.ts does that for the largest inputs, so
 * a refresh at the head does not hash a million rows again). It is a fingerprint against accidental change, not a
 * commitment against a forger: a sum of hashes admits crafted collisions more easily than a hash of the sorted list.
 * The reproduce command writes the same query next to the exported rows, so anyone can check it with stock DuckDB.
 * (JOB_VERSION 1 hashed the sorted row texts, 2 the sorted md5s.)
 */
export const INPUT_DIGEST_SQL = (relation: string) =>
  `SELECT count(*) AS n, ${DIGEST_OF_SUMS('sum(md5_number_upper(r))', 'sum(md5_number_lower(r))')} AS digest FROM (SELECT CAST(t AS VARCHAR) AS r FROM ${relation} t)`

/**
 * The digest from the sums of the upper and lower halves, in SQL: (U·2^64 + L) mod 2^128 as two 16-digit hex
 * halves. Shared by INPUT_DIGEST_SQL, the grouped digests (batch.ts) and the kept head digests.
 */
export const DIGEST_OF_SUMS = (upperSum: string, lowerSum: string) =>
  `printf('%016x%016x', CAST(((coalesce(${upperSum}, 0) + coalesce(${lowerSum}, 0) // 18446744073709551616) % 18446744073709551616 + 18446744073709551616) % 18446744073709551616 AS UBIGINT), ` +
  `CAST((coalesce(${lowerSum}, 0) % 18446744073709551616 + 18446744073709551616) % 18446744073709551616 AS UBIGINT))`
