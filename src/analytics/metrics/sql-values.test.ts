import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDecimalScaled, queryRows, shareToWad } from './sql-values'
import { openTestDb } from './test-fixtures'

describe('parseDecimalScaled', () => {
  it('converts decimal strings, also in exponent notation, exactly', () => {
    const cases: [string, bigint][] = [
      ['1.059299215', 1_059_299_215_000_000_000n],
      ['15712038.7703336', 15_712_038_770_333_600_000_000_000n],
      ['3.706855059e-05', 37_068_550_590_000n],
      ['1e-18', 1n],
      ['1.35e-16', 135n],
      ['6.3775e-14', 63_775n],
      ['0.7000000000000001', 700_000_000_000_000_100n],
      ['0', 0n],
      ['.5', 500_000_000_000_000_000n],
      ['2.', 2_000_000_000_000_000_000n],
      ['1E+3', 1_000_000_000_000_000_000_000n],
      ['-1.5', -1_500_000_000_000_000_000n],
    ]
    for (const [text, wei] of cases) expect(parseDecimalScaled(text, 18), text).toBe(wei)
  })

  it('rounds digits beyond the scale half away from zero', () => {
    expect(parseDecimalScaled('1.0008989930000001e-07', 18)).toBe(100_089_899_300n) // …300.00001
    expect(parseDecimalScaled('1e-19', 18)).toBe(0n)
    expect(parseDecimalScaled('5e-19', 18)).toBe(1n)
    expect(parseDecimalScaled('-5e-19', 18)).toBe(-1n)
    expect(parseDecimalScaled('2.4999', 0)).toBe(2n)
    expect(parseDecimalScaled('2.5', 0)).toBe(3n)
  })

  it('rejects what is not a decimal number', () => {
    for (const bad of ['', '.', 'abc', '1.2.3', '1e', 'NaN', 'Infinity', '0x10', '1,5', '--1']) {
      expect(() => parseDecimalScaled(bad, 18), bad).toThrow()
    }
  })

  it('round-trips any amount formatted with 18 decimals', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (wei) => {
      const abs = wei < 0n ? -wei : wei
      const text = `${wei < 0n ? '-' : ''}${abs / 10n ** 18n}.${(abs % 10n ** 18n).toString().padStart(18, '0')}`
      expect(parseDecimalScaled(text, 18)).toBe(wei)
    }))
  })
})

describe('shareToWad', () => {
  it('reads a share as the decimal it prints as', () => {
    expect(shareToWad(0.04)).toBe(40_000_000_000_000_000n)
    expect(shareToWad(1)).toBe(10n ** 18n)
    expect(shareToWad(0)).toBe(0n)
    expect(shareToWad(1 / 3)).toBe(333_333_333_333_333_300n)
    expect(shareToWad(1e-7)).toBe(100_000_000_000n)
    expect(shareToWad(5e-324)).toBe(0n)
  })

  it('rejects values outside [0, 1]', () => {
    for (const bad of [-0.1, 1.1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => shareToWad(bad)).toThrow(RangeError)
  })
})

describe('queryRows', () => {
  it('gives exactly the objects of getRowObjectsJson, for every type the metric queries return', async () => {
    const db = await openTestDb()
    try {
      const sql = `SELECT i, i::HUGEINT * 170141183460469231731687303715884105 AS h, (i::HUGEINT * 3)::BIGNUM AS b, i / 7 AS d,
        CASE WHEN i % 3 = 0 THEN NULL ELSE 'x' || i END AS s, i % 2 = 0 AS flag, [i, i + 1] AS l,
        struct_pack(x := i / 3, y := 'y') AS st, 'NaN'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, i AS "dup", i + 1 AS "dup"
        FROM range(-3, 50) t(i)`
      const expected = (await db.conn.runAndReadAll(sql)).getRowObjectsJson()
      expect(expected).toHaveLength(53)
      expect(await queryRows(db.conn, sql)).toEqual(expected)
      expect(await queryRows(db.conn, `SELECT 1 AS x WHERE false`)).toEqual([])
    } finally {
      db.close()
    }
  })
})
