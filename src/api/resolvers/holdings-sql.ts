import type {Params} from '../sql'

/**
 * Token state AS OF a block, read from history tables that act as checkpoints (token_holder only holds the latest):
 *   balance  = balance of the last balance_checkpoint at a block ≤ B (the processor writes one per account and block
 *              in which its balance changed, with the end-of-block value)                 (ERC20 balanceOf at B)
 *   votes    = newVotes of the last DelegateVotesChanged, blocks ≤ B                      (ERC20Votes getVotes at B)
 *   delegate = toDelegate of the last DelegateChanged, blocks ≤ B                         (ERC20Votes delegates at B)
 * Each is one descent of an index on (account column, block), whatever the length of the history. "Last" is by block
 * then event id (ids sort in chain order). All values are numeric, never floats.
 */

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

/** Balance of `account` in `token` at block `b` (SQL expressions). */
export function balanceAt(token: string, account: string, b: string): string {
  return `coalesce((SELECT bc.balance FROM balance_checkpoint bc WHERE bc.token = ${token} AND bc.account = ${account}
          AND bc.block_number <= ${b} ORDER BY bc.block_number DESC LIMIT 1), 0)`
}

export function votesAt(token: string, account: string, b: string): string {
  return `coalesce((SELECT vp.new_votes FROM voting_power_change vp WHERE vp.delegate = ${account} AND vp.token = ${token}
          AND vp.block_number <= ${b} ORDER BY vp.block_number DESC, vp.id DESC LIMIT 1), 0)`
}

export function delegateAt(token: string, account: string, b: string): string {
  return `(SELECT dc.to_delegate FROM delegate_change dc WHERE dc.delegator = ${account} AND dc.token = ${token}
          AND dc.block_number <= ${b} ORDER BY dc.id DESC LIMIT 1)`
}

export type Ranking = 'BALANCE' | 'VOTES'

/**
 * A token's accounts as (address, rank): rank is the balance or the votes, latest or as of block `block`, for every
 * account with a token_holder row (every account that ever held, received or was delegated voting power; rows
 * created by rolled-back blocks are removed with them) except the zero address, which "sends" every mint.
 * As of a block this is one checkpoint lookup per account: it grows with the number of accounts, not with history.
 */
export function rankSetSql(p: Params, token: string, by: Ranking, block: number | null): string {
  const t = p.add(token, 'text')
  const accounts = `h.token_id = ${t} AND h.account_id <> ${p.add(ZERO_ADDRESS, 'text')}`
  if (block === null) {
    return `SELECT h.account_id AS address, h.${by === 'BALANCE' ? 'balance' : 'votes'} AS rank, h.balance, h.votes, h.delegate
      FROM token_holder h WHERE ${accounts}`
  }
  const b = p.add(block, 'int')
  const value = by === 'BALANCE' ? balanceAt(t, 'h.account_id', b) : votesAt(t, 'h.account_id', b)
  // A LATERAL of its own (not a SELECT-list subquery) so the lookup runs once per account: as an output column, a
  // filter on it (rank > 0) was pushed down and made Postgres run every lookup twice.
  return `SELECT h.account_id AS address, v.rank FROM token_holder h CROSS JOIN LATERAL (SELECT ${value} AS rank OFFSET 0) v
    WHERE ${accounts}`
}

/**
 * The total the shares divide by, over the set `ranked` (rankSetSql, rank > 0). Latest, it is read without walking
 * the set: total supply from the token row (what balanceOf's sum is; the zero address never has a holder row), and
 * the votes' sum from the (token_id, votes) index alone. As of a block, the sum of the ranked set itself.
 */
export function rankTotalSql(p: Params, token: string, by: Ranking, block: number | null): string {
  if (block !== null) return `SELECT coalesce(sum(rank), 0)::text AS total FROM ranked`
  const t = p.add(token, 'text')
  if (by === 'BALANCE') return `SELECT coalesce((SELECT tk.total_supply FROM token tk WHERE tk.id = ${t}), 0)::text AS total`
  return `SELECT coalesce(sum(h.votes), 0)::text AS total FROM token_holder h WHERE h.token_id = ${t} AND h.votes > 0`
}

/**
 * The other columns of a ranked row `s`: carried by the latest set itself, or looked up as of the block. Applied to
 * one page of rows only, never to the whole set.
 */
export function holderColumnsSql(p: Params, token: string, by: Ranking, block: number | null): string {
  if (block === null) return `s.balance::text AS balance, s.votes::text AS votes, s.delegate`
  const t = p.add(token, 'text')
  const b = p.add(block, 'int')
  const balance = by === 'BALANCE' ? 's.rank' : balanceAt(t, 's.address', b)
  const votes = by === 'VOTES' ? 's.rank' : votesAt(t, 's.address', b)
  return `(${balance})::text AS balance, (${votes})::text AS votes, ${delegateAt(t, 's.address', b)} AS delegate`
}
