import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kubectl, waitFor } from '@hal9/test';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition, waitForNeuronReady } from './support/reads.ts';

const sample = (file: string) =>
  readFileSync(fileURLToPath(new URL(`../../samples/production/${file}`, import.meta.url)), 'utf8');
const space = useOperatorNamespace('operator-production');
const { kc, reads: r, apply, patch } = space;
const neurons = ['strategic-1', 'design-1', 'impl-1'];

describe('the production sample', () => {
  it('runs every pod on performance nodes, sized by the operator (no HPA), with a PDB', {
    timeout: 180_000,
  }, async () => {
    await apply(sample('hal9cluster.yaml'));
    await apply(sample('neurons.yaml'));
    const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
    const performanceNodes = new Set(
      nodes.filter((n) => n.metadata?.labels?.['node-type'] === 'performance').map((n) => n.metadata?.name),
    );
    for (const name of neurons) {
      await waitForNeuronReady(r, name, 150_000);
      // Autoscaling mode operator: the operator moved spec.replicas (default 1) into [2, 10] through
      // the scale subresource, and the Deployment follows it; there is no HPA.
      const neuron = await waitFor(
        `${name} scaled to minReplicas by the operator`,
        async () => {
          const n = await r.neuron(name);
          return n?.spec?.replicas === 2 && (n.status?.replicas ?? 0) >= 2 ? n : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const scaler = neuron.metadata?.managedFields?.find((m) => m.manager === 'hal9-operator-autoscaler');
      expect(scaler?.subresource).toBe('scale');
      const [deploy, hpa, pdb] = await Promise.all([r.deployment(name), r.hpa(name), r.pdb(name)]);
      expect(hpa).toBeUndefined();
      expect(deploy?.spec?.replicas).toBe(2);
      expect(pdb?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Neuron', name, controller: true });
      const pods = await waitFor(
        `${name} pods`,
        async () => {
          const p = await r.pods(`hal9.ai/neuron=${name}`);
          return p.length >= 2 ? p : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      for (const pod of pods) {
        expect(performanceNodes.has(pod.spec?.nodeName)).toBe(true);
        // The runtime never maps /hugepages: the sample reserves none (crds/README.md).
        expect(pod.spec?.containers[0]?.resources?.limits?.['hugepages-2Mi']).toBeUndefined();
      }
      // No runtime answers on these pods' addresses: the count holds, and the condition says why.
      const held = await waitFor(
        `${name} ReplicasAutoscaled False`,
        async () => {
          const c = condition(await r.neuron(name), 'ReplicasAutoscaled');
          return c?.status === 'False' ? c : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(['PodsUnreachable', 'NoData']).toContain(held.reason);
    }
  });

  it('owns the replica count in operator mode: a manual kubectl scale is set back, with a warning, and never run', {
    timeout: 90_000,
  }, async () => {
    const before = await r.deployment('impl-1');
    expect(before?.spec?.replicas).toBe(2);
    await kubectl(['scale', 'neuron', 'impl-1', '-n', space.name, '--replicas=5']);
    await waitFor(
      'the ManualScaleOverridden event',
      async () =>
        (await r.events()).find(
          (e) =>
            e.involvedObject.name === 'impl-1' &&
            e.reason === 'ManualScaleOverridden' &&
            e.type === 'Warning',
        ),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const neuron = await waitFor(
      'impl-1 back at 2 replicas, and the decision recorded',
      async () => {
        const n = await r.neuron('impl-1');
        const d = (n?.status as { autoscaling?: { lastDecision?: { reason?: string } } } | undefined)
          ?.autoscaling?.lastDecision;
        return n?.spec?.replicas === 2 && d?.reason === 'ManualScaleOverridden' ? n : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(neuron.spec?.replicas).toBe(2);
    // The Deployment never took the 5: its spec did not change at all (a replica count would have
    // raised its generation), so no pod started only to be stopped.
    const after = await r.deployment('impl-1');
    expect(after?.spec?.replicas).toBe(2);
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
  });

  it('hands replicas to a CPU HPA in mode hpa, and then never writes them', {
    timeout: 120_000,
  }, async () => {
    await patch('hal9cluster', 'hal9-production', { spec: { autoscaling: { mode: 'hpa' } } });
    for (const name of neurons) {
      const hpa = await waitFor(`${name} HPA`, () => r.hpa(name), { timeoutMs: 60_000, intervalMs: 250 });
      expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
      expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
      // The operator's status part about replicas goes away: it no longer decides them.
      await waitFor(
        `${name} without status.autoscaling`,
        async () => {
          const n = await r.neuron(name);
          return n?.status && !(n.status as { autoscaling?: unknown }).autoscaling ? n : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      // The operator must not own replicas while an HPA does; the hand-over kept the count.
      const deploy = await waitFor(
        `${name} Deployment without the operator's replicas`,
        async () => {
          const d = await r.deployment(name);
          const ours = d?.metadata?.managedFields?.find((m) => m.manager === 'hal9-operator');
          return ours && !JSON.stringify(ours.fieldsV1).includes('"f:replicas"') ? d : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(deploy.spec?.replicas).toBeGreaterThanOrEqual(2);
    }

    // Another manager's count stays, and so does a count written on the Neuron: nothing sets it back.
    await kubectl(['scale', 'deployment', 'impl-1', '-n', space.name, '--replicas=3']);
    await kubectl(['scale', 'neuron', 'impl-1', '-n', space.name, '--replicas=4']);
    // A spec change makes the operator render and compare impl-1 again.
    await patch('neuron', 'impl-1', { spec: { systemPrompt: 'Answer briefly.' } });
    const neuron = await waitFor(
      'impl-1 spec change observed',
      async () => {
        const n = await r.neuron('impl-1');
        const g = n?.metadata?.generation ?? 0;
        // Ready stays True while the old pods serve; the rollout is over when Progressing is False.
        // The operator computes status from its Deployment cache, which may not have seen the
        // kubectl scale yet: wait for status.replicas too.
        return n?.status?.observedGeneration === g &&
          n.status.replicas === 3 &&
          n.spec?.systemPrompt === 'Answer briefly.' &&
          condition(n, 'Ready')?.status === 'True' &&
          condition(n, 'Progressing')?.status === 'False'
          ? n
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect((await r.deployment('impl-1'))?.spec?.replicas).toBe(3);
    expect(neuron.status?.replicas).toBe(3);
    expect(neuron.spec?.replicas).toBe(4);
  });
});
