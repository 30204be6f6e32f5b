import { defineConfig } from 'vitest/config';

// A real Prometheus scraping real runtimes and the real operator, which runs against the shared
// local control plane (real kube-apiserver, etcd, kcm, scheduler, kwok).
export default defineConfig({
  test: {
    name: 'monitoring-integration',
    include: ['test/integration/**/*.test.ts'],
    globalSetup: ['../test/cluster/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
