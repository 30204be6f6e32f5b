import type { Neuron } from '../api-types.ts';
import { hasClusterOwner } from './cluster-owner.ts';

/**
 * How long a Neuron whose Hal9Cluster is gone is left to the garbage collector before it is
 * reported ClusterNotFound, when it names that cluster as owner.
 */
export const CLUSTER_COLLECTION_WAIT_MS = 30_000;

/**
 * Deleting a Hal9Cluster deletes its Neurons (cluster-owner.ts), and its delete event reconciles
 * each of them first: a Warning Event and a Degraded status for every Neuron of a cluster deleted on
 * purpose would report what is meant to happen. A Neuron whose ownerReference names the gone
 * cluster (`spec.cluster`) is left alone for CLUSTER_COLLECTION_WAIT_MS, as the collector deletes
 * it; one still there after that (another owner keeps it, the collector is behind, an orphaning
 * delete took the reference after this pass) is reported as any other. Per Neuron key and uid:
 * a Neuron re-created under the same name waits afresh.
 */
export function clusterCollection() {
  const since = new Map<string, { readonly uid: string; readonly at: number }>();
  return {
    /** How long the Neuron `key` is still left to the collector, or undefined when it is not (or no more). */
    waitLeftMs(key: string, neuron: Neuron, nowMs: number): number | undefined {
      if (!hasClusterOwner(neuron, neuron.spec?.cluster ?? '')) {
        since.delete(key);
        return undefined;
      }
      const uid = neuron.metadata?.uid ?? '';
      let seen = since.get(key);
      if (seen?.uid !== uid) {
        seen = { uid, at: nowMs };
        since.set(key, seen);
      }
      const left = seen.at + CLUSTER_COLLECTION_WAIT_MS - nowMs;
      return left > 0 ? left : undefined;
    },
    /** The Neuron is gone, or its cluster is there. */
    forget(key: string): void {
      since.delete(key);
    },
  };
}
