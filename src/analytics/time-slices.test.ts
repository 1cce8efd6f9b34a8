import {describe, expect, it} from 'vitest'
import {runInSlices, runToEnd, type Steps} from './time-slices'

/** Busy work of `ms` milliseconds per step, `count` steps; returns how many steps ran. */
function* busySteps(count: number, ms: number): Steps<number> {
  for (let i = 0; i < count; i++) {
    const until = performance.now() + ms
    while (performance.now() < until);
    yield
  }
  return count
}

describe('time slices', () => {
  it('runToEnd runs every step at once and returns the value', () => {
    let other = false
    setImmediate(() => (other = true))
    expect(runToEnd(busySteps(5, 1))).toBe(5)
    expect(other).toBe(false)
  })

  it('runInSlices lets other callbacks run between slices of a long computation, and returns the same value', async () => {
    let ranAt: number | undefined
    let steps = 0
    const counting = function* (): Steps<number> {
      const inner = busySteps(20, 1)
      for (;;) {
        const r = inner.next()
        if (r.done) return r.value
        steps++
        yield
      }
    }
    setImmediate(() => (ranAt = steps))
    expect(await runInSlices(counting())).toBe(20)
    // The callback ran while the computation was paused, not after it ended.
    expect(ranAt).toBeDefined()
    expect(ranAt!).toBeLessThan(20)
  })
})
