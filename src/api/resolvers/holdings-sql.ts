import type {Params} from '../sql'

/**
 * Token state AS OF a block, recomputed from the event history (the token_holder table only holds the latest):
 *   balance  = Σ Transfer.value in − Σ Transfer.value out, blocks ≤ B
 *   votes    = newVotes of the last DelegateVotesChanged, blocks ≤ B   (ERC20Votes getVotes at B)
 *   delegate = toDelegate of the last DelegateChanged, blocks ≤ B      (ERC20Votes delegates at B)
 * "Last" is by event id, which sorts in chain order (block, then log index). All values are numeric, never floats.
 */

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

/** Balance of `account` in `token` at block `b` (SQL expressions). */
export function balanceAt(token: string, account: string, b: string): string {
  return `(coalesce((SELECT sum(tr.value) FROM transfer tr WHERE tr."to" = ${account} AND tr.token = ${token} AND tr.block_number <= ${b}), 0)
         - coalesce((SELECT sum(tr.value) FROM transfer tr WHERE tr."from" = ${account} AND tr.token = ${token} AND tr.block_number <= ${b}), 0))`
}

export function votesAt(token: string, account: string, b: string): string {
  return `coalesce((SELECT vp.new_votes FROM voting_power_change vp WHERE vp.delegate = ${account} AND vp.token = ${token}
          AND vp.block_number <= ${b} ORDER BY vp.block_number DESC, vp.id DESC LIMIT 1), 0)`
}

export function delegateAt(token: string, account: string, b: string): string {
  return `(SELECT dc.to_delegate FROM delegate_change dc WHERE dc.delegator = ${account} AND dc.token = ${token}
          AND dc.block_number <= ${b} ORDER BY dc.id DESC LIMIT 1)`
}

/**
 * Every account's balance, votes and delegate in `token` at block `b`, as a set (address, balance, votes, delegate)
 * with the zero address left out (it "sends" every mint). One pass over the token's history up to `b`, hash-joined:
 * the cost grows with history, and API_STATEMENT_TIMEOUT_MS bounds it.
 */
export function holdersAtSql(p: Params, token: string, block: number): string {
  const t = p.add(token, 'text')
  const b = p.add(block, 'int')
  return `SELECT a.address, a.balance, a.votes, dl.delegate FROM (
      SELECT coalesce(bal.account, vp.account) AS address, coalesce(bal.balance, 0) AS balance, coalesce(vp.votes, 0) AS votes
      FROM (SELECT x.account, sum(x.delta) AS balance FROM (
              SELECT tr."to" AS account, tr.value AS delta FROM transfer tr WHERE tr.token = ${t} AND tr.block_number <= ${b}
              UNION ALL
              SELECT tr."from", -tr.value FROM transfer tr WHERE tr.token = ${t} AND tr.block_number <= ${b}) x
            GROUP BY x.account) bal
      FULL JOIN (SELECT DISTINCT ON (c.delegate) c.delegate AS account, c.new_votes AS votes FROM voting_power_change c
                 WHERE c.token = ${t} AND c.block_number <= ${b} ORDER BY c.delegate, c.id DESC) vp ON vp.account = bal.account
    ) a
    LEFT JOIN (SELECT DISTINCT ON (d.delegator) d.delegator, d.to_delegate AS delegate FROM delegate_change d
               WHERE d.token = ${t} AND d.block_number <= ${b} ORDER BY d.delegator, d.id DESC) dl ON dl.delegator = a.address
    WHERE a.address <> ${p.add(ZERO_ADDRESS, 'text')}`
}

/** The latest indexed state in the same shape, from token_holder. */
export function holdersLatestSql(p: Params, token: string): string {
  return `SELECT h.account_id AS address, h.balance, h.votes, h.delegate FROM token_holder h
    WHERE h.token_id = ${p.add(token, 'text')} AND h.account_id <> ${p.add(ZERO_ADDRESS, 'text')}`
}
