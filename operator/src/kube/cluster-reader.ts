import type { KubernetesObjectApi } from '@kubernetes/client-node';
import { apiVersion, type Hal9Cluster } from '../api-types.ts';
import { fromApiError } from '../errors.ts';

/** A Hal9Cluster as the apiserver holds it (undefined when there is none), not as our cache does. */
export type LiveClusterReader = (namespace: string, name: string) => Promise<Hal9Cluster | undefined>;

/**
 * Read before a Neuron is given an ownerReference to its cluster: our cache behind a deleted and
 * re-created cluster holds the old uid (its watch was down, an apiserver restart), and a Neuron
 * owned by a uid that no longer exists is deleted by the garbage collector. `objects`: a client
 * with a read's deadline reading from the apiserver's watch cache (clients.ts cachedObjects),
 * which follows etcd within milliseconds whatever our own watches went through, without a read of
 * etcd for each new Neuron.
 */
export function createLiveClusterReader(objects: KubernetesObjectApi): LiveClusterReader {
  return async (namespace, name) => {
    try {
      return (await objects.read({
        apiVersion,
        kind: 'Hal9Cluster',
        metadata: { namespace, name },
      })) as Hal9Cluster;
    } catch (err) {
      const e = fromApiError(err, `Read of Hal9Cluster ${namespace}/${name}`);
      if (e.status === 404) return undefined;
      throw e;
    }
  };
}
