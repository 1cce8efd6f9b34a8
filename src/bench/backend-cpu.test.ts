import {describe, expect, it} from 'vitest'
import {backendCpuBetween} from './backend-cpu'

describe('backendCpuBetween', () => {
  it('sums what each backend used between the readings', () => {
    expect(backendCpuBetween(new Map([[10, 1.5], [11, 0.25]]), new Map([[10, 2], [11, 0.75]]))).toBeCloseTo(1, 12)
  })

  it('counts a backend that started in between from 0 and leaves out one that ended', () => {
    expect(backendCpuBetween(new Map([[10, 1], [12, 9]]), new Map([[10, 1.5], [11, 0.25]]))).toBeCloseTo(0.75, 12)
  })

  it('gives no figure when a backend is not visible, before or after', () => {
    expect(backendCpuBetween(new Map([[10, undefined]]), new Map([[10, 1]]))).toBeUndefined()
    expect(backendCpuBetween(new Map([[10, 1]]), new Map([[10, undefined]]))).toBeUndefined()
  })

  it('is 0 over no backend', () => {
    expect(backendCpuBetween(new Map(), new Map())).toBe(0)
  })
})
