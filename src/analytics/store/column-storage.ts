/**
 * The type of a HUGEINT column that a refresh scans whole (balance_state, validated_contribution, delegate_power, and
 * the typed columns they are derived from): stored uncompressed. DuckDB (1.5) bit-packs HUGEINT columns by default,
 * and unpacking them dominates such scans: summing 200,000 validated values (units × score, ~10^7) took ~33 ms
 * bit-packed against ~1.5 ms uncompressed, and a million wei-sized balances ~18 ms against ~5 ms, at 16 bytes a value
 * on disk instead of a few. A mirror made before this keeps its columns as they were (it is only slower) until it is
 * rebuilt.
 */
export const SCANNED_HUGEINT = 'HUGEINT USING COMPRESSION uncompressed'
