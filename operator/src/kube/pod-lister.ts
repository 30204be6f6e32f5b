import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { labels } from '../api-types.ts';
import { fromApiError } from '../errors.ts';

/** The pods of one Neuron (by its hal9.ai/neuron label). */
export type NeuronPodLister = (namespace: string, neuron: string) => Promise<readonly V1Pod[]>;

/**
 * Read only while a Neuron's rollout is incomplete, to say why its pods do not run: a pod informer
 * would hold every runtime pod of the cluster for what is needed only during rollouts. `core`: a
 * client with a read's deadline (clients.ts readTimeoutMs).
 */
export function createNeuronPodLister(core: CoreV1Api): NeuronPodLister {
  return async (namespace, neuron) => {
    try {
      return (
        await core.listNamespacedPod({ namespace, labelSelector: `${labels.neuron}=${neuron}`, limit: 500 })
      ).items;
    } catch (err) {
      throw fromApiError(err, `List of the pods of Neuron ${namespace}/${neuron}`);
    }
  };
}
