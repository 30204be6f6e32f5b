import { defineConfig } from 'vitest/config';

// Integration tests against the shared local control plane (real kube-apiserver, etcd, kcm, scheduler, kwok).
export default defineConfig({
  test: {
    name: 'operator-integration',
    include: ['test/**/*.test.ts'],
    globalSetup: ['../test/cluster/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
