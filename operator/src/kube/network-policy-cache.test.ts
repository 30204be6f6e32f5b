import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { renderNetworkPolicies } from '../render/network-policy.ts';
import { aHal9Cluster } from '../testing/builders.ts';
import { liveDiffers, withAppliedHash } from './applied-hash.ts';
import { networkPolicyForCache } from './network-policy-cache.ts';

// The same served policy reaches the cache in two shapes: a typed list answers with client-node's
// models (`_from`), a watch event with the wire JSON (`from`).

const [rendered] = renderNetworkPolicies({
  cluster: aHal9Cluster({}, 'brain'),
  entryNeuron: 'a',
  operatorNamespace: 'hal9-system',
  prometheusNamespaceSelector: { 'kubernetes.io/metadata.name': 'monitoring' },
}).map(withAppliedHash);
const desired = rendered!;
const peers = desired.spec?.ingress?.[0]?._from;

/** The policy as the apiserver serves it: defaults, managedFields, another writer's annotation. */
function served(ingress: object[]): KubernetesObject {
  return {
    metadata: {
      ...desired.metadata,
      uid: 'u-1',
      resourceVersion: '12',
      generation: 1,
      annotations: {
        ...desired.metadata?.annotations,
        'kubectl.kubernetes.io/last-applied-configuration': '{"a big":"copy"}',
      },
      managedFields: [{ manager: 'hal9-operator', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
    },
    spec: { ...desired.spec, ingress },
  } as KubernetesObject;
}

describe('networkPolicyForCache', () => {
  const trim = networkPolicyForCache();
  const fromWatch = trim(served([{ from: peers, ports: [{ port: 8080, protocol: 'TCP' }] }]));
  const fromList = trim(served([{ _from: peers, ports: [{ port: 8080, protocol: 'TCP' }] }]));

  it('stores a watched policy in the shape a listed one has', () => {
    expect(fromWatch).toEqual(fromList);
    expect((fromWatch as typeof desired).spec?.ingress?.[0]?._from).toEqual(peers);
  });

  it('drops managedFields and the last-applied copy', () => {
    expect(fromWatch.metadata?.managedFields).toBeUndefined();
    expect(Object.keys(fromWatch.metadata?.annotations ?? {})).toEqual(['hal9.ai/applied-hash']);
  });

  it('lets the rendered policy match the live one, and tells an edited rule', () => {
    expect(liveDiffers(desired, fromWatch)).toBeUndefined();
    expect(liveDiffers(desired, fromList)).toBeUndefined();
    // Without the transform a watched policy would always differ (and be applied on every event).
    expect(liveDiffers(desired, served([{ from: peers, ports: [{ port: 8080, protocol: 'TCP' }] }]))).toBe(
      '.spec.ingress[0]._from',
    );
    const edited = trim(served([{ from: peers?.slice(1), ports: [{ port: 8080, protocol: 'TCP' }] }]));
    expect(liveDiffers(desired, edited)).toBe('.spec.ingress[0]._from');
  });

  it('leaves a rule without peers as it is', () => {
    const open = { metadata: { name: 'e' }, spec: { ingress: [{ ports: [{ port: 8080 }] }] } };
    expect(trim(open)).toEqual(open);
  });
});
