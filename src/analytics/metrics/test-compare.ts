import type { Row } from './sql-values'

/**
 * Test support: comparing metric results field by field. Numbers must agree to 1e-9 relative, or 1e-12
 * absolute near 0, unless both are integers below 2^32 (counts, ranks: exactly); everything else (exact amounts as
 * strings, booleans, NULLs) exactly. The bound keeps DOUBLE figures out of the exact rule: a large ratio can be an
 * integer by chance (a reward-to-contribution ratio of 4,479,573,553,620,824 against the reference's …823, one ulp
 * apart, was compared exactly before).
 */
export function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(1e-9 * Math.max(Math.abs(a), Math.abs(b)), 1e-12)
}

/** An integer small enough to be a count or a rank, compared exactly (see above). */
const isCount = (x: number): boolean => Number.isInteger(x) && Math.abs(x) < 2 ** 32

/** Differences between two flat result objects, as readable lines (empty when they agree). */
export function differences(actual: object, expected: object, path = ''): string[] {
  const out: string[] = []
  const a = actual as Record<string, unknown>
  const e = expected as Record<string, unknown>
  for (const key of new Set([...Object.keys(a), ...Object.keys(e)])) {
    const x = a[key]
    const y = e[key]
    const where = `${path}${key}`
    if (typeof x === 'number' && typeof y === 'number' && !(isCount(x) && isCount(y))) {
      if (!close(x, y)) out.push(`${where}: ${x} vs expected ${y}`)
    } else if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      out.push(...differences(x, y, `${where}.`))
    } else if (x !== y) {
      out.push(`${where}: ${String(x)} vs expected ${String(y)}`)
    }
  }
  return out
}

/**
 * Grouped vs single queries (grouped*.test.ts): a grouped row must hold, for its group, exactly what the single
 * query returns over that group's rows alone, every column identical, DOUBLEs included: no figure depends on the
 * order in which rows are added (exact integer sums, ORDER_FREE_SUM, TVD in entity order), so a stored value from
 * a grouped query is the one the reproduce command's single query recomputes, to the last bit.
 */
export function sameRow(grouped: Row, single: Row): string[] {
  const out: string[] = []
  for (const [key, want] of Object.entries(single)) {
    const got = grouped[key]
    if (!Object.is(got, want)) out.push(`${key}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`)
  }
  return out
}

/**
 * The COPY text line (fairness.ts, FAIRNESS_COPY_LINE) that a row of FAIRNESS_TABLE_SQL must become, built here in
 * JavaScript from the row's own values; a DOUBLE is compared through its value, not its text (see copyLineDiff).
 */
function expectedCopyFields(row: Row): (string | number | null)[] {
  const verdict = { over: 'over_rewarded', under: 'under_rewarded', fair: 'proportionate' }[String(row.status)]
  return [row.entity as string, row.entity as string, row.contribution as string, (row.contribution_share as number | null) ?? 0,
    row.reward as string, (row.reward_share as number | null) ?? 0, row.reward_ratio as number | null, verdict ?? `bad status ${String(row.status)}`]
}

/**
 * Differences between the COPY text lines of a fairness table (newline-separated, or NULL for none) and the rows of
 * FAIRNESS_TABLE_SQL they stand for, in order. A DOUBLE's text must read back (Number(), as Postgres' numeric
 * input does) as exactly the row's DOUBLE; \N is NULL.
 */
export function copyLinesDiff(lines: string | null, rows: readonly Row[]): string[] {
  const got = lines === null ? [] : lines.split('\n')
  if (got.length !== rows.length) return [`${got.length} lines vs ${rows.length} rows`]
  const out: string[] = []
  got.forEach((line, i) => {
    const fields = line.split('\t')
    const want = expectedCopyFields(rows[i]!)
    if (fields.length !== want.length) return void out.push(`line ${i}: ${fields.length} fields: ${line}`)
    want.forEach((w, j) => {
      const f = fields[j]!
      const same = w === null ? f === '\\N' : typeof w === 'number' ? f !== '\\N' && Number(f) === w : f === w
      if (!same) out.push(`line ${i} field ${j}: ${f} vs expected ${String(w)}`)
    })
  })
  return out
}
