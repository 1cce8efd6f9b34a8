import {describe, expect, it} from 'vitest'
import {MAX_PREPARED, statementName} from './prepared'

describe('statementName', () => {
  it('names a text the same way every time, different texts differently, and stops naming past the cap', () => {
    const a = statementName('SELECT 1')
    expect(a).toMatch(/^deai_[0-9a-f]{24}$/)
    expect(statementName('SELECT 1')).toBe(a)
    expect(statementName('SELECT 2')).not.toBe(a)
    for (let i = 0; i < MAX_PREPARED; i++) statementName(`SELECT ${i} AS filler`)
    expect(statementName('SELECT 3 AS new_after_cap')).toBeUndefined()
    expect(statementName('SELECT 1')).toBe(a)
  })
})
