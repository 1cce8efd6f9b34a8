import {Account, BalanceCheckpoint, DelegateChange, Token, TokenHolder, Transfer, VotingPowerChange} from '../../model'
import {balanceCheckpointId, holderId, ZERO_ADDRESS} from '../ids'
import type {RawEvent} from '../raw'
import {type EventContext, warn} from './context'

type TokenEvent = Extract<RawEvent, {name: 'Transfer' | 'DelegateChanged' | 'DelegateVotesChanged'}>

/** ERC20Votes events: balances, supply, holder count, delegation and voting power. */
export function applyTokenEvent(ctx: EventContext, raw: TokenEvent): void {
  const token = ensureToken(ctx)
  switch (raw.name) {
    case 'Transfer':
      return applyTransfer(ctx, token, raw)
    case 'DelegateChanged':
      return applyDelegateChanged(ctx, token, raw)
    case 'DelegateVotesChanged':
      return applyDelegateVotesChanged(ctx, token, raw)
  }
}

function applyTransfer(ctx: EventContext, token: Token, raw: Extract<TokenEvent, {name: 'Transfer'}>): void {
  const {state, meta} = ctx
  token.transferCount += 1
  if (raw.from === ZERO_ADDRESS) token.totalSupply += raw.value
  else {
    const from = ensureHolder(ctx, token, raw.from)
    const before = from.balance
    from.balance -= raw.value
    // A balance below zero means events are missing or the token is not a plain ERC20; keep the arithmetic honest and
    // visible rather than clamping it.
    if (from.balance < 0n) warn(ctx, `balance of ${raw.from} in ${token.id} went negative`)
    if (before > 0n && from.balance <= 0n) token.holderCount -= 1
    touchHolder(ctx, from)
    checkpointBalance(ctx, token.id, raw.from, from.balance)
  }
  if (raw.to === ZERO_ADDRESS) token.totalSupply -= raw.value
  else {
    const to = ensureHolder(ctx, token, raw.to)
    const before = to.balance
    to.balance += raw.value
    if (before <= 0n && to.balance > 0n) token.holderCount += 1
    touchHolder(ctx, to)
    checkpointBalance(ctx, token.id, raw.to, to.balance)
  }
  token.updatedAtBlock = meta.blockNumber
  state.tokens.touch(token)
  state.transfers.push(
    new Transfer({
      id: meta.id,
      token: token.id,
      from: raw.from,
      to: raw.to,
      value: raw.value,
      blockNumber: meta.blockNumber,
      timestamp: meta.timestamp,
      txHash: meta.txHash,
    }),
  )
}

function applyDelegateChanged(ctx: EventContext, token: Token, raw: Extract<TokenEvent, {name: 'DelegateChanged'}>): void {
  const holder = ensureHolder(ctx, token, raw.delegator)
  holder.delegate = raw.toDelegate === ZERO_ADDRESS ? null : raw.toDelegate
  touchHolder(ctx, holder)
  ctx.state.delegateChanges.push(
    new DelegateChange({
      id: ctx.meta.id,
      token: token.id,
      delegator: raw.delegator,
      fromDelegate: raw.fromDelegate,
      toDelegate: raw.toDelegate,
      blockNumber: ctx.meta.blockNumber,
      timestamp: ctx.meta.timestamp,
      txHash: ctx.meta.txHash,
    }),
  )
}

function applyDelegateVotesChanged(
  ctx: EventContext,
  token: Token,
  raw: Extract<TokenEvent, {name: 'DelegateVotesChanged'}>,
): void {
  const holder = ensureHolder(ctx, token, raw.delegate)
  if (holder.votes !== raw.previousVotes) {
    warn(ctx, `votes of ${raw.delegate} were ${holder.votes} in the index but ${raw.previousVotes} on chain`)
  }
  holder.votes = raw.newVotes
  touchHolder(ctx, holder)
  ctx.state.votingPowerChanges.push(
    new VotingPowerChange({
      id: ctx.meta.id,
      token: token.id,
      delegate: raw.delegate,
      previousVotes: raw.previousVotes,
      newVotes: raw.newVotes,
      blockNumber: ctx.meta.blockNumber,
      timestamp: ctx.meta.timestamp,
      txHash: ctx.meta.txHash,
    }),
  )
}

/** The Token row of the emitting contract; created on first sight with zero supply. */
export function ensureToken(ctx: EventContext, address = ctx.meta.contract): Token {
  const existing = ctx.state.tokens.get(address)
  if (existing) return existing
  const entry = ctx.contracts.byAddress.get(address)
  return ctx.state.tokens.add(
    new Token({
      id: address,
      name: entry?.name ?? null,
      totalSupply: 0n,
      holderCount: 0,
      transferCount: 0,
      updatedAtBlock: ctx.meta.blockNumber,
    }),
  )
}

export function ensureAccount(ctx: EventContext, address: string): Account {
  return (
    ctx.state.accounts.get(address) ??
    ctx.state.accounts.add(new Account({id: address, firstSeenBlock: ctx.meta.blockNumber, firstSeenEvent: ctx.event}))
  )
}

function ensureHolder(ctx: EventContext, token: Token, address: string): TokenHolder {
  const id = holderId(token.id, address)
  const existing = ctx.state.holders.get(id)
  if (existing) return existing
  return ctx.state.holders.add(
    new TokenHolder({
      id,
      token,
      account: ensureAccount(ctx, address),
      balance: 0n,
      votes: 0n,
      delegate: null,
      updatedAtBlock: ctx.meta.blockNumber,
      lastEvent: ctx.event,
    }),
  )
}

/**
 * Records the holder's balance at the end of the current block (a later transfer in the same block overwrites it).
 * The API's `atBlock` reads take the last checkpoint at or below the block instead of summing the transfer history.
 */
function checkpointBalance(ctx: EventContext, token: string, account: string, balance: bigint): void {
  const id = balanceCheckpointId(token, account, ctx.meta.blockNumber)
  const existing = ctx.state.balanceCheckpoints.get(id)
  if (existing) existing.balance = balance
  else ctx.state.balanceCheckpoints.set(id, new BalanceCheckpoint({id, token, account, blockNumber: ctx.meta.blockNumber, balance}))
}

function touchHolder(ctx: EventContext, holder: TokenHolder): void {
  holder.updatedAtBlock = ctx.meta.blockNumber
  holder.lastEvent = ctx.event
  ctx.state.holders.touch(holder)
}
