import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'cluster',
    include: ['cluster/**/*.test.ts', 'image/**/*.test.ts'],
    globalSetup: ['./cluster/global-setup.ts'],
    // Real processes on a shared 2-core machine: generous limits, never timing assertions.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
