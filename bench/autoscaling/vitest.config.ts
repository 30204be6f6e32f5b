import { defineConfig } from 'vitest/config';

// The bench's pure figures (analysis, scenarios, the operator's log lines); no cluster. Run from the
// repository root: npx vitest run --config bench/autoscaling/vitest.config.ts --dir bench/autoscaling
export default defineConfig({
  root: import.meta.dirname,
  test: { name: 'bench-autoscaling', include: ['**/*.test.ts'] },
});
