import { defineConfig } from 'vitest/config';

// Unit tests beside the sources, the generator's drift check, and the Argo CD health checks run in
// gopher-lua (go test in argocd/lua-test); no cluster.
export default defineConfig({
  test: {
    name: 'cdk8s',
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'test/*.test.ts'],
    testTimeout: 30_000,
  },
});
