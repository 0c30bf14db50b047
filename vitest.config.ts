import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Workflow tests start Temporal test servers and databases: generous limits, never real-time SLAs.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Child processes (not threads): native modules (Temporal core bridge, argon2) and clean teardown.
    pool: 'forks',
    // Vitest 4: top-level `maxWorkers` (poolOptions.forks.maxForks is gone). Machines here have 2 cores.
    maxWorkers: 2,
  },
});
