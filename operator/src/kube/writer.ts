import {
  type CoreV1Event,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { apiVersion, fieldManager, group, version } from '../api-types.ts';
import { fromApiError, OperatorError, OperatorErrorCode } from '../errors.ts';
import type { KubeClients } from './clients.ts';
import type { JsonPatchOp } from './name-conflicts.ts';

export interface StatusTarget {
  readonly kind: string;
  readonly plural: string;
  readonly namespace: string;
  readonly name: string;
}

/** Every mutating request the reconcilers make goes through here, so it is counted in one place. */
export interface KubeWriter {
  /** Server-side apply (force, field manager `hal9-operator` unless another is named). */
  apply<T extends KubernetesObject>(obj: T, options?: { manager?: string; force?: boolean }): Promise<T>;
  /** Server-side apply of `status` on the status subresource of one of our custom resources. */
  applyStatus(target: StatusTarget, status: object): Promise<void>;
  /**
   * A JSON patch of a child (a Service or Deployment), recorded under `manager`: only to remove list
   * items that block an apply (name-conflicts.ts), guarded by its own `test` ops.
   */
  jsonPatch(obj: KubernetesObject, ops: readonly JsonPatchOp[], options: { manager: string }): Promise<void>;
  createEvent(event: CoreV1Event): Promise<void>;
  /** Deletes a child that is no longer rendered (background propagation). */
  delete(obj: KubernetesObject): Promise<void>;
  /**
   * This writer for one reconcile: a write does not start once `signal` aborted (the reconcile is past
   * its deadline; the controller files it as HAL9_ERR_RECONCILE_TIMEOUT and retries with backoff), so
   * a late pass writes nothing stale. A write under way ends at its own request deadline.
   */
  within(signal: AbortSignal): KubeWriter;
}

/** `w`, each write first checking `signal` (KubeWriter.within). */
export function gated(w: KubeWriter, signal: AbortSignal): KubeWriter {
  const gate =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      if (signal.aborted) return Promise.reject(signal.reason);
      return write(...args);
    };
  return {
    apply: gate(w.apply),
    applyStatus: gate(w.applyStatus),
    jsonPatch: gate(w.jsonPatch),
    createEvent: gate(w.createEvent),
    delete: gate(w.delete),
    within: (other) => gated(w, AbortSignal.any([signal, other])),
  };
}

export type WriteCounter = (resource: string, verb: string) => void;

// Without an explicit Content-Type client-node sends json-patch, which the apiserver rejects for an object body.
const applyContentType = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const jsonPatchContentType = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** The writer over `clients` (with the default deadline, clients.ts defaultTimeoutMs). */
export function createKubeWriter(
  clients: Pick<KubeClients, 'objects' | 'custom' | 'core' | 'apps'>,
  count: WriteCounter,
): KubeWriter {
  const { objects, custom, core, apps } = clients;
  const writer: KubeWriter = {
    async apply(obj, options) {
      count(resourceOf(obj), 'apply');
      try {
        return await objects.patch(
          obj,
          undefined,
          undefined,
          options?.manager ?? fieldManager,
          options?.force ?? true,
          PatchStrategy.ServerSideApply,
        );
      } catch (err) {
        throw fromApiError(err, `Apply of ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`);
      }
    },
    async applyStatus(target, status) {
      count(`${target.plural}/status`, 'apply');
      try {
        await custom.patchNamespacedCustomObjectStatus(
          {
            group,
            version,
            plural: target.plural,
            namespace: target.namespace,
            name: target.name,
            body: {
              apiVersion,
              kind: target.kind,
              metadata: { name: target.name, namespace: target.namespace },
              status,
            },
            fieldManager,
            force: true,
          },
          applyContentType,
        );
      } catch (err) {
        throw fromApiError(err, `Status apply of ${target.kind} ${target.namespace}/${target.name}`);
      }
    },
    async jsonPatch(obj, ops, options) {
      count(resourceOf(obj), 'patch');
      const { name = '', namespace = '' } = obj.metadata ?? {};
      const request = { name, namespace, body: ops, fieldManager: options.manager };
      if (obj.kind !== 'Service' && obj.kind !== 'Deployment') {
        throw new OperatorError(OperatorErrorCode.Unexpected, `no JSON patch for kind ${obj.kind}`);
      }
      try {
        if (obj.kind === 'Service') await core.patchNamespacedService(request, jsonPatchContentType);
        else await apps.patchNamespacedDeployment(request, jsonPatchContentType);
      } catch (err) {
        throw fromApiError(err, `Patch of ${obj.kind} ${namespace}/${name}`);
      }
    },
    async createEvent(event) {
      count('events', 'create');
      try {
        await core.createNamespacedEvent({ namespace: event.metadata.namespace ?? 'default', body: event });
      } catch (err) {
        throw fromApiError(err, 'Event create');
      }
    },
    async delete(obj) {
      count(resourceOf(obj), 'delete');
      // Only the object seen (its uid): one deleted and made again under its name by someone else
      // since the cache saw it is not ours to delete. The apiserver refuses that with 409, as gone.
      const uid = obj.metadata?.uid;
      try {
        await objects.delete(
          obj,
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
          uid ? { preconditions: { uid } } : undefined,
        );
      } catch (err) {
        const e = fromApiError(err, `Delete of ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`);
        if (e.status !== 404 && !(uid && e.status === 409)) throw e;
      }
    },
    within: (signal) => gated(writer, signal),
  };
  return writer;
}

const resourceOf = (obj: KubernetesObject): string => resourceName(obj.kind ?? 'unknown');

/**
 * The resource name of a kind, as the apiserver serves it (the `resource` label of the writes
 * counter): apimachinery's guess from the kind, right for every kind the operator writes
 * (NetworkPolicy → networkpolicies, HorizontalPodAutoscaler → horizontalpodautoscalers).
 */
export function resourceName(kind: string): string {
  const singular = kind.toLowerCase();
  if (singular.endsWith('s')) return `${singular}es`;
  if (singular.endsWith('y')) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
}
