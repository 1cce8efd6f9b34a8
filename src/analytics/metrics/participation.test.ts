import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadTable, onPath, openTestDb, withPathColumn, type TestDb } from './test-fixtures'
import { PARTICIPATION_SQL, runParticipation, runRepeatVoters } from './participation'
import { queryRows } from './sql-values'
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

/** Which path PARTICIPATION_SQL took over the loaded `votes` (and that exactly one path returned a row). */
async function pathTaken(supply: bigint, quorum: bigint): Promise<string> {
  const rows = await queryRows(db.conn, withPathColumn(PARTICIPATION_SQL), { supply: supply.toString(), quorum: quorum.toString() })
  expect(rows).toHaveLength(1)
  return String(rows[0]!.path)
}

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

describe('participation: the HUGEINT fast path and the exact BIGNUM path', () => {
  const e18 = 10n ** 18n
  it('takes the fast path for real amounts, the wide one when a sum or the quorum could leave HUGEINT', async () => {
    const real = [{ voter: 'a', support: FOR, weight: 2n ** 100n }, { voter: 'b', support: AGAINST, weight: 2n ** 99n }]
    await participation(real, 10n ** 9n * e18, 2n ** 100n)
    expect(await pathTaken(10n ** 9n * e18, 2n ** 100n)).toBe('fast')
    // 2·Σ|weight| + quorum = 2^124 + 2^122 ≈ 2.7e37: still fast, with every sum exact
    const near = [{ voter: 'a', support: FOR, weight: 2n ** 122n }, { voter: 'b', support: AGAINST, weight: 2n ** 122n - 1n }]
    expect(differences(await participation(near, 2n ** 126n, 2n ** 122n), participationRef(near, 2n ** 126n, 2n ** 122n))).toEqual([])
    expect(await pathTaken(2n ** 126n, 2n ** 122n)).toBe('fast')
    // 2·2^124 = 2^125 > 4.2e37: wide
    const big = [{ voter: 'a', support: FOR, weight: 2n ** 124n }]
    await participation(big, 2n ** 126n, 0n)
    expect(await pathTaken(2n ** 126n, 0n)).toBe('wide')
    // small votes, but a quorum near or beyond the HUGEINT range: wide (and still exact)
    await participation(real, 2n ** 130n, 2n ** 126n)
    expect(await pathTaken(2n ** 130n, 2n ** 126n)).toBe('wide')
    for (const quorum of [2n ** 126n, 2n ** 130n, 2n ** 100n + 2n ** 99n, 2n ** 100n + 2n ** 99n + 1n]) {
      expect(differences(await participation(real, 2n ** 130n, quorum), participationRef(real, 2n ** 130n, quorum))).toEqual([])
    }
    // ignored rows (support 3) do not count toward the bound
    await participation([...real, { voter: 'c', support: 3, weight: 2n ** 126n }], 2n ** 101n, 0n)
    expect(await pathTaken(2n ** 101n, 0n)).toBe('fast')
    await participation([], 0n, 0n)
    expect(await pathTaken(0n, 0n)).toBe('fast')
  })

  it('tallies beyond the HUGEINT range stay exact (a HUGEINT sum would overflow)', async () => {
    const h = 2n ** 126n
    const votes = [
      { voter: 'a', support: FOR, weight: h + 3n }, { voter: 'b', support: FOR, weight: h + 1n }, { voter: 'c', support: FOR, weight: h },
      { voter: 'd', support: AGAINST, weight: h + 2n }, { voter: 'e', support: AGAINST, weight: h + 2n }, { voter: 'f', support: ABSTAIN, weight: h },
    ]
    const r = await participation(votes, 2n ** 130n, 2n ** 120n)
    expect(await pathTaken(2n ** 130n, 2n ** 120n)).toBe('wide')
    // for 3·2^126 + 4 > against 2^127 + 4; without a (2^126 + 3) it is 2^127 + 1 <= 2^127 + 4: pivotality 1
    expect(r).toMatchObject({ forVotes: (3n * h + 4n).toString(), againstVotes: (2n * h + 4n).toString(), succeeded: true, pivotality: 1 })
    expect(differences(r, participationRef(votes, 2n ** 130n, 2n ** 120n))).toEqual([])
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

/**
 * The SQL against the reference for votes `vs`, a supply of the votes cast plus `extraSupply`, and a quorum anywhere
 * from 0 to a bit above the votes cast (`quorumFraction` of them, sometimes exactly at a tally). Returns the two.
 */
async function expectReference(vs: readonly VoteRecord[], extraSupply: bigint, quorumFraction: number): Promise<{supply: bigint; quorum: bigint}> {
  const cast = vs.filter((v) => v.support <= 2).reduce((a, v) => a + v.weight, 0n)
  const supply = cast + extraSupply
  const quorum = (cast * BigInt(Math.round(quorumFraction * 1000))) / 1000n
  const actual = await participation(vs, supply, quorum)
  expect(differences(actual, participationRef(vs, supply, quorum))).toEqual([])
  return {supply, quorum}
}

describe('participation: SQL equals the reference on random votes', () => {
  it('tallies, outcome, turnout and pivotality', async () => {
    await fc.assert(
      fc.asyncProperty(votes, fc.bigInt({ min: 0n, max: 2n ** 102n }), fc.double({ min: 0, max: 1.2, noNaN: true }),
        async (vs, extraSupply, quorumFraction) => {
          await expectReference(vs, extraSupply, quorumFraction)
        }),
      { numRuns: 300 },
    )
  })

  it('on the wide path: weights, supply and quorum near or beyond the HUGEINT range', async () => {
    const huge = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 5n }), fc.bigInt({ min: 2n ** 124n, max: 2n ** 127n - 1n }),
      fc.constantFrom(2n ** 126n, 2n ** 126n + 1n, 2n ** 127n - 1n))
    const bigVotes = fc.array(fc.record({ voter: fc.stringMatching(/^0x[0-9a-f]{1,2}$/), support: fc.integer({ min: 0, max: 3 }), weight: huge }), { maxLength: 20 })
    let wide = 0
    await fc.assert(
      fc.asyncProperty(bigVotes, fc.bigInt({ min: 0n, max: 2n ** 130n }), fc.double({ min: 0, max: 1.2, noNaN: true }),
        async (vs, extraSupply, quorumFraction) => {
          const {supply, quorum} = await expectReference(vs, extraSupply, quorumFraction)
          if ((await pathTaken(supply, quorum)) === 'wide') wide++
        }),
      { numRuns: 150 },
    )
    expect(wide).toBeGreaterThan(75)
  })

  it('both paths return identical rows where both apply (turnout to the last bit)', async () => {
    // weights up to ~2^100, some a 53-bit mantissa followed by exactly half an ulp (a DOUBLE rounding tie) or a hair more
    const tieish = fc.tuple(fc.bigInt({ min: 2n ** 52n, max: 2n ** 53n - 1n }), fc.integer({ min: 12, max: 47 }), fc.bigInt({ min: 0n, max: 1n }))
      .map(([m, shift, low]) => (m << BigInt(shift)) | (1n << BigInt(shift - 1)) | low)
    const w = fc.oneof(weight, tieish)
    const vs = fc.array(fc.record({ voter: fc.stringMatching(/^0x[0-9a-f]{1,2}$/), support: fc.integer({ min: 0, max: 3 }), weight: w }), { maxLength: 30 })
    const supply = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 102n }), tieish)
    await fc.assert(
      fc.asyncProperty(vs, supply, fc.bigInt({ min: 0n, max: 2n ** 101n }), async (votes, s, q) => {
        await loadTable(db.conn, 'votes', [['voter', 'VARCHAR'], ['support', 'INTEGER'], ['weight', 'HUGEINT']],
          votes.map((v) => [v.voter, v.support, v.weight]))
        const params = { supply: s.toString(), quorum: q.toString() }
        const fast = await queryRows(db.conn, withPathColumn(onPath(PARTICIPATION_SQL, 'fast')), params)
        const wide = await queryRows(db.conn, withPathColumn(onPath(PARTICIPATION_SQL, 'wide')), params)
        expect([fast[0]?.path, wide[0]?.path]).toEqual(['fast', 'wide'])
        expect({ ...fast[0], path: 'either' }).toStrictEqual({ ...wide[0], path: 'either' })
        const { path: _path, ...row } = fast[0]!
        expect(await queryRows(db.conn, PARTICIPATION_SQL, params)).toStrictEqual([row])
      }),
      { numRuns: 150 },
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
