import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { apiVersion, group, type Hal9Cluster, type Neuron } from '../api-types.ts';

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

/**
 * With the reference turned off (--no-neuron-cluster-owner): the server-side apply that takes back
 * the one clusterOwnerApply added, or undefined when the Neuron has no reference to a Hal9Cluster.
 * It sends nothing but the Neuron's identity under clusterOwnerManager, which owns that reference
 * alone: an apply drops the fields its manager applied before and sends no more, unless another
 * manager owns them too. A Neuron left with it would still be deleted with its cluster, and Argo CD
 * never prunes an object that has owners.
 */
export function clusterOwnerRelease(neuron: Neuron): KubernetesObject | undefined {
  if (!hasClusterOwner(neuron)) return undefined;
  return {
    apiVersion,
    kind: 'Neuron',
    metadata: { name: neuron.metadata?.name ?? '', namespace: neuron.metadata?.namespace ?? '' },
  } as KubernetesObject;
}

/**
 * Whether the Neuron has an ownerReference to a Hal9Cluster (of any version of the API group), or
 * to the one named `name`.
 */
export function hasClusterOwner(neuron: KubernetesObject | undefined, name?: string): boolean {
  return (neuron?.metadata?.ownerReferences ?? []).some(
    (r) =>
      r.kind === 'Hal9Cluster' &&
      r.apiVersion.split('/')[0] === group &&
      (name === undefined || r.name === name),
  );
}
