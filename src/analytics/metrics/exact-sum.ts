import {HUGEINT_TO_BIGNUM} from './bignum'

/**
 * The exact sum of a HUGEINT column as a BIGNUM scalar subquery, summed in HUGEINT whenever that is safe.
 *
 * A BIGNUM sum over a million rows costs ~70 ms, a HUGEINT one ~20 ms; but a HUGEINT sum must not overflow (DuckDB
 * 1.5 raised an error in every case tried here; concentration.ts records a case where it wrapped around). Σ |x| in
 * DOUBLE (within a relative 1e-9 of the exact value for up to 10^7 rows) below 8.5e37 = 2^126 means no partial sum
 * can reach 2^127, so the HUGEINT sum runs only then (it sees no row otherwise: its FILTER), and
 * the BIGNUM sum only beyond (its WHERE keeps no row otherwise, which also spares the casts; a FILTER would not, DuckDB
 * computes an aggregate's argument for every row before the FILTER drops it). Either way the result is the same exact
 * BIGNUM (both reach it through HUGEINT_TO_BIGNUM, bignum.ts); 0 over no row. `value`, `from` and `where` are
 * constant SQL text (a column, a FROM item, a condition), never values. The grouped twin is EXACT_SUMS_BY.
 */
export const EXACT_SUM = (value: string, from: string, where: string) => `(
  WITH approx AS (SELECT sum(abs(${value}::DOUBLE)) AS a FROM ${from} WHERE ${where})
  SELECT coalesce(
    ${HUGEINT_TO_BIGNUM(`SELECT sum(${value}) FILTER (WHERE (SELECT a FROM approx) < 8.5e37) FROM ${from} WHERE ${where}`)},
    (SELECT sum(${HUGEINT_TO_BIGNUM(value)}) FROM ${from} WHERE ${where} AND (SELECT a FROM approx) >= 8.5e37),
    0::BIGNUM))`

/**
 * EXACT_SUM per key, as the rows of a query (key, n: the key's row count, total BIGNUM): one row per key with rows,
 * none for a key without. The bound is judged over all the rows `where` selects, whichever key they have, so each
 * key's HUGEINT sum stays inside it too. `key`, `value`, `from` and `where` are constant SQL text.
 */
export const EXACT_SUMS_BY = (key: string, value: string, from: string, where: string) => `
  WITH approx AS (SELECT sum(abs(${value}::DOUBLE)) AS a FROM ${from} WHERE ${where})
  SELECT ${key}, count(*) AS n, ${HUGEINT_TO_BIGNUM(`sum(${value})`)} AS total FROM ${from}
  WHERE ${where} AND (SELECT a FROM approx) < 8.5e37 GROUP BY ${key}
  UNION ALL
  SELECT ${key}, count(*), sum(${HUGEINT_TO_BIGNUM(value)}) FROM ${from} WHERE ${where} AND (SELECT a FROM approx) >= 8.5e37 GROUP BY ${key}`
