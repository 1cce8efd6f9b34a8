import {type CursorShape, type CursorValue, decodeCursor, encodeCursor} from './cursor'
import {badInput} from './errors'
import {afterCondition, orderBy, type Params, type PgType, type SortDirection} from './sql'

/**
 * Relay connections over keyset pagination: every list is ordered by a unique sort key, a page is "LIMIT first + 1
 * rows after the cursor's key" (the extra row only tells whether there is a next page), so deep pages cost the same
 * as the first one and rows inserted meanwhile never shift a page, unlike OFFSET.
 */
export interface Keyset<Row> {
  /** Names the list and ordering inside the cursor. */
  kind: string
  /** Sort key columns (SQL expressions from code, never from requests), unique together. */
  columns: readonly (readonly [expr: string, cast: PgType])[]
  direction: SortDirection
  key(row: Row): CursorValue[]
}

export interface PageSettings {
  defaultPage: number
  maxPage: number
}

/**
 * Rows a single request may ask for across all its connections (nested ones multiply). The static cost limit cannot
 * see `first` passed in variables or left to its default; this runtime budget can.
 */
export class RowBudget {
  constructor(private remaining: number) {}

  charge(rows: number): void {
    this.remaining -= rows
    if (this.remaining < 0) {
      throw badInput('this query asks for too many rows in total: lower `first` on nested connections, or page through them')
    }
  }
}

export interface PageArgs {
  first?: number | null
  after?: string | null
}

export interface Page {
  limit: number
  after?: CursorValue[]
  /** Stable text of the page request, for DataLoader keys. */
  key: string
}

export function readPage(args: PageArgs, keyset: Keyset<unknown>, settings: PageSettings, budget: RowBudget): Page {
  const limit = args.first ?? settings.defaultPage
  if (!Number.isInteger(limit) || limit < 1 || limit > settings.maxPage) {
    throw badInput(`first must be between 1 and ${settings.maxPage}, got ${args.first}`, {argument: 'first'})
  }
  budget.charge(limit)
  const shape: CursorShape = keyset.columns.map(([, cast]) => (cast === 'int' ? 'int' : cast === 'numeric' ? 'decimal' : 'string'))
  const after = args.after == null ? undefined : decodeCursor(args.after, keyset.kind, shape)
  return {limit, after, key: JSON.stringify([limit, after ?? null])}
}

/** SQL pieces for a page: the keyset condition, ORDER BY and LIMIT (one extra row), all parameterized. */
export function pageSql(p: Params, keyset: Keyset<unknown>, page: Page): {after: string; order: string; limit: string} {
  return {
    after: afterCondition(p, keyset.columns, keyset.direction, page.after),
    order: orderBy(keyset.columns, keyset.direction),
    limit: p.add(page.limit + 1, 'int'),
  }
}

/** An edge whose cursor is a method (shared on the prototype, no closure per row). */
class Edge<T> {
  constructor(
    readonly node: T,
    private readonly keyset: Keyset<T>,
  ) {}

  cursor(): string {
    return encodeCursor(this.keyset.kind, this.keyset.key(this.node))
  }
}

export interface Connection<T> {
  edges: {node: T; cursor: () => string}[]
  pageInfo: {hasNextPage: boolean; endCursor: string | null}
  /** A function so the count query runs only when the client selects totalCount. */
  totalCount: () => Promise<number>
}

export function toConnection<T>(rows: readonly T[], page: Page, keyset: Keyset<T>, totalCount: () => Promise<number>): Connection<T> {
  // Edge cursors are encoded only if selected (GraphQL's default resolver calls a function-valued field): a
  // 1,000-row page that asks for nodes only would otherwise pay for 1,000 base64 JSON strings nobody reads.
  const edges = rows.slice(0, page.limit).map((node) => new Edge(node, keyset))
  const last = edges.at(-1)
  return {
    edges,
    pageInfo: {hasNextPage: rows.length > page.limit, endCursor: last ? last.cursor() : null},
    totalCount,
  }
}
