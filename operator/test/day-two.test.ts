import { createTestNamespace, kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { type InProcessOperator, startInProcess } from './support/operator-harness.ts';
import { reads, waitForNeuronReady } from './support/reads.ts';

// What a platform engineer hits after the first apply: removed fields, the entry neuron, merged
// resources, why a rollout waits, deleting a cluster, and kubectl scale on an HPA-scaled Neuron.
const kc = kubeConfigFromInject();
let ns: string;
let operator: InProcessOperator;
let r: ReturnType<typeof reads>;

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'operator-day-two');
  ns = namespace.name;
  r = reads(kc, ns);
  operator = await startInProcess(kc, ns);
  return namespace.delete;
});
afterAll(async () => {
  await operator?.stop();
});

const apply = (objects: readonly object[]) =>
  kubectl(['apply', '-n', ns, '-f', '-'], { stdin: toYaml(objects) });
const patch = (kind: string, name: string, body: object, type = 'merge') =>
  kubectl(['patch', kind, name, '-n', ns, '--type', type, '-p', JSON.stringify(body)]);
const podSpec = (d: V1Deployment | undefined) => d?.spec?.template?.spec;

describe('fields removed from the spec', () => {
  it('leave the live Deployment when the Neuron or its cluster no longer sets them', async () => {
    await apply([
      aCluster('c1', {
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      }),
      aNeuron('n1', 'c1', {
        placement: {
          nodeSelector: { type: 'kwok' },
          preferredNodeLabels: [{ weight: 5, key: 'zone', operator: 'In', values: ['a'] }],
        },
      }),
    ]);
    await waitForNeuronReady(r, 'n1');
    const before = await r.deployment('n1');
    expect(podSpec(before)?.nodeSelector).toEqual({ type: 'kwok' });
    expect(podSpec(before)?.affinity?.nodeAffinity).toBeDefined();
    expect(podSpec(before)?.containers[0]?.resources?.limits?.memory).toBe('1Gi');

    // Nothing else in the Deployment changes with these: only the removed fields tell.
    await patch('neuron', 'n1', { spec: { placement: null } });
    await waitFor(
      'nodeSelector and affinity gone from Deployment n1',
      async () => {
        const s = podSpec(await r.deployment('n1'));
        return s && s.nodeSelector === undefined && s.affinity === undefined ? s : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await patch('hal9cluster', 'c1', [{ op: 'remove', path: '/spec/resources/limits' }], 'json');
    const after = await waitFor(
      'limits gone from Deployment n1',
      async () => {
        const d = await r.deployment('n1');
        return podSpec(d)?.containers[0]?.resources?.limits === undefined ? d : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(podSpec(after)?.containers[0]?.resources?.requests).toMatchObject({ cpu: '100m', memory: '64Mi' });
  });
});
