import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadTable, openTestDb, type TestDb } from './test-fixtures'
import { runParticipation, runRepeatVoters } from './participation'
import { participationRef, repeatVotersRef, type VoteRecord } from './reference-fairness'
import { differences } from './test-compare'

let db: TestDb
beforeEach(async () => {
  db = await openTestDb()
})
afterEach(() => db.close())

const AGAINST = 0, FOR = 1, ABSTAIN = 2

async function participation(votes: readonly VoteRecord[], supply: bigint, quorum: bigint) {
  await loadTable(db.conn, 'votes', [['voter', 'VARCHAR'], ['support', 'INTEGER'], ['weight', 'HUGEINT']],
    votes.map((v) => [v.voter, v.support, v.weight]))
  return runParticipation(db.conn, { supply, quorum })
}

const vote = (voter: string, support: number, weight: number): VoteRecord => ({ voter, support, weight: BigInt(weight) })

describe('participation: hand-worked examples', () => {
  it('a proposal carried by its largest voter', async () => {
    const votes = [vote('a', FOR, 60), vote('b', FOR, 10), vote('c', AGAINST, 50), vote('d', ABSTAIN, 5), vote('e', FOR, 0)]
    const r = await participation(votes, 1000n, 40n)
    expect(r).toEqual({
      forVotes: '70', againstVotes: '50', abstainVotes: '5', uniqueVoters: 5, turnout: 0.125,
      quorumReached: true, voteSucceeded: true, succeeded: true, pivotality: 1,
    })
  })

  it('succeeded: removal can also fail it through quorum', async () => {
    // for 30+30+30 vs against 10, quorum 80: without the largest for-voter, 60 + 0 < 80
    const votes = [vote('a', FOR, 30), vote('b', FOR, 30), vote('c', FOR, 30), vote('d', AGAINST, 10)]
    expect((await participation(votes, 100n, 80n)).pivotality).toBe(1)
    // quorum 50: removing two for-voters leaves 30 < 50
    expect((await participation(votes, 100n, 50n)).pivotality).toBe(2)
    // quorum 0: only for <= against defeats it: 90 → 60 → 30 → 0
    expect((await participation(votes, 100n, 0n)).pivotality).toBe(3)
  })

  it('defeated by votes: the fewest largest against-voters whose absence passes it', async () => {
    const votes = [vote('a', FOR, 40), vote('b', AGAINST, 30), vote('c', AGAINST, 15), vote('d', AGAINST, 5)]
    const r = await participation(votes, 200n, 10n)
    expect(r).toMatchObject({ quorumReached: true, voteSucceeded: false, succeeded: false, pivotality: 1 })
    const tie = await participation([vote('a', FOR, 10), vote('b', AGAINST, 10)], 20n, 0n)
    expect(tie).toMatchObject({ voteSucceeded: false, pivotality: 1 }) // a tie is a defeat
  })

  it('defeated by quorum, or with no for-votes at all: no pivotal voter', async () => {
    const noQuorum = await participation([vote('a', FOR, 40), vote('b', AGAINST, 10)], 1000n, 100n)
    expect(noQuorum).toMatchObject({ quorumReached: false, voteSucceeded: true, succeeded: false, pivotality: null })
    const noFor = await participation([vote('a', AGAINST, 40), vote('b', ABSTAIN, 100)], 1000n, 100n)
    expect(noFor).toMatchObject({ quorumReached: true, voteSucceeded: false, pivotality: null })
  })

  it('no votes, zero supply', async () => {
    expect(await participation([], 0n, 0n)).toEqual({
      forVotes: '0', againstVotes: '0', abstainVotes: '0', uniqueVoters: 0, turnout: null,
      quorumReached: true, voteSucceeded: false, succeeded: false, pivotality: null,
    })
  })

  it('exact with wei-sized tallies', async () => {
    const e18 = 10n ** 18n
    const votes = [{ voter: 'a', support: FOR, weight: 40_000_000n * e18 }, { voter: 'b', support: AGAINST, weight: 1n }]
    const r = await participation(votes, 1_000_000_000n * e18, 40_000_000n * e18) // exactly at quorum: reached
    expect(r).toMatchObject({ forVotes: (40_000_000n * e18).toString(), quorumReached: true, succeeded: true, pivotality: 1 })
    const short = await participation(votes, 1_000_000_000n * e18, 40_000_000n * e18 + 1n)
    expect(short.quorumReached).toBe(false)
  })
})

describe('repeat voters', () => {
  it('voters in at least two proposals', async () => {
    const rows = [['p1', 'a'], ['p2', 'a'], ['p1', 'b'], ['p1', 'b'], ['p3', 'c'], ['p2', 'c'], ['p3', 'd']]
    await loadTable(db.conn, 'votes_all', [['proposal', 'VARCHAR'], ['voter', 'VARCHAR']], rows)
    expect(await runRepeatVoters(db.conn)).toEqual({ proposals: 3, voters: 4, repeatVoters: 2, repeatVoterShare: 0.5 })
    expect((await runRepeatVoters(db.conn, { minProposals: 3 })).repeatVoters).toBe(0)
    await loadTable(db.conn, 'votes_all', [['proposal', 'VARCHAR'], ['voter', 'VARCHAR']], [])
    expect(await runRepeatVoters(db.conn)).toEqual({ proposals: 0, voters: 0, repeatVoters: 0, repeatVoterShare: null })
  })
})

const weight = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 1n, max: 5n }),
  fc.bigInt({ min: 1n, max: 10n ** 24n }),
  fc.bigInt({ min: 2n ** 100n - 100n, max: 2n ** 100n + 100n }),
)
// Voter names from a small space so that some voters have several rows (summed per voter and support);
// support 3 is not a valid value and must be ignored.
const votes = fc.array(
  fc.record({ voter: fc.stringMatching(/^0x[0-9a-f]{1,2}$/), support: fc.integer({ min: 0, max: 3 }), weight }),
  { maxLength: 30 },
)

describe('participation: SQL equals the reference on random votes', () => {
  it('tallies, outcome, turnout and pivotality', async () => {
    await fc.assert(
      fc.asyncProperty(votes, fc.bigInt({ min: 0n, max: 2n ** 102n }), fc.double({ min: 0, max: 1.2, noNaN: true }),
        async (vs, extraSupply, quorumFraction) => {
          const cast = vs.filter((v) => v.support <= 2).reduce((a, v) => a + v.weight, 0n)
          const supply = cast + extraSupply
          // quorum anywhere from 0 to a bit above the votes cast, sometimes exactly at a tally
          const quorum = (cast * BigInt(Math.round(quorumFraction * 1000))) / 1000n
          const actual = await participation(vs, supply, quorum)
          expect(differences(actual, participationRef(vs, supply, quorum))).toEqual([])
        }),
      { numRuns: 300 },
    )
  })

  it('repeat voters', async () => {
    const pairs = fc.array(fc.record({ proposal: fc.constantFrom('p1', 'p2', 'p3', 'p4'), voter: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f') }), { maxLength: 30 })
    await fc.assert(
      fc.asyncProperty(pairs, fc.integer({ min: 1, max: 4 }), async (ps, min) => {
        await loadTable(db.conn, 'votes_all', [['proposal', 'VARCHAR'], ['voter', 'VARCHAR']], ps.map((p) => [p.proposal, p.voter]))
        expect(differences(await runRepeatVoters(db.conn, { minProposals: min }), repeatVotersRef(ps, min))).toEqual([])
      }),
      { numRuns: 100 },
    )
  })
})
