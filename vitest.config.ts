import { defineConfig } from 'vitest/config';

// Each workspace owns its vitest.config.ts (unit tests, integration tests, global set-ups).
export default defineConfig({
  test: {
    projects: ['*/vitest.config.ts'],
  },
});
