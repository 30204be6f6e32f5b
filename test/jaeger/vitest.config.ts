import { defineConfig } from 'vitest/config';

// Jaeger fixture tests: unit tests of the pure parts and one real Jaeger process on loopback.
export default defineConfig({
  // This folder, also when run alone with --config.
  root: import.meta.dirname,
  test: {
    name: 'jaeger',
    include: ['**/*.test.ts'],
    // A cold start builds the binary (several minutes on 2 cores); later starts take about a second.
    testTimeout: 60_000,
    hookTimeout: 900_000,
  },
});
