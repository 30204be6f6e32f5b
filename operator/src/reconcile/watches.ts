import type { KubernetesObject } from '@kubernetes/client-node';
import { type Hal9Cluster, labels, type Neuron } from '../api-types.ts';
import type { InformerHandler } from '../controller/informer.ts';
import { keyOf, type ObjectReader } from '../controller/object-reader.ts';
import type { ChildKind } from './child-kinds.ts';

export interface Queues {
  readonly neurons: { add(key: string): void };
  readonly clusters: { add(key: string): void; addAfter(key: string, ms: number): void };
}

/**
 * How long a Hal9Cluster's reconcile waits after a change of one of its Neurons (or their
 * Services): its status summary counts them, so 200 Neurons becoming Ready one by one cost one
 * status write per second at most, not one per Neuron (the work queue keeps the earliest pending
 * time per key). Its own changes and its NetworkPolicies' are reconciled at once.
 */
export const CLUSTER_SUMMARY_DELAY_MS = 1000;

interface Seen {
  cluster: string;
  /** What the Neurons naming it render from it, with its name and cluster (neuron-peers.ts). */
  layer: string | undefined;
  /** One deleted and re-created under its name while a watch was down arrives as an update: a change. */
  uid: string | undefined;
}

const versionOf = (o: KubernetesObject & { metadata?: { generation?: number } }): string =>
  `${o.metadata?.uid}/${o.metadata?.generation}`;

/**
 * Event → key mapping. Informer callbacks only enqueue; the reconcilers read the caches.
 * - a Neuron: itself and, after CLUSTER_SUMMARY_DELAY_MS, its Hal9Cluster (status summary); when
 *   its layer changes or it comes or goes, also the Neurons whose connections name it (their
 *   rendered config lists its name and layer);
 * - a Hal9Cluster: itself (also when it goes); when its spec changes or it comes or goes, its Neurons;
 * - a child: its owning Neuron (controller ownerReference, else the hal9.ai/neuron label);
 *   a Service also its cluster (the entry endpoint), after CLUSTER_SUMMARY_DELAY_MS;
 * - a NetworkPolicy of a cluster: that Hal9Cluster (ownerReference, else the hal9.ai/cluster label),
 *   so one deleted or edited is applied again.
 */
export function watchHandlers(neurons: ObjectReader<Neuron>, queues: Queues) {
  const summarize = (key: string) => queues.clusters.addAfter(key, CLUSTER_SUMMARY_DELAY_MS);
  const seenNeurons = new Map<string, Seen>();
  const seenClusters = new Map<string, string>();
  const enqueueClusterNeurons = (namespace: string, cluster: string) => {
    for (const n of neurons.list(namespace)) {
      if (n.spec?.cluster === cluster) queues.neurons.add(keyOf(n));
    }
  };
  // A Neuron's render reads only the peers its connections name (their layer and cluster), so a
  // peer's change concerns just the Neurons that name it. They are indexed as Neurons come and go:
  // scanning every Neuron per event made the initial list of N Neurons O(N²).
  const referrers = new Map<string, Set<string>>(); // "ns/peer" → keys of the Neurons naming it
  const named = new Map<string, readonly string[]>(); // Neuron key → the "ns/peer"s it names
  const index = (key: string, n: Neuron | undefined) => {
    for (const peer of named.get(key) ?? []) {
      const keys = referrers.get(peer);
      keys?.delete(key);
      if (keys?.size === 0) referrers.delete(peer);
    }
    named.delete(key);
    if (!n) return;
    const ns = n.metadata?.namespace ?? '';
    const peers = new Set([...(n.spec?.forwardConnections ?? []), ...(n.spec?.backwardConnections ?? [])]);
    if (peers.size === 0) return;
    const keys = [...peers].map((p) => `${ns}/${p}`);
    named.set(key, keys);
    for (const peer of keys) {
      const set = referrers.get(peer) ?? new Set<string>();
      set.add(key);
      referrers.set(peer, set);
    }
  };
  const enqueueReferrers = (namespace: string, name: string) => {
    for (const key of referrers.get(`${namespace}/${name}`) ?? []) queues.neurons.add(key);
  };

  const neuron: InformerHandler<Neuron> = {
    add(n) {
      const key = keyOf(n);
      const cluster = n.spec?.cluster ?? '';
      seenNeurons.set(key, { cluster, layer: n.spec?.layer, uid: n.metadata?.uid });
      index(key, n);
      queues.neurons.add(key);
      summarize(`${n.metadata?.namespace}/${cluster}`);
      enqueueReferrers(n.metadata?.namespace ?? '', n.metadata?.name ?? '');
    },
    update(n) {
      const key = keyOf(n);
      const ns = n.metadata?.namespace ?? '';
      const cluster = n.spec?.cluster ?? '';
      const prev = seenNeurons.get(key);
      seenNeurons.set(key, { cluster, layer: n.spec?.layer, uid: n.metadata?.uid });
      index(key, n);
      queues.neurons.add(key);
      summarize(`${ns}/${cluster}`);
      if (prev && prev.cluster !== cluster) summarize(`${ns}/${prev.cluster}`);
      // Its referrers render only its name, cluster and layer: another spec change (a prompt edited
      // in a loop) reconciled every Neuron naming it for nothing, thousands of passes an edit.
      if (!prev || prev.uid !== n.metadata?.uid || prev.layer !== n.spec?.layer)
        enqueueReferrers(ns, n.metadata?.name ?? '');
    },
    delete(n) {
      const key = keyOf(n);
      seenNeurons.delete(key);
      index(key, undefined);
      queues.neurons.add(key);
      summarize(`${n.metadata?.namespace}/${n.spec?.cluster ?? ''}`);
      enqueueReferrers(n.metadata?.namespace ?? '', n.metadata?.name ?? '');
    },
  };

  const cluster: InformerHandler<Hal9Cluster> = {
    add(c) {
      seenClusters.set(keyOf(c), versionOf(c));
      queues.clusters.add(keyOf(c));
      enqueueClusterNeurons(c.metadata?.namespace ?? '', c.metadata?.name ?? '');
    },
    update(c) {
      const key = keyOf(c);
      const prev = seenClusters.get(key);
      seenClusters.set(key, versionOf(c));
      if (prev !== versionOf(c)) {
        queues.clusters.add(key);
        enqueueClusterNeurons(c.metadata?.namespace ?? '', c.metadata?.name ?? '');
      } else {
        // Our own status writes (and metadata edits) do not bump the generation: no fan-out to every
        // Neuron, and the summary after the same delay as a Neuron's change, so the write does not
        // start a reconcile of its own at once (200 Neurons converging wrote the status about 80
        // times instead of about 40).
        summarize(key);
      }
    },
    delete(c) {
      seenClusters.delete(keyOf(c));
      // Its own key too: the reconcile that finds it gone ends what the cluster's last one left (a
      // failing key in hal9_operator_reconcile_failing_keys, the Secrets its outliving Neurons need).
      queues.clusters.add(keyOf(c));
      enqueueClusterNeurons(c.metadata?.namespace ?? '', c.metadata?.name ?? '');
    },
  };

  const child = (kind: ChildKind): InformerHandler<KubernetesObject> => {
    const toOwner = (obj: KubernetesObject) => {
      const ns = obj.metadata?.namespace ?? '';
      const owner = ownerOf(obj, 'Neuron', labels.neuron);
      if (owner) queues.neurons.add(`${ns}/${owner}`);
      const c = obj.metadata?.labels?.[labels.cluster];
      if (kind === 'Service' && c) summarize(`${ns}/${c}`);
    };
    return { add: toOwner, update: toOwner, delete: toOwner };
  };

  const toCluster = (obj: KubernetesObject) => {
    const c = ownerOf(obj, 'Hal9Cluster', labels.cluster);
    if (c) queues.clusters.add(`${obj.metadata?.namespace ?? ''}/${c}`);
  };
  const clusterChild: InformerHandler<KubernetesObject> = {
    add: toCluster,
    update: toCluster,
    delete: toCluster,
  };
  return { neuron, cluster, child, clusterChild };
}

/** The name of the hal9.ai object of `kind` that controls `obj` (ownerReference), else its label. */
function ownerOf(obj: KubernetesObject, kind: 'Neuron' | 'Hal9Cluster', label: string): string | undefined {
  const ref = obj.metadata?.ownerReferences?.find(
    (r) => r.controller && r.kind === kind && r.apiVersion.startsWith('hal9.ai/'),
  );
  return ref?.name ?? obj.metadata?.labels?.[label];
}
