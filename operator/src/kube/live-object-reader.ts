import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { fromApiError } from '../errors.ts';

/** An object as the apiserver holds it now (undefined when there is none), by kind, namespace and name. */
export type LiveObjectReader = (obj: KubernetesObject) => Promise<KubernetesObject | undefined>;

/**
 * Read only before a child is first created: the child caches hold only objects the operator
 * labelled, so one missing there may still exist under that name, made by someone else. `objects`:
 * a client with a read's deadline (clients.ts readTimeoutMs).
 */
export function createLiveObjectReader(objects: KubernetesObjectApi): LiveObjectReader {
  return async (obj) => {
    const { name = '', namespace = '' } = obj.metadata ?? {};
    try {
      return await objects.read({
        apiVersion: obj.apiVersion ?? '',
        kind: obj.kind ?? '',
        metadata: { name, namespace },
      });
    } catch (err) {
      const e = fromApiError(err, `Read of ${obj.kind} ${namespace}/${name}`);
      if (e.status === 404) return undefined;
      throw e;
    }
  };
}
