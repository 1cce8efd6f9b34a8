/**
 * The input digest (since JOB_VERSION 3): each row rendered by DuckDB as VARCHAR (`{'entity': 0x.., 'w': 5}`) and hashed
 * with md5 into a 128-bit number, taken as DuckDB's two 64-bit halves (md5_number_upper, md5_number_lower, both read
 * off one md5_number: see MD5_UPPER); the digest is the sum of those numbers modulo 2^128, as 32 hex digits (the
 * upper half first). A sum does not depend on row order, so it identifies the multiset of input rows without sorting
 * them, and it can be kept current by adding the rows that arrive and subtracting the rows that go
 * (store/head-digests.ts does that for the largest inputs, so a refresh at the head does not hash a million rows
 * again). It is a fingerprint against accidental change, not a commitment against a forger: a sum of hashes admits
 * crafted collisions more easily than a hash of the sorted list.
 * The reproduce command writes the same query next to the exported rows, so anyone can check it with stock DuckDB.
 * (JOB_VERSION 1 hashed the sorted row texts, 2 the sorted md5s.)
 */
export const INPUT_DIGEST_SQL = (relation: string) =>
  `SELECT count(*) AS n, ${DIGEST_OF_SUMS(`sum(${MD5_UPPER('m')})`, `sum(${MD5_LOWER('m')})`)} AS digest FROM (SELECT md5_number(CAST(t AS VARCHAR)) AS m FROM ${relation} t)`

/**
 * The two halves of a row's md5 number from ONE md5 per row: DuckDB's md5_number(s) is the UHUGEINT whose low 64 bits
 * are md5_number_upper(s) and whose high 64 bits are md5_number_lower(s) (the digest's 16 bytes read little-endian;
 * input-digest.test.ts checks the identity). Calling md5_number_upper and md5_number_lower instead hashes every row
 * twice, which was about half of a digest's time at a million rows. `m` is an md5_number(...) value.
 */
export const MD5_UPPER = (m: string) => `(${m} & 18446744073709551615::UHUGEINT)::UBIGINT`
export const MD5_LOWER = (m: string) => `(${m} >> 64)::UBIGINT`

/**
 * The digest from the sums of the upper and lower halves, in SQL: (U·2^64 + L) mod 2^128 as two 16-digit hex
 * halves. Shared by INPUT_DIGEST_SQL, the grouped digests (batch.ts) and the kept head digests.
 */
export const DIGEST_OF_SUMS = (upperSum: string, lowerSum: string) =>
  `printf('%016x%016x', CAST(((coalesce(${upperSum}, 0) + coalesce(${lowerSum}, 0) // 18446744073709551616) % 18446744073709551616 + 18446744073709551616) % 18446744073709551616 AS UBIGINT), ` +
  `CAST((coalesce(${lowerSum}, 0) % 18446744073709551616 + 18446744073709551616) % 18446744073709551616 AS UBIGINT))`

const TWO_64 = 1n << 64n

/**
 * DIGEST_OF_SUMS in the process, for sums read as integers: the same text for the same sums. BigInt's `/` and `%`
 * truncate toward zero as DuckDB's HUGEINT `//` and `%` do, so negative sums give the SQL's digest too.
 */
export function digestOfSums(upperSum: bigint, lowerSum: bigint): string {
  const hex = (x: bigint) => x.toString(16).padStart(16, '0')
  const upper = (((upperSum + lowerSum / TWO_64) % TWO_64) + TWO_64) % TWO_64
  const lower = ((lowerSum % TWO_64) + TWO_64) % TWO_64
  return hex(upper) + hex(lower)
}
