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
