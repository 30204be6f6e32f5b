import type { V1Deployment, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { aNeuron } from '../testing/builders.ts';
import { scaleIgnored } from './scale-ignored.ts';

const replicasBy = (manager: string, subresource?: string): V1ManagedFieldsEntry => ({
  manager,
  operation: 'Update',
  ...(subresource ? { subresource } : {}),
  fieldsV1: { 'f:spec': { 'f:replicas': {} } },
});
const neuron = (replicas: number, entries: V1ManagedFieldsEntry[]) => {
  const n = aNeuron('n', { replicas });
  return { ...n, metadata: { ...n.metadata, managedFields: entries } };
};
const deployment = (replicas: number): V1Deployment => ({ spec: { replicas, selector: {}, template: {} } });
const own = new Set(['hal9-operator', 'hal9-operator-autoscaler']);

describe('scaleIgnored', () => {
  it('says that kubectl scale has no effect while an HPA owns the count', () => {
    const msg = scaleIgnored(neuron(5, [replicasBy('kubectl', 'scale')]), true, deployment(2), own);
    expect(msg).toContain('spec.replicas is 5 (set through the scale subresource by kubectl)');
    expect(msg).toContain('HorizontalPodAutoscaler owns the replica count');
    expect(msg).toContain('set autoscaling.enabled: false to scale by hand');
  });

  it.each([
    ['without an HPA', neuron(5, [replicasBy('kubectl', 'scale')]), false, 2],
    ['when the counts agree', neuron(2, [replicasBy('kubectl', 'scale')]), true, 2],
    [
      'when the operator wrote the count',
      neuron(5, [replicasBy('hal9-operator-autoscaler', 'scale')]),
      true,
      2,
    ],
    [
      'when the count came from the spec (Git), not a scale',
      neuron(5, [replicasBy('argocd-controller')]),
      true,
      2,
    ],
  ] as const)('says nothing %s', (_name, n, hpa, running) => {
    expect(scaleIgnored(n, hpa, deployment(running), own)).toBeUndefined();
  });
});
