import type {Reporter, TestCase, TestModule} from 'vitest/node'
import {FAULT_CASES, INVARIANT} from './cases'

/**
 * Prints one row per fault case at the end of `npm run test:faults`: how many trials (tests) ran, how many passed,
 * and what they checked. Counts come from vitest's own results, so a failed trial shows as failed; a case whose setup
 * failed (its tests skipped) shows 0 trials and FAIL; a case whose file was not part of the run shows NOT RUN.
 */
export default class FaultSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows = new Map<string, {seen: number; trials: number; passed: number; failed: number; ms: number}>()
    for (const name of Object.keys(FAULT_CASES)) rows.set(name, {seen: 0, trials: 0, passed: 0, failed: 0, ms: 0})
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const name = caseName(test)
        const row = rows.get(name) ?? {seen: 0, trials: 0, passed: 0, failed: 0, ms: 0}
        rows.set(name, row)
        row.seen++
        const state = test.result().state
        // A trial skipped because its case's setup failed is not a pass: it shows as 0 trials and FAIL.
        if (state === 'skipped') continue
        row.trials++
        row.ms += test.diagnostic()?.duration ?? 0
        if (state === 'passed') row.passed++
        else row.failed++
      }
    }
    const table = [...rows].map(([name, r]) => ({
      case: name,
      trials: String(r.trials),
      passed: String(r.passed),
      result: r.seen === 0 ? 'NOT RUN' : r.trials > 0 && r.failed === 0 ? 'PASS' : 'FAIL',
      // Time in the trials themselves; each file's setup (devnet, scenario, first indexing) comes on top.
      'trial s': (r.ms / 1000).toFixed(1),
      checked: FAULT_CASES[name as keyof typeof FAULT_CASES] ?? '(not in FAULT_CASES)',
    }))
    process.stdout.write('\n' + formatTable(table) + `\ninvariant after every trial of the chain cases (reorgs to hostile chain data): ${INVARIANT}\n\n`)
  }
}

/** The top-level describe's name: each fault file has one, named after its case. */
function caseName(test: TestCase): string {
  let suite = test.parent
  let name = test.name
  while (suite.type === 'suite') {
    name = suite.name
    suite = suite.parent
  }
  return name
}

function formatTable(rows: Record<string, string>[]): string {
  const columns = Object.keys(rows[0] ?? {})
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length))
  const line = (cells: string[]) => '| ' + cells.map((v, i) => v.padEnd(width(columns[i]!))).join(' | ') + ' |'
  return [line(columns), line(columns.map((c) => '-'.repeat(width(c)))), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))].join('\n')
}
