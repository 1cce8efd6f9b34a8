import {describe, expect, it} from 'vitest'
import {ProposalState} from '../model'
import {type ProposalFacts, proposalState} from './proposal-state'

const base: ProposalFacts = {
  voteStart: 10n,
  voteEnd: 20n,
  forVotes: 0n,
  againstVotes: 0n,
  abstainVotes: 0n,
  quorum: 100n,
  queued: false,
  executed: false,
  canceled: false,
}

describe('proposalState (OpenZeppelin Governor.state semantics)', () => {
  it('is Pending through the snapshot block and Active through the deadline block', () => {
    expect(proposalState(base, 10n)).toBe(ProposalState.PENDING)
    expect(proposalState(base, 11n)).toBe(ProposalState.ACTIVE)
    expect(proposalState(base, 20n)).toBe(ProposalState.ACTIVE)
    expect(proposalState(base, 21n)).not.toBe(ProposalState.ACTIVE)
  })

  it('counts abstain towards quorum but not towards success', () => {
    const p = {...base, forVotes: 60n, abstainVotes: 40n}
    expect(proposalState(p, 21n)).toBe(ProposalState.SUCCEEDED)
    expect(proposalState({...p, abstainVotes: 39n}, 21n)).toBe(ProposalState.DEFEATED)
  })

  it('is Defeated on a tie, because for must exceed against', () => {
    expect(proposalState({...base, forVotes: 100n, againstVotes: 100n}, 21n)).toBe(ProposalState.DEFEATED)
  })

  it('is Defeated with no votes at all', () => {
    expect(proposalState(base, 21n)).toBe(ProposalState.DEFEATED)
  })

  it('is Queued once queued, Executed and Canceled regardless of time', () => {
    const won = {...base, forVotes: 200n}
    expect(proposalState({...won, queued: true}, 25n)).toBe(ProposalState.QUEUED)
    expect(proposalState({...won, queued: true, executed: true}, 5n)).toBe(ProposalState.EXECUTED)
    expect(proposalState({...base, canceled: true}, 5n)).toBe(ProposalState.CANCELED)
  })

  it('refuses to judge an ended vote without the quorum at its snapshot', () => {
    expect(() => proposalState({...base, quorum: null}, 21n)).toThrow(/quorum/)
    expect(proposalState({...base, quorum: null}, 15n)).toBe(ProposalState.ACTIVE)
  })
})
