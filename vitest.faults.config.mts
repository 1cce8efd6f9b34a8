// The fault suite (`npm run test:faults`): real anvil, real Postgres, the compiled processor, faults injected on
// purpose. Kept out of `npm test` because it is slow by design; see src/faults/README.md.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'src/faults/**/*.faults.test.ts',
      // The API's fault cases: database outage under load, hostile GraphQL, admin token, protections (also in npm test).
      'src/api/outage.int.test.ts',
      'src/api/hostile.int.test.ts',
      'src/api/admin.int.test.ts',
      'src/api/protection.int.test.ts',
    ],
    globalSetup: ['src/test-support/global-setup.ts'],
    // Child processes, one file at a time: each case starts anvil, processors and sometimes its own Postgres,
    // and two cases racing for 2 cores would turn timing faults into flaky ones.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ['default', './src/faults/summary-reporter.ts'],
  },
})
