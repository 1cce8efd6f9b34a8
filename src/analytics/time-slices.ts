/**
 * Long computations in the process, written as generators that yield at points where pausing is safe, and run either
 * at once or in time slices.
 *
 * Why slices: a refresh runs two chains of DuckDB statements on two connections (suite.ts), and every statement with
 * parameters needs the JavaScript thread several times (extract, prepare, bind, execute). A computation that holds
 * the thread for 20–35 ms (the kept balances' merge of a million values, the fairness figures over ~180,000 entities)
 * stalls the other chain's statements for as long. Run in slices of a few milliseconds, it lets them through.
 *
 * Nothing else may change the computation's inputs while it is paused: the kept state belongs to one connection's
 * chain, which awaits the computation.
 */

/** A computation that yields (no value) at safe points and returns T. */
export type Steps<T> = Generator<void, T, void>

/** Runs the steps to the end without pausing (tests, one-off suites). */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next()
    if (r.done) return r.value
  }
}

/** How long a slice runs before the event loop gets a turn. */
const SLICE_MS = 3

/** Runs the steps, letting the event loop in (setImmediate) whenever a slice has run SLICE_MS or more. */
export async function runInSlices<T>(steps: Steps<T>): Promise<T> {
  let sliceStart = performance.now()
  for (;;) {
    const r = steps.next()
    if (r.done) return r.value
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      sliceStart = performance.now()
    }
  }
}
