import { defineConfig } from 'vitest/config';

// End-to-end suite: a real control plane (test/e2e/cluster.sh), one file, run in order.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
    sequence: { concurrent: false },
    globalSetup: ['test/support/worktree-guard.ts'],
  },
});
