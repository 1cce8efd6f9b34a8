import {blockKeyset, defineList, textKeyset, type ListLoader} from '../connections'
import type {Keyset} from '../pagination'
import {columns, columnsFor, COLS, type Row} from '../rows'
import type {Params, SortDirection} from '../sql'

/**
 * An address's histories (Account.votingPowerHistory / transfers / delegations / votes), in chain order either way.
 * The parent is the lowercased address; `block` (Account.atBlock) cuts the history at that block.
 */
export interface HistoryFilters {
  token: string | null
  block: number | null
  direction?: 'ANY' | 'IN' | 'OUT'
  /** Node fields selected (selection.ts); absent or null: all columns. */
  fields?: string[] | null
}

const upTo = (p: Params, f: HistoryFilters) =>
  (f.token ? ` AND t.token = ${p.add(f.token, 'text')}` : '') + (f.block === null ? '' : ` AND t.block_number <= ${p.add(f.block, 'int')}`)

/** Both orderings of a list: the sort direction is part of the keyset (and of its cursors). */
function bothDirections(
  name: string,
  set: (p: Params, f: HistoryFilters) => string,
  keyset: (kind: string, direction: SortDirection) => Keyset<Row> = (kind, direction) => textKeyset(kind, 'id', direction),
): Record<SortDirection, ListLoader<HistoryFilters>> {
  return {
    ASC: defineList({name: `${name}:asc`, keyset: keyset(name, 'ASC'), set}),
    DESC: defineList({name: `${name}:desc`, keyset: keyset(name, 'DESC'), set}),
  }
}

// Paged on (block, id): the (delegate, block_number) index then serves a delegate with a long history directly.
export const votingPowerHistory = bothDirections(
  'votingPowerHistory',
  (p, f) => `SELECT ${columnsFor('t', COLS.votingPowerChange, f.fields, ['id', 'blockNumber'])} FROM voting_power_change t WHERE t.delegate = p.parent${upTo(p, f)}`,
  blockKeyset,
)

export const transfers = bothDirections('transfers', (p, f) => {
  // An OR over the two indexed columns becomes a BitmapOr of both indexes.
  const who = f.direction === 'IN' ? `t."to" = p.parent` : f.direction === 'OUT' ? `t."from" = p.parent` : `(t."from" = p.parent OR t."to" = p.parent)`
  return `SELECT ${columns('t', COLS.transfer)} FROM transfer t WHERE ${who}${upTo(p, f)}`
})

// from_delegate has no index: the delegate_change table is one row per delegation call, small next to transfers.
export const delegations = bothDirections(
  'delegations',
  (p, f) =>
    `SELECT ${columns('t', COLS.delegateChange)} FROM delegate_change t
     WHERE (t.delegator = p.parent OR t.to_delegate = p.parent OR t.from_delegate = p.parent)${upTo(p, f)}`,
)

export const votesCast = bothDirections(
  'votesCast',
  (p, f) =>
    `SELECT ${columns('t', COLS.vote)} FROM vote t WHERE t.voter = p.parent` +
    (f.block === null ? '' : ` AND t.block_number <= ${p.add(f.block, 'int')}`),
)
