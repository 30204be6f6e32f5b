import type { KubernetesObject, V1Deployment, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { fieldManager } from '../api-types.ts';
import { ownsField } from './managed-fields.ts';
import { compactManagedFields, trimForCache } from './trim.ts';

function entry(manager: string, fieldsV1: object, subresource?: string): V1ManagedFieldsEntry {
  return {
    manager,
    operation: 'Apply',
    apiVersion: 'apps/v1',
    fieldsType: 'FieldsV1',
    fieldsV1,
    ...(subresource ? { subresource } : {}),
  };
}

function aServedDeployment(managedFields: V1ManagedFieldsEntry[]): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'n-1',
      namespace: 'ns',
      uid: 'u-1',
      resourceVersion: '42',
      generation: 3,
      labels: { 'hal9.ai/neuron': 'n-1' },
      annotations: {
        'deployment.kubernetes.io/revision': '1',
        'kubectl.kubernetes.io/last-applied-configuration': '{"a huge":"copy"}',
      },
      ownerReferences: [
        { apiVersion: 'hal9.ai/v1alpha1', kind: 'Neuron', name: 'n-1', uid: 'n', controller: true },
      ],
      managedFields,
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'hal9.ai/neuron': 'n-1' } },
      template: { spec: { containers: [{ name: 'runtime', image: 'r:1' }] } },
    },
    status: { replicas: 2, readyReplicas: 1, observedGeneration: 3 },
  };
}

const ours = entry(fieldManager, {
  'f:metadata': { 'f:labels': { 'f:hal9.ai/neuron': {} } },
  'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': {} } } },
});
const controller = entry('kube-controller-manager', { 'f:status': { 'f:replicas': {} } }, 'status');
const hpa = entry('hal9-operator-handover', { 'f:spec': { 'f:replicas': {} } });

describe('trimForCache', () => {
  it('drops managedFields and the last-applied annotation and keeps what reconcilers read', () => {
    const served = aServedDeployment([ours, controller]);
    const trimmed = trimForCache()(structuredClone(served)) as V1Deployment;
    expect(trimmed.metadata?.managedFields).toBeUndefined();
    expect(trimmed.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
    const { managedFields: _m, annotations: _a, ...metaKept } = served.metadata!;
    expect(trimmed.metadata).toMatchObject(metaKept);
    expect(trimmed.spec).toEqual(served.spec);
    expect(trimmed.status).toEqual(served.status);
  });

  it('answers ownsField for the kept paths as the full managedFields did', () => {
    const trim = trimForCache({ ownedPaths: [['spec', 'replicas']] });
    const cases: [V1ManagedFieldsEntry[], string, boolean][] = [
      [[ours, controller], fieldManager, true],
      [[entry(fieldManager, { 'f:spec': { 'f:template': {} } }), hpa], fieldManager, false],
      [[entry(fieldManager, { 'f:spec': { 'f:template': {} } }), hpa], 'hal9-operator-handover', true],
      [[controller], 'kube-controller-manager', false],
    ];
    for (const [fields, manager, owns] of cases) {
      const served = aServedDeployment(fields);
      expect(ownsField(served, manager, ['spec', 'replicas'])).toBe(owns);
      expect(ownsField(trim(structuredClone(served)), manager, ['spec', 'replicas'])).toBe(owns);
    }
  });

  it('tells writes through a subresource from writes to the main resource, before and after trimming', () => {
    const current = ['status', 'parallelism', 'current'];
    const reconciler = entry(
      fieldManager,
      { 'f:status': { 'f:parallelism': { 'f:current': {} } } },
      'status',
    );
    const tuner = entry(
      'hal9-operator-tuner',
      { 'f:status': { 'f:parallelism': { 'f:lastDecision': {} } } },
      'status',
    );
    const trim = trimForCache({ ownedPaths: [['spec', 'replicas'], current] });
    for (const obj of [
      aServedDeployment([reconciler, tuner]),
      trim(aServedDeployment([reconciler, tuner])),
    ]) {
      expect(ownsField(obj, fieldManager, current, 'status')).toBe(true);
      // The same path through the main resource is another manager entry.
      expect(ownsField(obj, fieldManager, current)).toBe(false);
      expect(ownsField(obj, 'hal9-operator-tuner', current, 'status')).toBe(false);
    }
    expect(
      ownsField(aServedDeployment([controller]), 'kube-controller-manager', ['status', 'replicas'], 'scale'),
    ).toBe(false);
  });

  it('keeps a manager only for the kept paths, and nothing of the rest', () => {
    expect(compactManagedFields([ours, controller, hpa], [['spec', 'replicas']])).toEqual([
      { manager: fieldManager, operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
      { manager: 'hal9-operator-handover', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    ]);
    expect(compactManagedFields([ours], [])).toEqual([]);
  });

  it('leaves annotations alone when there is no last-applied copy, and objects without metadata', () => {
    const cm: KubernetesObject = { metadata: { name: 'c', annotations: { a: 'b' } } };
    expect(trimForCache()(cm).metadata?.annotations).toBe(cm.metadata?.annotations);
    const bare = { kind: 'Status' } as KubernetesObject;
    expect(trimForCache()(bare)).toBe(bare);
  });
});
