import { defineConfig } from 'vitest/config';

// The synthesized bundle against the shared local control plane (real kube-apiserver and etcd), and the
// Argo CD health checks on live objects.
export default defineConfig({
  test: {
    name: 'cdk8s-integration',
    include: ['test/integration/**/*.test.ts'],
    globalSetup: ['../test/cluster/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
