import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { fromApiError } from '../errors.ts';
import { abortedBy } from '../kube/api-client.ts';
import type { WriteCounter } from '../kube/writer.ts';

/**
 * The three Lease calls leader election needs; `replace` is a compare-and-swap on resourceVersion.
 * Each call is abandoned when `signal` aborts: the elector's budget for one attempt.
 */
export interface LeaseClient {
  get(signal?: AbortSignal): Promise<V1Lease | undefined>;
  create(lease: V1Lease, signal?: AbortSignal): Promise<V1Lease>;
  replace(lease: V1Lease, signal?: AbortSignal): Promise<V1Lease>;
}

/**
 * The deadline of the client the composition root passes to createLeaseClient. A backstop only: the
 * elector bounds each attempt by the time left before its renew deadline.
 */
export const leaseTimeoutMs = 5_000;

export function createLeaseClient(
  api: CoordinationV1Api,
  namespace: string,
  name: string,
  count: WriteCounter,
): LeaseClient {
  return {
    async get(signal) {
      try {
        return await api.readNamespacedLease({ name, namespace }, abortedBy(signal));
      } catch (err) {
        const e = fromApiError(err, 'Lease read');
        if (e.status === 404) return undefined;
        throw e;
      }
    },
    async create(lease, signal) {
      count('leases', 'create');
      try {
        return await api.createNamespacedLease({ namespace, body: lease }, abortedBy(signal));
      } catch (err) {
        throw fromApiError(err, 'Lease create');
      }
    },
    async replace(lease, signal) {
      count('leases', 'update');
      try {
        return await api.replaceNamespacedLease({ name, namespace, body: lease }, abortedBy(signal));
      } catch (err) {
        throw fromApiError(err, 'Lease update');
      }
    },
  };
}
