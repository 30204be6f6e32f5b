import { fileURLToPath } from 'node:url';
import {
  binDirFromInject,
  type ControlPlane,
  createTestNamespace,
  runKubectl,
  startControlPlane,
  waitFor,
} from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { type InProcessOperator, startInProcess } from './support/operator-harness.ts';
import { reads } from './support/reads.ts';

const crdDir = fileURLToPath(new URL('../../crds', import.meta.url));

// Its own API-only control plane: stopping the shared apiserver would disturb other test files.
let plane: ControlPlane;
let operator: InProcessOperator;
let ns: string;
let r: ReturnType<typeof reads>;

beforeAll(async () => {
  plane = await startControlPlane({ binDir: binDirFromInject(), workloads: false, crdDirs: [crdDir] });
  const kc = plane.kubeConfig();
  ns = (await createTestNamespace(kc, 'operator-restart')).name;
  r = reads(kc, ns);
  operator = await startInProcess(kc, ns);
}, 180_000);
afterAll(async () => {
  await operator?.stop();
  await plane?.stop();
});

/** hal9_operator_informer_restarts_total of each informer. */
const informerRestarts = async () => {
  const metric = await operator.registry.getSingleMetric('hal9_operator_informer_restarts_total')?.get();
  return new Map((metric?.values ?? []).map((v) => [String(v.labels.informer), v.value]));
};

const apply = (objects: readonly object[]) =>
  runKubectl(['apply', '-n', ns, '-f', '-'], {
    kubeconfig: plane.kubeconfigPath,
    binDir: plane.binDir,
    stdin: toYaml(objects),
  });

describe('an apiserver restart while the operator runs', () => {
  it('does not stop it reconciling later changes', { timeout: 180_000 }, async () => {
    await apply([aCluster('restart'), aNeuron('before', 'restart')]);
    await waitFor('Deployment before', () => r.deployment('before'), { timeoutMs: 30_000 });

    const before = await informerRestarts();
    await plane.stopApiServer();
    // Every watch noticed before the apiserver is back: client-node's informers report an error
    // and stop, and each counts a restart.
    await waitFor(
      'every informer to count a restart',
      async () => {
        const now = await informerRestarts();
        return [...before].every(([informer, n]) => (now.get(informer) ?? 0) > n) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await plane.startApiServer();

    await apply([aNeuron('after', 'restart')]);
    const deployment = await waitFor('Deployment after', () => r.deployment('after'), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    expect(deployment.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Neuron', name: 'after' });

    await apply([aNeuron('before', 'restart', { performance: { maxConcurrentSignals: 3 } })]);
    await waitFor(
      'before ConfigMap updated',
      async () => {
        const cm = await r.configMap('before-config');
        return Object.values(cm?.data ?? {})[0]?.includes('max_concurrent_signals: 3') ? cm : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const restarts = await informerRestarts();
    expect([...restarts.values()].reduce((s, n) => s + n, 0)).toBeGreaterThan(0);
  });
});

describe('an etcd restart while the operator runs', () => {
  it('keeps it reconciling once storage is back', { timeout: 180_000 }, async () => {
    await apply([aNeuron('etcd-before', 'restart')]);
    await waitFor('Deployment etcd-before', () => r.deployment('etcd-before'), { timeoutMs: 60_000 });

    // Storage gone under a running apiserver: writes and watches fail until etcd is back.
    await plane.restartEtcd(5000);

    await apply([aNeuron('etcd-after', 'restart')]);
    const deployment = await waitFor('Deployment etcd-after', () => r.deployment('etcd-after'), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    expect(deployment.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Neuron', name: 'etcd-after' });
    await apply([aNeuron('etcd-before', 'restart', { performance: { maxConcurrentSignals: 5 } })]);
    await waitFor(
      'etcd-before ConfigMap updated',
      async () => {
        const cm = await r.configMap('etcd-before-config');
        return Object.values(cm?.data ?? {})[0]?.includes('max_concurrent_signals: 5') ? cm : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });
});
