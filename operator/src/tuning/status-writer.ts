import { type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { apiVersion, group, version } from '../api-types.ts';
import { fromApiError } from '../errors.ts';
import type { WriteCounter } from '../kube/writer.ts';
import type { TunerStatus } from '../status/parallelism-status.ts';

/**
 * Field manager of the tuner's status part. It differs from the reconciler's, so each manager's
 * server-side apply keeps the fields the other one owns (status.parallelism.lastDecision and the
 * ParallelismTuned condition survive the reconciler's status writes, and the other way round).
 */
export const tunerFieldManager = 'hal9-operator-tuner';

/**
 * Applies the tuner's status part to a Neuron (an empty one releases it); resolves false when the
 * Neuron is gone.
 */
export type TunerStatusWriter = (
  namespace: string,
  name: string,
  status: TunerStatus | Record<string, never>,
) => Promise<boolean>;

const applyContentType = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export function createTunerStatusWriter(custom: CustomObjectsApi, count: WriteCounter): TunerStatusWriter {
  return async (namespace, name, status) => {
    count('neurons/status', 'apply');
    try {
      await custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          plural: 'neurons',
          namespace,
          name,
          body: { apiVersion, kind: 'Neuron', metadata: { name, namespace }, status },
          fieldManager: tunerFieldManager,
          force: true,
        },
        applyContentType,
      );
      return true;
    } catch (err) {
      const e = fromApiError(err, `Status apply of Neuron ${namespace}/${name}`);
      if (e.status === 404) return false;
      throw e;
    }
  };
}
