import { defineConfig } from 'vitest/config';

// Unit tests beside the sources, including the one drift test of the generated files; no cluster.
export default defineConfig({
  test: {
    name: 'api',
    include: ['src/**/*.test.ts'],
  },
});
