// .mts: the project is CommonJS, and Vite warns on every run about ESM syntax in a .ts config loaded as CommonJS.
import { configDefaults, defineConfig } from 'vitest/config'

// Two projects so plain unit tests neither wait for a Postgres nor inherit integration-test timeouts:
//   unit  src/**/*.test.ts except *.int.test.ts   default timeouts, no database
//   int   src/**/*.int.test.ts                    Postgres from src/test-support/global-setup.ts
//                                                 (inject('pgAdminUrl'); TEST_PG=embedded forces embedded)
export default defineConfig({
  test: {
    // Child processes rather than threads: integration tests spawn servers and need process-level isolation.
    pool: 'forks',
    // One file at a time: the integration files share one Postgres (and later anvil) on a 2-core machine,
    // and contention makes timings and timeouts flaky.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          // The fault suite has its own config and command (vitest.faults.config.mts, npm run test:faults).
          exclude: [...configDefaults.exclude, 'src/**/*.int.test.ts', 'src/faults/**'],
          // The metric property tests run hundreds of DuckDB queries each (~4 s alone); on a shared 2-core machine
          // the default 5 s failed them for load, not for a wrong answer. A hang still fails, after a minute.
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['src/**/*.int.test.ts'],
          globalSetup: ['src/test-support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
