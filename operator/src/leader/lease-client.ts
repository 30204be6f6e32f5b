import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { fromApiError } from '../errors.ts';
import { makeClient } from '../kube/api-client.ts';
import type { WriteCounter } from '../kube/writer.ts';

/** The three Lease calls leader election needs; `replace` is a compare-and-swap on resourceVersion. */
export interface LeaseClient {
  get(): Promise<V1Lease | undefined>;
  create(lease: V1Lease): Promise<V1Lease>;
  replace(lease: V1Lease): Promise<V1Lease>;
}

export function createLeaseClient(
  kc: KubeConfig,
  namespace: string,
  name: string,
  count: WriteCounter,
): LeaseClient {
  // Shorter than the renew deadline, so a hung renewal counts as a failed one.
  const api = makeClient(kc, CoordinationV1Api, 5_000);
  return {
    async get() {
      try {
        return await api.readNamespacedLease({ name, namespace });
      } catch (err) {
        const e = fromApiError(err, 'Lease read');
        if (e.status === 404) return undefined;
        throw e;
      }
    },
    async create(lease) {
      count('leases', 'create');
      try {
        return await api.createNamespacedLease({ namespace, body: lease });
      } catch (err) {
        throw fromApiError(err, 'Lease create');
      }
    },
    async replace(lease) {
      count('leases', 'update');
      try {
        return await api.replaceNamespacedLease({ name, namespace, body: lease });
      } catch (err) {
        throw fromApiError(err, 'Lease update');
      }
    },
  };
}
