/**
 * Exact conversions between HUGEINT and BIGNUM, around two defects of DuckDB 1.5.6's casts between them:
 *
 * - HUGEINT → BIGNUM drops the 2^120 bit of a value in [2^120, 2^120 + 183·2^64) and of its negative (2^120 + 5
 *   becomes 5), silently, and so does the implicit cast where a HUGEINT meets a BIGNUM in an expression. Found by
 *   balance-totals.test.ts; bignum-window.test.ts puts amounts and sums in that window through every metric.
 * - BIGNUM → HUGEINT fails ("bignum too large") for any non-zero value.
 *
 * Through the decimal text both conversions are exact (BIGNUM → HUGEINT is written `TRY_CAST(x::VARCHAR AS HUGEINT)`). Every HUGEINT that becomes a BIGNUM in this project's SQL
 * (a column, a sum, a window sum) goes through HUGEINT_TO_BIGNUM, and never meets a BIGNUM unconverted; constants
 * (0::BIGNUM, a VARCHAR parameter ::BIGNUM) are not HUGEINTs and need nothing. The text costs time per row, so the
 * sums over many rows stay in HUGEINT where that cannot overflow and convert once (EXACT_SUM, exact-sum.ts).
 */

/** `x` (a HUGEINT expression, constant SQL text) as the BIGNUM of the same value. */
export const HUGEINT_TO_BIGNUM = (x: string): string => `(${x})::VARCHAR::BIGNUM`
