import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { labels } from '../api-types.ts';
import { fromApiError } from '../errors.ts';
import { makeClient } from './api-client.ts';

/** The pods of one Neuron (by its hal9.ai/neuron label). */
export type NeuronPodLister = (namespace: string, neuron: string) => Promise<readonly V1Pod[]>;

/**
 * Read only while a Neuron's rollout is incomplete, to say why its pods do not run: a pod informer
 * would hold every runtime pod of the cluster for what is needed only during rollouts.
 */
export function createNeuronPodLister(kc: KubeConfig): NeuronPodLister {
  const core = makeClient(kc, CoreV1Api, 15_000);
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
