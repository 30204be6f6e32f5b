import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'monitoring-integration',
    include: ['test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
