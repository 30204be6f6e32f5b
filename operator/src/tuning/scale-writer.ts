import { type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { group, version } from '../api-types.ts';
import { fromApiError } from '../errors.ts';
import type { WriteCounter } from '../kube/writer.ts';

import { autoscalerFieldManager } from '../render/operator-replicas.ts';

/**
 * Sets a Neuron's spec.replicas through its scale subresource; resolves the Neuron's resourceVersion
 * after the write ('' when the answer has none), or false when it is gone.
 */
export type NeuronScaler = (namespace: string, name: string, replicas: number) => Promise<string | false>;

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function createNeuronScaler(custom: CustomObjectsApi, count: WriteCounter): NeuronScaler {
  return async (namespace, name, replicas) => {
    count('neurons/scale', 'patch');
    try {
      const scale = (await custom.patchNamespacedCustomObjectScale(
        {
          group,
          version,
          plural: 'neurons',
          namespace,
          name,
          body: { spec: { replicas } },
          fieldManager: autoscalerFieldManager,
        },
        mergePatch,
      )) as { metadata?: { resourceVersion?: string } } | undefined;
      return scale?.metadata?.resourceVersion ?? '';
    } catch (err) {
      const e = fromApiError(err, `Scale of Neuron ${namespace}/${name}`);
      if (e.status === 404) return false;
      throw e;
    }
  };
}
