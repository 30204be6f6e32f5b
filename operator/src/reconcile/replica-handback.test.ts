import type { KubernetesObject, V1Deployment, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { replicasToHandBack } from './replica-handback.ts';

const replicasOwnedBy = (manager: string, subresource?: string): V1ManagedFieldsEntry => ({
  manager,
  operation: 'Update',
  ...(subresource ? { subresource } : {}),
  fieldsV1: { 'f:spec': { 'f:replicas': {} } },
});

const liveDeployment = (replicas: number, owners: V1ManagedFieldsEntry[]): V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'a', managedFields: owners },
  spec: { replicas, selector: {}, template: {} },
});
const hpa: KubernetesObject = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'a' },
};
const rendered = (replicas: number | undefined, withHpa = false): KubernetesObject[] => [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    spec: replicas === undefined ? {} : { replicas },
  } as V1Deployment,
  ...(withHpa ? [hpa] : []),
];
// The HPA controller writes the Deployment's scale subresource.
const byHpa = [replicasOwnedBy('kube-controller-manager', 'scale')];

describe('replicasToHandBack', () => {
  it('carries the count the HPA left when the HPA is live but no longer rendered', () => {
    expect(
      replicasToHandBack({ liveHpa: hpa, rendered: rendered(1), liveDeployment: liveDeployment(6, byHpa) }),
    ).toBe(6);
  });

  it('carries nothing while the HPA is rendered (hpa mode) or once it is gone', () => {
    const live = liveDeployment(6, byHpa);
    expect(
      replicasToHandBack({ liveHpa: hpa, rendered: rendered(undefined, true), liveDeployment: live }),
    ).toBe(undefined);
    expect(replicasToHandBack({ liveHpa: undefined, rendered: rendered(1), liveDeployment: live })).toBe(
      undefined,
    );
  });

  it('carries nothing when the counts agree or there is no Deployment yet', () => {
    expect(
      replicasToHandBack({ liveHpa: hpa, rendered: rendered(6), liveDeployment: liveDeployment(6, byHpa) }),
    ).toBe(undefined);
    expect(replicasToHandBack({ liveHpa: hpa, rendered: rendered(1), liveDeployment: undefined })).toBe(
      undefined,
    );
  });

  it('carries nothing when the operator owns the Deployment’s count: a change there is set back', () => {
    const ours = [replicasOwnedBy('hal9-operator'), replicasOwnedBy('kubectl', 'scale')];
    expect(
      replicasToHandBack({ liveHpa: hpa, rendered: rendered(1), liveDeployment: liveDeployment(6, ours) }),
    ).toBe(undefined);
  });
});
