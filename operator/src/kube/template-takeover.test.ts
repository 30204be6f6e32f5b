import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { foreignTemplateOwners, takeOverTemplateSpec, takeoverPaths } from './template-takeover.ts';
import { compactManagedFields } from './trim.ts';

const ours = new Set(['hal9-operator', 'hal9-operator-repair']);

const entry = (
  manager: string,
  operation: string,
  fieldsV1: object,
  subresource?: string,
): V1ManagedFieldsEntry => ({
  manager,
  operation,
  apiVersion: 'apps/v1',
  fieldsType: 'FieldsV1',
  fieldsV1,
  ...(subresource ? { subresource } : {}),
});
const objectWith = (...managedFields: V1ManagedFieldsEntry[]) =>
  ({ metadata: { managedFields } }) as KubernetesObject;

const applied = entry('hal9-operator', 'Apply', {
  'f:metadata': { 'f:labels': { 'f:app': {} } },
  'f:spec': {
    'f:replicas': {},
    'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"runtime"}': { '.': {}, 'f:image': {} } } } },
  },
});
// What `kubectl rollout undo` leaves: the old template's nodeSelector, restartedAt and an env var,
// and the old ReplicaSet's annotations, the operator's applied-hash among them.
const undo = entry('kubectl', 'Update', {
  'f:metadata': {
    'f:annotations': { 'f:deployment.kubernetes.io/revision': {}, 'f:hal9.ai/applied-hash': {} },
  },
  'f:spec': {
    'f:template': {
      'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/restartedAt': {} } },
      'f:spec': {
        'f:nodeSelector': { '.': {}, 'f:node-type': {} },
        'f:containers': { 'k:{"name":"runtime"}': { 'f:env': { 'k:{"name":"X"}': { '.': {} } } } },
      },
    },
  },
});
// `kubectl set env`: an update of the pod spec that leaves the operator's annotation alone.
const setEnv = entry('kubectl-set', 'Update', {
  'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"runtime"}': { 'f:env': {} } } } } },
});
const status = entry('kube-controller-manager', 'Update', { 'f:status': { 'f:replicas': {} } }, 'status');

describe('template takeover', () => {
  it('names the managers that rolled the pod template back, from the cache’s compact managedFields too', () => {
    expect(foreignTemplateOwners(objectWith(applied, undo, setEnv, status), ours)).toEqual(['kubectl']);
    const cached = compactManagedFields(
      [applied, undo, setEnv, status],
      [['spec', 'replicas'], ...takeoverPaths],
    );
    expect(foreignTemplateOwners(objectWith(...cached), ours)).toEqual(['kubectl']);
    // Another manager's apply is no rollback.
    expect(foreignTemplateOwners(objectWith(applied, { ...undo, operation: 'Apply' }), ours)).toEqual([]);
  });

  it('moves a rollback’s pod spec fields into the apply entry and leaves everything else where it was', () => {
    const t = takeOverTemplateSpec([applied, undo, setEnv, status], 'hal9-operator', ours)!;
    expect(t.taken).toEqual([{ manager: 'kubectl', fields: ['nodeSelector', 'containers'] }]);
    const [mine, theirs, set, controller] = t.managedFields;
    expect(mine!.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:spec': {
            'f:nodeSelector': { '.': {}, 'f:node-type': {} },
            'f:containers': {
              'k:{"name":"runtime"}': { '.': {}, 'f:image': {}, 'f:env': { 'k:{"name":"X"}': { '.': {} } } },
            },
          },
        },
      },
    });
    // The restart's annotation and the annotations stay kubectl's (the next apply takes the hash).
    expect(theirs!.fieldsV1).toEqual({
      'f:metadata': {
        'f:annotations': { 'f:deployment.kubernetes.io/revision': {}, 'f:hal9.ai/applied-hash': {} },
      },
      'f:spec': {
        'f:template': { 'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/restartedAt': {} } } },
      },
    });
    // Fields other writers own stay theirs: taking them would start a fight.
    expect(set).toEqual(setEnv);
    expect(controller).toEqual(status);
    // The input is not changed.
    expect(undo.fieldsV1).toHaveProperty(['f:spec', 'f:template', 'f:spec']);
  });

  it('does nothing without a rollback or without an apply entry to move its fields into', () => {
    expect(takeOverTemplateSpec([applied, setEnv, status], 'hal9-operator', ours)).toBeUndefined();
    expect(takeOverTemplateSpec([undo], 'hal9-operator', ours)).toBeUndefined();
  });
});
