import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestNamespace, kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessOperator, startInProcess } from './support/operator-harness.ts';
import { condition, reads, waitForNeuronReady } from './support/reads.ts';

const sample = (file: string) =>
  readFileSync(fileURLToPath(new URL(`../../samples/production/${file}`, import.meta.url)), 'utf8');
const kc = kubeConfigFromInject();
const neurons = ['strategic-1', 'design-1', 'impl-1'];
let ns: string;
let operator: InProcessOperator;
let r: ReturnType<typeof reads>;

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'operator-production');
  ns = namespace.name;
  r = reads(kc, ns);
  operator = await startInProcess(kc, ns);
  return namespace.delete;
});
afterAll(async () => {
  await operator?.stop();
});

describe('the production sample', () => {
  it('runs every pod on performance nodes with hugepages, under an HPA and a PDB', {
    timeout: 180_000,
  }, async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], { stdin: sample('hal9cluster.yaml') });
    await kubectl(['apply', '-n', ns, '-f', '-'], { stdin: sample('neurons.yaml') });
    const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
    const hugepageNodes = new Set(
      nodes
        .filter((n) => n.status?.allocatable?.['hugepages-2Mi'] !== undefined)
        .map((n) => n.metadata?.name),
    );
    const performanceNodes = new Set(
      nodes.filter((n) => n.metadata?.labels?.['node-type'] === 'performance').map((n) => n.metadata?.name),
    );
    for (const name of neurons) {
      const neuron = await waitForNeuronReady(r, name, 150_000);
      const [deploy, hpa, pdb] = await Promise.all([r.deployment(name), r.hpa(name), r.pdb(name)]);
      expect(hpa?.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
      expect(hpa?.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
      expect(pdb?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Neuron', name, controller: true });
      // The operator must not own replicas while an HPA does.
      const ours = deploy?.metadata?.managedFields?.find((m) => m.manager === 'hal9-operator');
      expect(JSON.stringify(ours?.fieldsV1)).not.toContain('"f:replicas"');
      // The Deployment starts without spec.replicas; kube-controller-manager's HPA controller raises it
      // to minReplicas on its own sync period, and the Neuron's status follows.
      const scaled = await waitFor(
        `${name} scaled to the HPA minimum`,
        async () => {
          const n = await r.neuron(name);
          return (n?.status?.replicas ?? 0) >= 2 ? n : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      expect(scaled.status?.replicas).toBeGreaterThanOrEqual(2);
      const pods = await waitFor(
        `${name} pods`,
        async () => {
          const p = await r.pods(`hal9.ai/neuron=${name}`);
          return p.length >= 2 ? p : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(pods.length).toBeGreaterThanOrEqual(2);
      for (const pod of pods) {
        expect(performanceNodes.has(pod.spec?.nodeName)).toBe(true);
        expect(hugepageNodes.has(pod.spec?.nodeName)).toBe(true);
        expect(pod.spec?.containers[0]?.resources?.limits?.['hugepages-2Mi']).toBeDefined();
      }
    }
  });

  it('does not reset a replica count another manager set while the HPA owns it', {
    timeout: 90_000,
  }, async () => {
    await kubectl(['scale', 'deployment', 'impl-1', '-n', ns, '--replicas=3']);
    // A spec change makes the operator render and compare impl-1 again.
    await kubectl([
      'patch',
      'neuron',
      'impl-1',
      '-n',
      ns,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { systemPrompt: 'Answer briefly.' } }),
    ]);
    const neuron = await waitFor(
      'impl-1 generation 2 observed',
      async () => {
        const n = await r.neuron('impl-1');
        return n?.status?.observedGeneration === 2 && condition(n, 'Ready')?.status === 'True'
          ? n
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect((await r.deployment('impl-1'))?.spec?.replicas).toBe(3);
    expect(neuron.status?.replicas).toBe(3);
  });
});
