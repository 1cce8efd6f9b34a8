import type {Reporter, TestCase, TestModule} from 'vitest/node'
import {FAULT_CASES, INVARIANT} from './cases'

/**
 * Prints one row per fault case at the end of `npm run test:faults`: how many trials (tests) ran, how many passed,
 * and what they checked. Counts come from vitest's own results, so a failed trial shows as failed; a case whose file
 * failed before any test ran shows 0 trials.
 */
export default class FaultSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows = new Map<string, {trials: number; passed: number; failed: number}>()
    for (const name of Object.keys(FAULT_CASES)) rows.set(name, {trials: 0, passed: 0, failed: 0})
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const name = caseName(test)
        const row = rows.get(name) ?? {trials: 0, passed: 0, failed: 0}
        rows.set(name, row)
        const state = test.result().state
        if (state === 'skipped') continue
        row.trials++
        if (state === 'passed') row.passed++
        else row.failed++
      }
    }
    const table = [...rows].map(([name, r]) => ({
      case: name,
      trials: String(r.trials),
      passed: String(r.passed),
      result: r.trials > 0 && r.failed === 0 ? 'PASS' : 'FAIL',
      checked: FAULT_CASES[name as keyof typeof FAULT_CASES] ?? '(not in FAULT_CASES)',
    }))
    process.stdout.write('\n' + formatTable(table) + `\ninvariant after every trial: ${INVARIANT}\n\n`)
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
