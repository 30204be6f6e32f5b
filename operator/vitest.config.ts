import { defineConfig } from 'vitest/config';

// Unit tests beside the sources; no cluster.
export default defineConfig({
  test: {
    name: 'operator',
    include: ['src/**/*.test.ts'],
  },
});
