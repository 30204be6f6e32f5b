import { defineConfig } from 'vitest/config';

// Each workspace owns its vitest.config.ts (unit tests) and, when it needs a control plane or
// other services, a vitest.integration.config.ts with its global set-up.
export default defineConfig({
  test: {
    projects: [
      '*/vitest.config.ts',
      '*/vitest.integration.config.ts',
      // Nested projects: the Jaeger fixture, and the end-to-end autoscaling bench's pure figures.
      'test/jaeger/vitest.config.ts',
      'bench/autoscaling/vitest.config.ts',
    ],
  },
});
