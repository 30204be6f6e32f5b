import type { V1OwnerReference } from '@kubernetes/client-node';
import type { Hal9Cluster } from '../generated/hal9cluster.gen.ts';
import type { Neuron } from '../generated/neuron.gen.ts';
import { neuronOwnerReference } from './labels.ts';

// A Hal9Cluster's token Secrets and NetworkPolicies are made once per cluster, but its Neurons' pods
// are what need them: the pods mount the Secrets (a pod that starts without them waits in
// ContainerCreating) and the policies keep their ingress isolated. A Neuron the cluster does not own
// (--no-neuron-cluster-owner) outlives the cluster, and so do its pods. The garbage collector deletes
// a dependent only once every one of its owners is gone, so each such Neuron is made an owner of
// what its pods need as well: the objects stay while one of them is left, and go with the last.
// The token Secrets are only ever created, so they keep the owners they were made with; those the
// cluster alone owned are made again for the Neurons once it is gone (reconcile/cluster-gone.ts).

/** The controller ownerReference to the Hal9Cluster: the object goes when the cluster goes. */
export function clusterOwnerReference(cluster: Hal9Cluster): V1OwnerReference {
  return {
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Hal9Cluster',
    name: cluster.metadata?.name ?? '',
    uid: cluster.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * A Neuron as one more owner of its cluster's shared objects: not their controller (the cluster is),
 * and no blockOwnerDeletion, so a Neuron's foreground deletion does not wait for objects its peers
 * still use.
 */
export function sharingNeuronReference(neuron: Neuron): V1OwnerReference {
  return { ...neuronOwnerReference(neuron), controller: false, blockOwnerDeletion: false };
}

/**
 * The Neurons of `cluster` that would outlive it with pods that need its shared objects, by name:
 * they name it, are not being deleted, have been rendered (status.observedGeneration above 0: their
 * Deployment exists), and carry no ownerReference to it (those the garbage collector deletes with
 * the cluster). Not by running pods: a Neuron scaled to zero, or whose pods' count status did not
 * show yet, may run pods later, and an owner coming and going with its replicas re-applied the
 * policies each time. With the reference on, a Neuron gets it at the start of its first pass, before
 * anything of it is rendered, held or applied and before its status is written, so none qualifies and
 * nothing changes (unless the apiserver refused the reference: then it does outlive). A cluster that is gone
 * (no uid) is matched by name.
 * Pure: `neurons` are read, never changed.
 */
export function outlivingNeurons(cluster: Hal9Cluster, neurons: readonly Neuron[]): Neuron[] {
  const { name, uid } = cluster.metadata ?? {};
  const ownedByCluster = (n: Neuron) =>
    (n.metadata?.ownerReferences ?? []).some(
      (r) =>
        r.kind === 'Hal9Cluster' &&
        r.apiVersion.split('/')[0] === 'hal9.ai' &&
        (uid ? r.uid === uid : r.name === name),
    );
  return neurons
    .filter(
      (n) =>
        n.spec?.cluster === name &&
        n.metadata?.uid &&
        !n.metadata.deletionTimestamp &&
        // Rendered at least once (a Neuron paused since its creation writes 0 and has no Deployment).
        (n.status?.observedGeneration ?? 0) > 0 &&
        !ownedByCluster(n),
    )
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/**
 * The owners of an object shared by a cluster's pods: the cluster (when it exists: one gone has no
 * uid), then each Neuron that outlives it (outlivingNeurons, in that order). Server-side apply merges
 * ownerReferences by uid, so one apply of a policy with this whole list by the operator's field
 * manager adds the Neurons that came and takes back the ones that went (the list changes the
 * policy's applied hash), and leaves references other managers added alone.
 */
export function sharedOwnerReferences(
  cluster: Hal9Cluster,
  outliving: readonly Neuron[],
): V1OwnerReference[] {
  return [
    ...(cluster.metadata?.uid ? [clusterOwnerReference(cluster)] : []),
    ...outliving.map(sharingNeuronReference),
  ];
}
