import {spawnSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {JEMALLOC_CONF_VARIABLE, KEPT_FREED_MEMORY_CONF, keepFreedMemory} from './allocator-env'

const SRC = path.resolve(__dirname, '..')
const ROOT = path.dirname(SRC)
const LIB = path.join(ROOT, 'lib')

/** A child node process's stdout and stderr, with `env` changing this process's environment (undefined: unset). */
function runNode(script: string, env: Record<string, string | undefined>): {stdout: string; stderr: string} {
  const childEnv = {...process.env, ...env}
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k]
  const run = spawnSync(process.execPath, ['-e', script], {cwd: ROOT, env: childEnv, encoding: 'utf8'})
  if (run.status !== 0) throw new Error(`child node exited with ${run.status}: ${run.stderr}`)
  return {stdout: run.stdout, stderr: run.stderr}
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(p)
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : []
  })
}

describe('the allocator setting (allocator-env.ts)', () => {
  it('is set when the environment has none, and an operator\'s value, even empty, is kept', () => {
    expect(keepFreedMemory({})).toBe(KEPT_FREED_MEMORY_CONF)
    const env: NodeJS.ProcessEnv = {[JEMALLOC_CONF_VARIABLE]: 'dirty_decay_ms:1000'}
    expect(keepFreedMemory(env)).toBe('dirty_decay_ms:1000')
    expect(keepFreedMemory({[JEMALLOC_CONF_VARIABLE]: ''})).toBe('')
  })

  // DuckDB bundles jemalloc in its Linux builds only; elsewhere the variable is ignored and there is nothing to check.
  it.skipIf(process.platform !== 'linux')('is valid for the DuckDB library installed: its allocator reports the values as its options', () => {
    // jemalloc prints its options at exit with stats_print, and names a pair it does not know on stderr.
    const {stderr: out} = runNode(
      `const {DuckDBInstance} = require('@duckdb/node-api');
       DuckDBInstance.create(':memory:').then((i) => i.connect()).then((c) => c.run('SELECT 1'))`,
      {[JEMALLOC_CONF_VARIABLE]: `${KEPT_FREED_MEMORY_CONF},stats_print:true`},
    )
    expect(out).not.toMatch(/Invalid conf/)
    for (const pair of KEPT_FREED_MEMORY_CONF.split(',')) {
      const [name, value] = pair.split(':')
      expect(out).toMatch(new RegExp(`opt\\.${name}: ${value}\\b`))
    }
  })

  it('is in the environment when the project first loads the DuckDB library (it is read only then)', () => {
    // Records the variable at the first load of @duckdb/node-api, through either module that loads it for a value.
    for (const entry of ['analytics/duckdb.js', 'analytics/jobs/reproduce.js']) {
      const {stdout: seen} = runNode(
        `const Module = require('module'); const load = Module._load; let seen = 'not loaded';
         Module._load = function (request, ...rest) {
           if (request === '@duckdb/node-api' && seen === 'not loaded') seen = process.env.${JEMALLOC_CONF_VARIABLE} ?? 'unset';
           return load.call(this, request, ...rest);
         };
         require(${JSON.stringify(path.join(LIB, entry))}); process.stdout.write(seen)`,
        {[JEMALLOC_CONF_VARIABLE]: undefined},
      )
      expect({entry, seen}).toEqual({entry, seen: KEPT_FREED_MEMORY_CONF})
    }
  })

  it('comes first: outside duckdb.ts, the project imports only types from @duckdb/node-api', () => {
    const valueImports = sourceFiles(SRC)
      .filter((f) => path.relative(SRC, f) !== path.join('analytics', 'duckdb.ts'))
      .flatMap((f) =>
        [...readFileSync(f, 'utf8').matchAll(/^import\s+(type\s+)?(\{[^}]*\}|\S+)\s+from\s+'@duckdb\/node-api'/gm)]
          // Erased by the compiler: `import type ...`, or braces naming types only.
          .filter((m) => !m[1] && !(m[2]!.startsWith('{') && m[2]!.slice(1, -1).split(',').every((s) => /^\s*(type\s+\w+)?\s*$/.test(s))))
          .map(() => path.relative(SRC, f)),
      )
    expect(valueImports).toEqual([])
  })
})
