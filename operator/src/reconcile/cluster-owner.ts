import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { apiVersion, type Hal9Cluster, type Neuron } from '../api-types.ts';

/** Field manager of the Neuron's ownerReference to its Hal9Cluster (and nothing else). */
export const clusterOwnerManager = 'hal9-operator-cluster-owner';

/**
 * Deleting a Hal9Cluster deletes its Neurons, and with them their Deployments, Services and HPAs:
 * each Neuron gets an ownerReference to its cluster and the garbage collector does the rest. A
 * Neuron cannot run without its cluster's defaults, so keeping it (Degraded, running the old
 * config) helps no one. Not a controller reference (the user owns the Neuron) and no
 * blockOwnerDeletion (the cluster's deletion does not wait for its Neurons).
 *
 * The server-side apply that adds the reference, or undefined when the Neuron has it already.
 */
export function clusterOwnerApply(neuron: Neuron, cluster: Hal9Cluster): KubernetesObject | undefined {
  const uid = cluster.metadata?.uid;
  if (!uid || neuron.metadata?.ownerReferences?.some((r) => r.uid === uid)) return undefined;
  const ref: V1OwnerReference = {
    apiVersion,
    kind: 'Hal9Cluster',
    name: cluster.metadata?.name ?? '',
    uid,
    controller: false,
    blockOwnerDeletion: false,
  };
  return {
    apiVersion,
    kind: 'Neuron',
    metadata: {
      name: neuron.metadata?.name ?? '',
      namespace: neuron.metadata?.namespace ?? '',
      ownerReferences: [ref],
    },
  } as KubernetesObject;
}
