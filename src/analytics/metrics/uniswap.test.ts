/**
 * Real data: every vote of Uniswap's GovernorBravo for proposals 0.1–2.23 (see shared/data/README.md), read from
 * `shared/data/` beside the project root (a CI checkout keeps a copy of `shared/` next to the clone). Skipped,
 * with a message, only when that file is absent.
 *
 * Per proposal, `dist` = voter → votes cast in wei (VOTES is a decimal string of UNI, converted exactly), and
 * CONCENTRATION_SQL must agree with an independent exact computation written out below (Gini, HHI and the top
 * shares as exact rationals, Nakamoto by exact comparison) and with the reference for entropy and Theil.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runConcentration } from './concentration'
import { loadDist, loadTable, openTestDb, type TestDb } from './test-fixtures'
import { runParticipation, runRepeatVoters } from './participation'
import { concentrationRef } from './reference'
import { participationRef, repeatVotersRef, type VoteRecord } from './reference-fairness'
import { parseDecimalScaled } from './sql-values'
import { close, differences } from './test-compare'

const FILE = 'uniswap-governor-bravo-votes-2022-08-06.csv'
const projectRoot = path.resolve(__dirname, '../../..')
const dataFile = path.resolve(projectRoot, '../shared/data', FILE)
const present = existsSync(dataFile)
if (!present) console.warn(`uniswap.test.ts skipped: ../shared/data/${FILE} is not beside the project root`)

interface Vote { proposal: string; voter: string; support: number; wei: bigint }

const SUPPORT: Record<string, number> = { Against: 0, For: 1, Abstain: 2, '0': 0, '1': 1, '2': 2 }

function readVotes(): Vote[] {
  const [header, ...lines] = readFileSync(dataFile, 'utf8').split(/\r?\n/).filter((l) => l !== '')
  const columns = (header ?? '').split(',')
  const at = (name: string): number => {
    const i = columns.indexOf(name)
    if (i < 0) throw new Error(`column ${name} missing`)
    return i
  }
  const [iProposal, iSupport, iVoter, iVotes] = [at('PROPOSAL'), at('SUPPORT'), at('VOTER_ADDRESS'), at('VOTES')]
  return lines.map((line) => {
    const cells = line.split(',')
    if (cells.length !== columns.length) throw new Error(`unexpected row: ${line}`)
    const support = SUPPORT[cells[iSupport] ?? '']
    if (support === undefined) throw new Error(`unknown SUPPORT in ${line}`)
    return { proposal: cells[iProposal] ?? '', voter: cells[iVoter] ?? '', support, wei: parseDecimalScaled(cells[iVotes] ?? '', 18) }
  })
}

/** num / den to a double through a 10^40 fixed-point quotient (independent of the reference's conversion). */
function exact(num: bigint, den: bigint): number {
  return Number((num * 10n ** 40n) / den) / 1e40
}

/** Concentration figures straight from the definitions, in exact integer arithmetic. */
function exactFigures(weights: bigint[]) {
  const asc = weights.filter((w) => w > 0n).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const n = BigInt(asc.length)
  const W = asc.reduce((a, w) => a + w, 0n)
  // Gini = Σ_i (2i − n − 1) w_(i) / (n W), i = 1…n ascending
  const giniNumerator = asc.reduce((acc, w, i) => acc + (2n * BigInt(i + 1) - n - 1n) * w, 0n)
  const desc = [...asc].reverse()
  const top = (k: number): bigint => desc.slice(0, k).reduce((a, w) => a + w, 0n)
  const smallestK = (exceeds: (cum: bigint) => boolean): number => {
    let cum = 0n
    for (let k = 1; k <= desc.length; k++) if (exceeds((cum += desc[k - 1] ?? 0n))) return k
    throw new Error('no k')
  }
  return {
    count: asc.length,
    total: W.toString(),
    gini: exact(giniNumerator, n * W),
    hhi: exact(asc.reduce((a, w) => a + w * w, 0n), W * W),
    nakamoto50: smallestK((cum) => 2n * cum > W),
    nakamotoQuorum: smallestK((cum) => 10n * cum > 3n * W), // quorum share 0.3
    top1Share: exact(top(1), W),
    top10Share: exact(top(10), W),
    top1PctShare: exact(top(Math.ceil(asc.length / 100)), W),
  }
}

describe.skipIf(!present)('Uniswap GovernorBravo votes (real data)', () => {
  let db: TestDb
  let votes: Vote[] = []
  let proposals: string[] = []
  beforeAll(async () => {
    db = await openTestDb()
    votes = readVotes()
    proposals = [...new Set(votes.map((v) => v.proposal))]
  })
  afterAll(() => db.close())

  it('holds 10,835 votes over 21 proposals, one vote per voter and proposal', () => {
    expect(votes.length).toBe(10_835)
    expect(proposals.length).toBe(21)
    expect(new Set(votes.map((v) => `${v.proposal} ${v.voter}`)).size).toBe(votes.length)
  })

  it('concentration of the votes cast, per proposal: SQL equals exact arithmetic', async () => {
    for (const proposal of proposals) {
      const cast = votes.filter((v) => v.proposal === proposal)
      await loadDist(db.conn, cast.map((v) => ({ entity: v.voter, w: v.wei })))
      const sql = await runConcentration(db.conn, { quorumShare: 0.3 })
      const want = exactFigures(cast.map((v) => v.wei))
      expect(sql, proposal).toMatchObject({
        count: want.count, total: want.total, nakamoto50: want.nakamoto50, nakamotoQuorum: want.nakamotoQuorum,
      })
      for (const key of ['gini', 'hhi', 'top1Share', 'top10Share', 'top1PctShare'] as const) {
        const got = sql[key] ?? NaN
        expect(Math.abs(got - want[key]) <= 1e-12 * want[key], `${proposal} ${key}: ${got} vs ${want[key]}`).toBe(true)
      }
      const ref = concentrationRef(cast.map((v) => v.wei), 0.3)
      for (const key of ['entropy', 'entropyNormalized', 'theil', 'hhiNormalized'] as const) {
        expect(close(sql[key] ?? NaN, ref[key] ?? NaN), `${proposal} ${key}: ${sql[key]} vs ${ref[key]}`).toBe(true)
      }
    }
  })

  it('participation per proposal and repeat voters: SQL equals the reference', async () => {
    // Illustrative snapshot figures (1B UNI supply, 40M UNI quorum): they test the arithmetic, not history.
    const supply = 1_000_000_000n * 10n ** 18n
    const quorum = 40_000_000n * 10n ** 18n
    for (const proposal of proposals) {
      const cast: VoteRecord[] = votes.filter((v) => v.proposal === proposal).map((v) => ({ voter: v.voter, support: v.support, weight: v.wei }))
      await loadTable(db.conn, 'votes', [['voter', 'VARCHAR'], ['support', 'INTEGER'], ['weight', 'HUGEINT']], cast.map((v) => [v.voter, v.support, v.weight]))
      const sql = await runParticipation(db.conn, { supply, quorum })
      expect(sql.uniqueVoters).toBe(cast.length)
      expect(differences(sql, participationRef(cast, supply, quorum)), proposal).toEqual([])
    }
    await loadTable(db.conn, 'votes_all', [['proposal', 'VARCHAR'], ['voter', 'VARCHAR']], votes.map((v) => [v.proposal, v.voter]))
    expect(await runRepeatVoters(db.conn)).toEqual(repeatVotersRef(votes))
  })
})
