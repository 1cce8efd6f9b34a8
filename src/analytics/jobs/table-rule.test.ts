import {describe, expect, it} from 'vitest'
import {fairnessTableRule} from './run'

describe('fairnessTableRule: when a recomputed fairness scope gets a new per-contributor table', () => {
  const rule = (block: number, latest: number | undefined, refreshBlocks = 100, keepEvery = 1000) =>
    fairnessTableRule({block, latest, refreshBlocks, keepEvery})

  it('always without a refresh interval, and for a scope without any table', () => {
    expect(rule(20_020, 20_000, 0)).toBe(true)
    expect(rule(20_020, undefined)).toBe(true)
  })
  it('once the latest table is refreshBlocks old, not before', () => {
    expect(rule(20_099, 20_000)).toBe(false)
    expect(rule(20_100, 20_000)).toBe(true)
  })
  it('at the blocks retention keeps (multiples of keepEvery), whatever the age; not at others below the latest', () => {
    expect(rule(21_000, 20_990)).toBe(true)
    // a backfill block below the latest table: only the kept multiples get one
    expect(rule(15_000, 20_000)).toBe(true)
    expect(rule(15_010, 20_000)).toBe(false)
    expect(rule(15_010, 20_000, 100, 0)).toBe(false)
  })
})
