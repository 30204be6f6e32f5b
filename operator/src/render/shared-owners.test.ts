import type { V1OwnerReference } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Neuron } from '../generated/neuron.gen.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { renderAdminSecret } from './admin-secret.ts';
import { renderNetworkPolicies } from './network-policy.ts';
import { renderPeerSecret } from './peer-secret.ts';
import { outlivingNeurons, sharedOwnerReferences } from './shared-owners.ts';

const cluster = aHal9Cluster({}, 'brain');
const clusterRef: V1OwnerReference = {
  apiVersion: 'hal9.ai/v1alpha1',
  kind: 'Hal9Cluster',
  name: 'brain',
  uid: 'uid-cluster-brain',
  controller: true,
  blockOwnerDeletion: true,
};
const neuronRef = (name: string): V1OwnerReference => ({
  apiVersion: 'hal9.ai/v1alpha1',
  kind: 'Neuron',
  name,
  uid: `uid-neuron-${name}`,
  controller: false,
  blockOwnerDeletion: false,
});

/**
 * A Neuron of brain the operator reconciled (running `replicas` pods), or not yet (`reconciled:
 * false`); `owned`: with the reference to brain the operator adds.
 */
function running(
  name: string,
  o: { owned?: boolean; replicas?: number; cluster?: string; reconciled?: boolean } = {},
): Neuron {
  const status = o.reconciled === false ? {} : { observedGeneration: 1, replicas: o.replicas ?? 1 };
  const n = aNeuron(name, { cluster: o.cluster ?? 'brain' }, { status });
  if (o.owned)
    n.metadata!.ownerReferences = [{ ...clusterRef, controller: false, blockOwnerDeletion: false }];
  return n;
}

describe('outlivingNeurons', () => {
  it('is none while the cluster owns its Neurons (--neuron-cluster-owner, the default)', () => {
    expect(outlivingNeurons(cluster, [running('a', { owned: true }), running('b', { owned: true })])).toEqual(
      [],
    );
  });

  it('is every reconciled Neuron of the cluster that the cluster does not own, by name, whatever its pods', () => {
    const neurons = [
      running('c'),
      running('a'),
      running('owned', { owned: true }),
      running('b-scaled-to-zero', { replicas: 0 }),
      running('new', { reconciled: false }),
      // Paused since it was created: never rendered, no Deployment.
      aNeuron('never-rendered', { cluster: 'brain' }, { status: { observedGeneration: 0 } }),
      running('elsewhere', { cluster: 'other' }),
      { ...running('leaving'), metadata: { ...running('leaving').metadata, deletionTimestamp: new Date() } },
    ];
    expect(outlivingNeurons(cluster, neurons).map((n) => n.metadata?.name)).toEqual([
      'a',
      'b-scaled-to-zero',
      'c',
    ]);
  });

  it('counts a Neuron owned by an earlier cluster of the name as outliving this one (uid, not name)', () => {
    const stale = running('a');
    stale.metadata!.ownerReferences = [{ ...clusterRef, uid: 'uid-of-a-deleted-brain' }];
    expect(outlivingNeurons(cluster, [stale]).map((n) => n.metadata?.name)).toEqual(['a']);
  });

  it('matches by name for a cluster that is gone (it has no uid)', () => {
    const gone = { ...cluster, metadata: { name: 'brain', namespace: cluster.metadata?.namespace } };
    const dangling = running('owned');
    dangling.metadata!.ownerReferences = [{ ...clusterRef, uid: 'uid-of-the-deleted-brain' }];
    expect(outlivingNeurons(gone, [dangling, running('kept')]).map((n) => n.metadata?.name)).toEqual([
      'kept',
    ]);
  });
});

describe('the owners of the objects a cluster’s pods share', () => {
  it('are the cluster alone while it owns its Neurons (as ever), and with the reference off also each Neuron that outlives it', () => {
    const render = (outliving: readonly Neuron[]) => ({
      peer: renderPeerSecret(cluster, 't', outliving).metadata?.ownerReferences,
      admin: renderAdminSecret(cluster, 't', outliving).metadata?.ownerReferences,
      policies: renderNetworkPolicies({
        cluster,
        entryNeuron: 'a',
        operatorNamespace: 'hal9-system',
        prometheusNamespaceSelector: {},
        outliving,
      }).map((p) => p.metadata?.ownerReferences),
    });
    // --neuron-cluster-owner (the default): every Neuron goes with the cluster.
    const on = outlivingNeurons(cluster, [running('a', { owned: true }), running('b', { owned: true })]);
    expect(render(on)).toEqual({
      peer: [clusterRef],
      admin: [clusterRef],
      policies: [[clusterRef], [clusterRef]],
    });
    // --no-neuron-cluster-owner: the garbage collector waits for the cluster and for each Neuron.
    const off = outlivingNeurons(cluster, [running('b'), running('a')]);
    const owners = [clusterRef, neuronRef('a'), neuronRef('b')];
    const rendered = render(off);
    expect(rendered).toEqual({ peer: owners, admin: owners, policies: [owners, owners] });
    // One controller still: the cluster (the policies' watch maps them to it).
    expect(rendered.policies[0]?.filter((r) => r.controller)).toEqual([clusterRef]);
  });

  it('are the outliving Neurons alone for a cluster that is gone', () => {
    const gone = { ...cluster, metadata: { name: 'brain', namespace: cluster.metadata?.namespace } };
    const outliving = [running('a'), running('b')];
    expect(sharedOwnerReferences(gone, outliving)).toEqual([neuronRef('a'), neuronRef('b')]);
    expect(renderPeerSecret(gone, 't', outliving).metadata).toMatchObject({
      name: 'brain-peer-token',
      labels: { 'hal9.ai/cluster': 'brain' },
      ownerReferences: [neuronRef('a'), neuronRef('b')],
    });
  });
});
