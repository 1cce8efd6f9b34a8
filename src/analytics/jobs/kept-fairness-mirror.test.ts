import type {DuckDBConnection} from '@duckdb/node-api'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {parseContractsConfig} from '../../processor/contracts-config'
import type {AnalyticsDb} from '../duckdb'
import {dropSchema, ensureSchema} from '../store/schema'
import {applyTestSyncStep, TEST_TOKEN as T, testAccount as acct, testMulberry, type TestEvent, openTestMirror} from '../store/test-events'
import {keptFairnessMirrorFollows, keptFairnessRebuilds} from './kept-fairness'
import type {SuiteResults} from './results'
import {computeSuite} from './suite'

const MR = '0x' + '3'.repeat(40)
const CR = '0x' + '4'.repeat(40)
const RD = '0x' + '5'.repeat(40)
const contracts = parseContractsConfig({
  chainId: 31337,
  contracts: [
    {kind: 'token', address: T, startBlock: 0},
    {kind: 'modelRegistry', address: MR, startBlock: 0},
    {kind: 'contributionRegistry', address: CR, startBlock: 0, modelRegistry: MR},
    {kind: 'rewardDistributor', address: RD, startBlock: 0, token: T, modelRegistry: MR},
  ],
})

/**
 * One block of a random history: contributions to models 1–4 (model 4 registered at block 6), validations accepted or
 * not, some of contributions of earlier blocks and some of a contribution that arrives a block later; epochs per
 * model and protocol-wide (model 0); payments, some to an epoch opened later (it counts per model only once the
 * epoch is there); vote changes (the insiders' top holders).
 */
function blockEvents(block: number, rnd: (n: number) => number, ids: {next: number}): TestEvent[] {
  const out: TestEvent[] = []
  const at = (contract: string, kind: string) => (name: string, args: Record<string, unknown>) => out.push({block, contract, kind, name, args})
  const [reg, cr, rd, tok] = [at(MR, 'modelRegistry'), at(CR, 'contributionRegistry'), at(RD, 'rewardDistributor'), at(T, 'token')]
  if (block === 1) for (let m = 1; m <= 3; m++) reg('ModelRegistered', {modelId: String(m), owner: acct(m), name: `m${m}`, metadataURI: ''})
  if (block === 6) reg('ModelRegistered', {modelId: '4', owner: acct(4), name: 'm4', metadataURI: ''})
  for (let k = rnd(4); k > 0; k--) {
    const id = String(ids.next++)
    cr('ContributionSubmitted', {contributionId: id, modelId: String(1 + rnd(block >= 6 ? 4 : 3)), contributor: acct(rnd(9)), kind: 1, units: String(1 + rnd(50)), evidenceHash: '0x00'})
    for (let v = rnd(3); v > 0; v--) cr('ContributionValidated', {contributionId: id, validator: acct(rnd(6)), accepted: rnd(4) > 0, score: 1000 * rnd(10), reportHash: '0x00'})
  }
  if (ids.next > 1 && rnd(2) === 0) {
    cr('ContributionValidated', {contributionId: String(1 + rnd(ids.next - 1)), validator: acct(rnd(6)), accepted: true, score: 5000, reportHash: '0x00'})
  }
  if (rnd(5) === 0) cr('ContributionValidated', {contributionId: String(ids.next), validator: acct(1), accepted: true, score: 9000, reportHash: '0x00'})
  if (block % 3 === 0) rd('EpochOpened', {epochId: String(block), modelId: String(rnd(5))})
  for (let k = rnd(4); k > 0; k--) {
    const epoch = 3 * (1 + rnd(Math.floor(block / 3) + 1)) // sometimes the next epoch, not opened yet
    const amount = rnd(6) === 0 ? 2n ** 70n + BigInt(rnd(1000)) : BigInt(1 + rnd(100)) * 10n ** 18n
    rd('RewardPaid', {epochId: String(epoch), recipient: acct(rnd(12)), amount: String(amount)})
  }
  tok('DelegateVotesChanged', {delegate: acct(rnd(12)), previousVotes: '0', newVotes: String(BigInt(1 + rnd(1000)) * 10n ** 18n)})
  return out
}

/** What the two suites must agree on: every record, table and curve (insiders, validations, everything). */
const comparable = (r: SuiteResults) => ({metrics: r.metrics, fairness: r.fairness, lorenz: r.lorenz})

describe('the kept fairness amounts following the mirror through the sync log', () => {
  let db: AnalyticsDb
  let conn: DuckDBConnection
  beforeEach(async () => {
    ;({db, conn} = await openTestMirror())
  })
  afterEach(() => db.close())

  /** A sync step to `height` after a rollback to `cut`, and the sync state a refresh at the head reads. */
  async function sync(cut: number, height: number, events: readonly TestEvent[]): Promise<void> {
    await applyTestSyncStep(conn, cut, events)
    await conn.run('DELETE FROM sync_state')
    await conn.run(`INSERT INTO sync_state VALUES (1, NULL, $h, $h, $h, now())`, {h: height})
  }

  /** The follower's suite (keepState) and a one-off suite at the head, on the same connection: equal. */
  async function expectFollowerEqualsOneOff(height: number): Promise<void> {
    // First without fairness tables (a typical refresh): the per-model rewards are then never filled from the copy,
    // and the insider overlap per model reads the copy (batch.ts, fromKeptCopy).
    // Likewise the protocol's contributions and rewards (its insider overlap reads the copy: insidersFromKeptCopy).
    for (const relation of ['group_reward', 'contrib', 'reward']) await conn.run(`DROP TABLE IF EXISTS ${relation}`)
    const withoutTables = await computeSuite(conn, contracts, height, 0, {keepState: true, fairnessTableDue: () => false})
    for (const relation of ['group_reward', 'contrib', 'reward']) expect(await tableExists(relation), `${relation} left unfilled`).toBe(false)
    const follower = await computeSuite(conn, contracts, height, 0, {keepState: true})
    const oneOff = await computeSuite(conn, contracts, height, 0)
    expect(follower.fairness.length).toBeGreaterThan(0)
    expect(comparable(follower)).toEqual(comparable(oneOff))
    expect(withoutTables.metrics).toEqual(oneOff.metrics)
    insidersWithRewards += withoutTables.metrics.filter((r) => r.metric === 'fairness.insider_reward_share' && r.value !== null && r.value > 0).length
  }
  /** Insider overlap values above 0 seen by expectFollowerEqualsOneOff: the comparison of insiders is not vacuous. */
  let insidersWithRewards = 0
  const tableExists = async (name: string) =>
    Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = $name`, {name})).getRowObjectsJson()[0]?.n) > 0

  it('equals the one-off suite after every sync step, rollbacks included, recomputing only the logged entities', async () => {
    const rnd = testMulberry(11)
    const ids = {next: 1}
    const rebuildsBefore = keptFairnessRebuilds()
    const followsBefore = keptFairnessMirrorFollows()
    let height = 0
    for (let step = 0; step < 14; step++) {
      // Back up to 3 blocks (a reorg: those blocks come again, different), then up to 4 new ones.
      const cut = Math.max(0, height - rnd(4))
      const to = cut + 1 + rnd(4)
      const events = Array.from({length: to - cut}, (_, i) => blockEvents(cut + 1 + i, rnd, ids)).flat()
      await sync(cut, to, events)
      height = to
      await expectFollowerEqualsOneOff(height)
    }
    const follows = keptFairnessMirrorFollows()
    // Built from the whole mirror once, then from the log at every later step; never a check that failed.
    expect(follows.whole - followsBefore.whole).toBe(1)
    expect(follows.touched - followsBefore.touched).toBe(13)
    expect(keptFairnessRebuilds()).toBe(rebuildsBefore)
    expect(insidersWithRewards).toBeGreaterThan(10)
  })

  it('builds again after a rebuild of the mirror, and from the mirror when a writer changed amounts without the log', async () => {
    const rnd = testMulberry(5)
    const ids = {next: 1}
    const events = Array.from({length: 10}, (_, i) => blockEvents(1 + i, rnd, ids)).flat()
    await sync(-1, 10, events)
    await expectFollowerEqualsOneOff(10)

    // A rebuild on the same connection drops the log with the tables (schema.ts): the kept amounts build again.
    const before = keptFairnessMirrorFollows()
    await dropSchema(conn)
    await ensureSchema(conn)
    await sync(-1, 10, events)
    await expectFollowerEqualsOneOff(10)
    expect(keptFairnessMirrorFollows().whole - before.whole).toBe(1)

    // An amount changed behind the log's back: the totals check sees it and the copy is rebuilt from the mirror.
    const rebuildsBefore = keptFairnessRebuilds()
    await sync(10, 11, blockEvents(11, rnd, ids))
    await conn.run(`UPDATE validated_contribution SET value = value + 7 WHERE accepted AND contributor = (SELECT min(contributor) FROM validated_contribution WHERE accepted)`)
    await expectFollowerEqualsOneOff(11)
    expect(keptFairnessRebuilds()).toBe(rebuildsBefore + 1)
  })
})
