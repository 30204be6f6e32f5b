import { createTestNamespace, kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { type InProcessOperator, startInProcess } from './support/operator-harness.ts';
import { condition, reads, waitForNeuronReady } from './support/reads.ts';

// spec.monitoring.serviceMonitor on a cluster without the Prometheus Operator: the Neuron still
// converges, and a warning says why there is no ServiceMonitor (instead of failing every reconcile).

const kc = kubeConfigFromInject();
let ns: string;
let operator: InProcessOperator;
let r: ReturnType<typeof reads>;

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'operator-servicemonitor');
  ns = namespace.name;
  r = reads(kc, ns);
  operator = await startInProcess(kc, ns);
  return namespace.delete;
});
afterAll(async () => {
  await operator?.stop();
});

describe('a ServiceMonitor asked for where its API is not installed', () => {
  it('is skipped with a warning condition while the Neuron becomes Ready', async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      stdin: toYaml([aCluster('mon', { monitoring: { serviceMonitor: true } }), aNeuron('watched', 'mon')]),
    });
    const neuron = await waitForNeuronReady(r, 'watched');
    expect(await r.deployment('watched')).toBeDefined();
    const warning = await waitFor(
      'the ServiceMonitor warning',
      async () => {
        const w = condition(await r.neuron('watched'), 'Warning');
        return w?.status === 'True' ? w : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(warning.message).toMatch(/ServiceMonitor.*monitoring\.coreos\.com\/v1.*not installed/);
    expect(condition(neuron, 'Degraded')?.status).not.toBe('True');
  });
});
