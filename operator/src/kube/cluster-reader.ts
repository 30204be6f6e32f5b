import type { CustomObjectsApi } from '@kubernetes/client-node';
import { group, type Hal9Cluster, version } from '../api-types.ts';
import { fromApiError } from '../errors.ts';

/** A Hal9Cluster as the apiserver holds it now (undefined when there is none), not as a cache does. */
export type LiveClusterReader = (namespace: string, name: string) => Promise<Hal9Cluster | undefined>;

/**
 * Read before a Neuron is given an ownerReference to its cluster: a cache behind a deleted and
 * re-created cluster holds the old uid, and a Neuron owned by a uid that no longer exists is
 * deleted by the garbage collector. `api`: a client with a read's deadline (clients.ts readTimeoutMs).
 */
export function createLiveClusterReader(api: CustomObjectsApi): LiveClusterReader {
  return async (namespace, name) => {
    try {
      return (await api.getNamespacedCustomObject({
        group,
        version,
        namespace,
        plural: 'hal9clusters',
        name,
      })) as Hal9Cluster;
    } catch (err) {
      const e = fromApiError(err, `Read of Hal9Cluster ${namespace}/${name}`);
      if (e.status === 404) return undefined;
      throw e;
    }
  };
}

/**
 * How long one live read of a Hal9Cluster answers for it. The Neurons of one `kubectl apply` or Argo
 * CD sync are reconciled within moments of each other, and each asked the apiserver for the same
 * cluster: 200 reads for one answer.
 */
export const CLUSTER_READ_REUSE_MS = 1_000;

/**
 * `read`, with one request in flight per cluster, its answer reused for `reuseMs` from when it was
 * asked, and only by a caller that saw its Neuron before the answer was asked (`seenAt`) and whose
 * cache agrees with it (`cachedUid`). An answer asked after the Neuron was delivered was asked after the
 * Neuron existed, so after any re-creation of the cluster before it: a Neuron made for a re-created
 * cluster is never named as owned by the gone uid (the garbage collector would delete it), even when
 * its cache still shows the old cluster. An answer naming another uid than the cache, none (not found),
 * or a cluster being deleted is read again. A failed read is not kept.
 */
export function sharedLiveClusterReader(
  read: LiveClusterReader,
  now: () => number,
  reuseMs = CLUSTER_READ_REUSE_MS,
): SharedClusterReader {
  const reads = new Map<string, { readonly at: number; readonly answer: Promise<Hal9Cluster | undefined> }>();
  return async (namespace, name, cachedUid, seenAt) => {
    const t = now();
    // Expired answers go when looked up, and all at once when many clusters were read.
    if (reads.size > 64) for (const [k, r] of reads) if (t - r.at >= reuseMs) reads.delete(k);
    const key = `${namespace}/${name}`;
    const kept = reads.get(key);
    const fresh = kept !== undefined && t - kept.at < reuseMs && t >= kept.at;
    if (fresh && seenAt !== undefined && kept.at >= seenAt) {
      const cluster = await kept.answer.catch(() => undefined);
      const agrees = cluster?.metadata?.uid === cachedUid && !cluster?.metadata?.deletionTimestamp;
      if (agrees) return cluster;
    }
    const answer = read(namespace, name);
    const entry = { at: t, answer };
    reads.set(key, entry);
    answer.catch(() => {
      if (reads.get(key) === entry) reads.delete(key);
    });
    return answer;
  };
}

/**
 * A LiveClusterReader told the uid the caller's cache holds for the cluster, and when the caller's
 * Neuron was delivered (NeuronSeen; undefined: never shared).
 */
export type SharedClusterReader = (
  namespace: string,
  name: string,
  cachedUid: string | undefined,
  seenAt: number | undefined,
) => Promise<Hal9Cluster | undefined>;
