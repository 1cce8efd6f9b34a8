/**
 * Bind-parameter collector: every value goes into `params` and the SQL text only ever receives `$n` placeholders.
 * Identifiers (columns, sort directions) come from fixed whitelists in the callers, never from requests.
 */
export class Params {
  readonly values: unknown[] = []

  /** Adds a value and returns its placeholder, with an explicit cast so Postgres never has to guess the type. */
  add(value: unknown, cast?: PgType): string {
    this.values.push(value)
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`
  }
}

export type PgType = 'text' | 'int' | 'numeric' | 'text[]' | 'int[]'

export type SortDirection = 'ASC' | 'DESC'

/**
 * Keyset condition "row comes after the cursor" for an ORDER BY over `columns` (all in the same direction), e.g.
 * `(weight, id) < ($3::numeric, $4::text)` for `ORDER BY weight DESC, id DESC`. Without a cursor: TRUE.
 */
export function afterCondition(
  p: Params,
  columns: readonly (readonly [expr: string, cast: PgType])[],
  direction: SortDirection,
  after: readonly (string | number)[] | undefined,
): string {
  if (!after) return 'TRUE'
  if (after.length !== columns.length) throw new Error('cursor arity does not match the sort key')
  const left = columns.map(([expr]) => expr).join(', ')
  const right = columns.map(([, cast], i) => p.add(after[i], cast)).join(', ')
  return `(${left}) ${direction === 'ASC' ? '>' : '<'} (${right})`
}

export function orderBy(columns: readonly (readonly [expr: string, cast: PgType])[], direction: SortDirection): string {
  return columns.map(([expr]) => `${expr} ${direction}`).join(', ')
}
