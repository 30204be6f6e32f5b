import { describe, expect, it } from 'vitest';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { clusterOwnerApply, clusterOwnerRelease } from './cluster-owner.ts';

describe('clusterOwnerApply', () => {
  const cluster = { ...aHal9Cluster(), metadata: { name: 'hal9', namespace: 'ns', uid: 'c-uid' } };

  it('adds the Hal9Cluster as a non-controller owner that does not block its deletion', () => {
    const patch = clusterOwnerApply(aNeuron('n'), cluster);
    expect(patch?.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'hal9.ai/v1alpha1',
        kind: 'Hal9Cluster',
        name: 'hal9',
        uid: 'c-uid',
        controller: false,
        blockOwnerDeletion: false,
      },
    ]);
    // Only the reference: the spec stays the user's.
    expect(Object.keys(patch ?? {}).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
  });

  it('sends nothing when the Neuron already has it', () => {
    const n = aNeuron('n');
    const owned = {
      ...n,
      metadata: {
        ...n.metadata,
        ownerReferences: [{ apiVersion: 'x', kind: 'Hal9Cluster', name: 'hal9', uid: 'c-uid' }],
      },
    };
    expect(clusterOwnerApply(owned, cluster)).toBeUndefined();
  });
});

describe('clusterOwnerRelease', () => {
  const withOwners = (
    ...ownerReferences: { apiVersion: string; kind: string; name: string; uid: string }[]
  ) => {
    const n = aNeuron('n');
    return { ...n, metadata: { ...n.metadata, ownerReferences } };
  };

  it('sends the Neuron’s identity alone, which takes back what its manager applied', () => {
    const patch = clusterOwnerRelease(
      withOwners({ apiVersion: 'hal9.ai/v1alpha1', kind: 'Hal9Cluster', name: 'hal9', uid: 'c-uid' }),
    );
    expect(patch).toEqual({
      apiVersion: 'hal9.ai/v1alpha1',
      kind: 'Neuron',
      metadata: { name: 'n', namespace: aNeuron('n').metadata?.namespace },
    });
  });

  it('sends nothing without a Hal9Cluster owner, whatever other owners there are', () => {
    expect(clusterOwnerRelease(aNeuron('n'))).toBeUndefined();
    expect(
      clusterOwnerRelease(
        withOwners({ apiVersion: 'example.com/v1', kind: 'Hal9Cluster', name: 'x', uid: 'u' }),
      ),
    ).toBeUndefined();
    expect(
      clusterOwnerRelease(withOwners({ apiVersion: 'hal9.ai/v1alpha1', kind: 'Other', name: 'x', uid: 'u' })),
    ).toBeUndefined();
  });
});
