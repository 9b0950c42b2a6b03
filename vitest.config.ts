import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**', 'dist/**'],
    testTimeout: 20000,
    hookTimeout: 30000,
    globalSetup: ['test/support/worktree-guard.ts'],
  },
});
