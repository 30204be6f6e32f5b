import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Neuron } from '../api-types.ts';
import { aNeuron, testNamespace } from '../testing/builders.ts';
import { CLUSTER_SUMMARY_DELAY_MS, watchHandlers } from './watches.ts';

const ns = testNamespace;

function setup(initial: Neuron[] = []) {
  const cache = new Map(initial.map((n) => [n.metadata!.name!, n]));
  const neuronKeys: string[] = [];
  const clusterKeys: string[] = [];
  const delayedClusterKeys: [string, number][] = [];
  const reader = {
    get: (name: string) => cache.get(name),
    list: () => [...cache.values()],
  };
  const h = watchHandlers(reader, {
    neurons: { add: (k) => neuronKeys.push(k) },
    clusters: {
      add: (k) => clusterKeys.push(k),
      addAfter: (k, ms) => delayedClusterKeys.push([k, ms]),
    },
  });
  const add = (n: Neuron) => {
    cache.set(n.metadata!.name!, n);
    h.neuron.add?.(n);
  };
  const update = (n: Neuron) => {
    cache.set(n.metadata!.name!, n);
    h.neuron.update?.(n);
  };
  const remove = (n: Neuron) => {
    cache.delete(n.metadata!.name!);
    h.neuron.delete?.(n);
  };
  const take = () => neuronKeys.splice(0).sort();
  return { add, update, remove, take, clusterKeys, delayedClusterKeys, handlers: h };
}

describe('watchHandlers: Neurons', () => {
  it('enqueues the Neuron at once and its Hal9Cluster after the summary delay, on every change', () => {
    const t = setup();
    const a = aNeuron('a', { cluster: 'brain' });
    t.add(a);
    t.update({ ...a, status: { replicas: 1 } } as Neuron);
    t.update({ ...a, spec: { ...a.spec!, cluster: 'other' } } as Neuron);
    t.remove(a);
    expect(t.take()).toEqual([`${ns}/a`, `${ns}/a`, `${ns}/a`, `${ns}/a`]);
    // Never at once: a burst of Neuron changes becomes one status summary per delay (the queue keeps
    // the earliest pending time per key).
    expect(t.clusterKeys).toEqual([]);
    expect(t.delayedClusterKeys).toEqual([
      [`${ns}/brain`, CLUSTER_SUMMARY_DELAY_MS],
      [`${ns}/brain`, CLUSTER_SUMMARY_DELAY_MS],
      [`${ns}/other`, CLUSTER_SUMMARY_DELAY_MS],
      [`${ns}/brain`, CLUSTER_SUMMARY_DELAY_MS],
      [`${ns}/brain`, CLUSTER_SUMMARY_DELAY_MS],
    ]);
    expect(CLUSTER_SUMMARY_DELAY_MS).toBeGreaterThan(0);
  });

  it('enqueues a Neuron and the Neurons whose connections name it, and no others', () => {
    const t = setup();
    t.add(aNeuron('a', { forwardConnections: ['c'] }));
    t.add(aNeuron('b', { backwardConnections: ['c'] }));
    t.add(aNeuron('x'));
    t.take();
    t.add(aNeuron('c'));
    expect(t.take()).toEqual([`${ns}/a`, `${ns}/b`, `${ns}/c`]);
  });

  it('follows changed connections: a Neuron no longer naming a peer is not enqueued for it', () => {
    const t = setup();
    t.add(aNeuron('c'));
    t.add(aNeuron('a', { forwardConnections: ['c'] }));
    t.update(aNeuron('a', { forwardConnections: ['d'] }, { generation: 2 }));
    t.add(aNeuron('d'));
    t.take();
    t.update(aNeuron('c', { layer: 'L3' }, { generation: 2 }));
    expect(t.take()).toEqual([`${ns}/c`]);
    t.update(aNeuron('d', { layer: 'L3' }, { generation: 2 }));
    expect(t.take()).toEqual([`${ns}/a`, `${ns}/d`]);
  });

  it('enqueues referrers when a peer is deleted, and forgets a deleted referrer', () => {
    const t = setup();
    t.add(aNeuron('c'));
    const a = aNeuron('a', { forwardConnections: ['c'] });
    t.add(a);
    t.take();
    t.remove(aNeuron('c'));
    expect(t.take()).toEqual([`${ns}/a`, `${ns}/c`]);
    t.remove(a);
    t.take();
    t.add(aNeuron('c'));
    expect(t.take()).toEqual([`${ns}/c`]);
  });

  it('does not fan out to referrers for a spec change they do not render (not the layer)', () => {
    const t = setup();
    t.add(aNeuron('c'));
    t.add(aNeuron('a', { forwardConnections: ['c'] }));
    t.take();
    t.update(aNeuron('c', { systemPrompt: 'edited' }, { generation: 2 }));
    expect(t.take()).toEqual([`${ns}/c`]);
    t.update(aNeuron('c', { layer: 'L3', systemPrompt: 'edited' }, { generation: 3 }));
    expect(t.take()).toEqual([`${ns}/a`, `${ns}/c`]);
  });

  it('does not fan out to referrers for a status-only update', () => {
    const t = setup();
    t.add(aNeuron('c'));
    t.add(aNeuron('a', { forwardConnections: ['c'] }));
    t.take();
    t.update(aNeuron('c'));
    expect(t.take()).toEqual([`${ns}/c`]);
  });

  it('fans out for one deleted and re-created under its name while the watch was down (same generation, new uid)', () => {
    const t = setup();
    t.add(aNeuron('c'));
    t.add(aNeuron('a', { forwardConnections: ['c'] }));
    t.take();
    t.update(aNeuron('c', { layer: 'L3' }, { uid: 'uid-neuron-c-2' }));
    expect(t.take()).toEqual([`${ns}/a`, `${ns}/c`]);
  });
});

describe("watchHandlers: a Hal9Cluster's NetworkPolicies", () => {
  const policy = (metadata: V1ObjectMeta): KubernetesObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: ns, ...metadata },
  });
  const owner = {
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Hal9Cluster',
    name: 'brain',
    uid: 'u-1',
    controller: true,
  };

  it('reconciles a Hal9Cluster at once on a spec change, and after the summary delay on its own status writes', () => {
    const t = setup();
    const c = (generation: number) =>
      ({ metadata: { name: 'brain', namespace: ns, generation } }) as Parameters<
        NonNullable<typeof t.handlers.cluster.add>
      >[0];
    t.handlers.cluster.add?.(c(1));
    t.clusterKeys.splice(0);
    t.handlers.cluster.update?.(c(1));
    expect(t.clusterKeys).toEqual([]);
    expect(t.delayedClusterKeys).toEqual([[`${ns}/brain`, CLUSTER_SUMMARY_DELAY_MS]]);
    t.handlers.cluster.update?.(c(2));
    expect(t.clusterKeys).toEqual([`${ns}/brain`]);
    // Deleted and re-created while the watch was down: an update at the same generation, a new uid.
    t.clusterKeys.splice(0);
    t.handlers.cluster.update?.({ ...c(2), metadata: { ...c(2).metadata, uid: 'new' } });
    expect(t.clusterKeys).toEqual([`${ns}/brain`]);
    // Deleted: its own key too, so a reconcile finds it gone (and a failure it last had is cleared).
    t.clusterKeys.splice(0);
    t.handlers.cluster.delete?.(c(2));
    expect(t.clusterKeys).toEqual([`${ns}/brain`]);
  });

  it('enqueues the owning Hal9Cluster on add, update and delete, and no Neuron', () => {
    const t = setup([aNeuron('a', { cluster: 'brain' })]);
    t.take();
    t.clusterKeys.length = 0;
    const p = policy({
      name: 'brain-hal9-runtime',
      ownerReferences: [owner],
      labels: { 'hal9.ai/cluster': 'brain' },
    });
    t.handlers.clusterChild.add?.(p);
    t.handlers.clusterChild.update?.(p);
    t.handlers.clusterChild.delete?.(p);
    expect(t.clusterKeys).toEqual([`${ns}/brain`, `${ns}/brain`, `${ns}/brain`]);
    expect(t.take()).toEqual([]);
  });

  it('follows the ownerReference when the label was edited away, else the label', () => {
    const t = setup();
    t.handlers.clusterChild.delete?.(policy({ name: 'brain-hal9-entry', ownerReferences: [owner] }));
    t.handlers.clusterChild.update?.(policy({ name: 'x', labels: { 'hal9.ai/cluster': 'other' } }));
    t.handlers.clusterChild.update?.(policy({ name: 'unowned' }));
    expect(t.clusterKeys).toEqual([`${ns}/brain`, `${ns}/other`]);
  });
});
