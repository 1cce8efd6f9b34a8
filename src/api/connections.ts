import type {ApiContext} from './context'
import {byParent, countsByKey, grouped, lateral} from './loaders'
import {type Connection, type Keyset, type PageArgs, pageSql, readPage, toConnection} from './pagination'
import type {Row} from './rows'
import {Params} from './sql'

/**
 * One mechanism for every list in the API, root or nested. A list is defined by:
 *  - `set`: SQL for its rows, correlated to the current parent as `p.parent` (text) when nested, with columns
 *    aliased to GraphQL field names;
 *  - `keyset`: its unique sort key over those aliases (`s."id"`, ...).
 * Requests for the same list and arguments within one tick become ONE statement: a LATERAL join over the parents,
 * each getting its own keyset page (no N+1, no OFFSET). totalCount is a second grouped statement, run only when
 * selected. Root lists are the one-parent case (parent ROOT).
 */
export interface ListSpec<F> {
  name: string
  keyset: Keyset<Row>
  /** `filters` are already validated and normalized (lowercased addresses, ...). */
  set(p: Params, filters: F): string
}

export const ROOT = '-'

export type ListLoader<F> = (ctx: ApiContext, parent: string, filters: F, args: PageArgs) => Promise<Connection<Row>>

export function defineList<F>(spec: ListSpec<F>): ListLoader<F> {
  return async (ctx, parent, filters, args) => {
    const page = readPage(args, spec.keyset, ctx.settings, ctx.budget)
    const filtersKey = JSON.stringify(filters ?? null)
    const pages = grouped<{filters: F; page: typeof page}, Row[]>(
      ctx,
      `list:${spec.name}`,
      async (parents, a) => {
        const p = new Params()
        const set = spec.set(p, a.filters)
        const s = pageSql(p, spec.keyset, a.page)
        const inner = `SELECT * FROM (${set}) s WHERE ${s.after} ORDER BY ${s.order} LIMIT ${s.limit}`
        return byParent(await ctx.query<Row & {__parent: string}>(lateral(p, parents, inner), p))
      },
      () => [],
    )
    const counts = grouped<F, number>(
      ctx,
      `count:${spec.name}`,
      async (parents, f) => {
        const p = new Params()
        const set = spec.set(p, f)
        const sql = `SELECT p.parent AS k, (SELECT count(*) FROM (${set}) s)::int AS n FROM unnest(${p.add(parents, 'text[]')}) AS p(parent)`
        return countsByKey(await ctx.query<{k: string; n: number}>(sql, p))
      },
      () => 0,
    )
    const rows = await pages(parent, {filters, page}, `${filtersKey}|${page.key}`)
    return toConnection(rows, page, spec.keyset, () => counts(parent, filters, filtersKey))
  }
}

/** Keyset over one unique text column of the set (ids of event rows and event_id of aggregates sort in chain order). */
export function textKeyset(kind: string, field: string, direction: 'ASC' | 'DESC' = 'ASC'): Keyset<Row> {
  return {kind: `${kind}:${direction}`, columns: [[`s."${field}"`, 'text']], direction, key: (r) => [String(r[field])]}
}

/**
 * Keyset (blockNumber, id) for histories filtered by one indexed column that has a (column, block_number) index:
 * Postgres reads that index in order and only sorts the few rows of one block by id (incremental sort), where an
 * id-only keyset would sort the parent's whole history on every page.
 */
export function blockKeyset(kind: string, direction: 'ASC' | 'DESC' = 'ASC'): Keyset<Row> {
  return {
    kind: `${kind}:block:${direction}`,
    columns: [
      ['s."blockNumber"', 'int'],
      ['s."id"', 'text'],
    ],
    direction,
    key: (r) => [Number(r.blockNumber), String(r.id)],
  }
}
