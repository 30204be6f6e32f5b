import { defineConfig } from 'vitest/config';

// The bench's pure parts (the ramp's climb, the verdicts); the benchmarks themselves are `npm run bench`.
export default defineConfig({
  root: import.meta.dirname,
  test: { name: 'bench', include: ['src/**/*.test.ts'] },
});
