import { readFileSync } from 'node:fs';
import type { V1Deployment, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aNeuron } from '../testing/builders.ts';
import { crdDefaultReplicas, scaleIgnored } from './scale-ignored.ts';

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

  it('says so for a scale the apiserver recorded no writer of (a Neuron created by server-side apply)', () => {
    // Only the status writers' entries: nobody owns spec.replicas, which is not the default.
    const status: V1ManagedFieldsEntry = {
      manager: 'hal9-operator',
      operation: 'Apply',
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:replicas': {} } },
    };
    const msg = scaleIgnored(neuron(3, [status]), true, deployment(1), own);
    expect(msg).toContain(
      'spec.replicas is 3 (written through the scale subresource, whose writer the apiserver did not record)',
    );
    // At the CRD's default nobody may have scaled at all (the HPA runs 2): no warning.
    expect(scaleIgnored(neuron(crdDefaultReplicas, [status]), true, deployment(2), own)).toBeUndefined();
  });

  it("knows the CRD's default for spec.replicas", () => {
    const crd = parse(readFileSync(new URL('../../../crds/hal9.ai_neurons.yaml', import.meta.url), 'utf8'));
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(spec.properties.replicas.default).toBe(crdDefaultReplicas);
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
