import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import type { Hal9Cluster, Hal9ClusterSpec } from '../generated/hal9cluster.gen.ts';
import type { Neuron, NeuronSpec, NeuronStatus } from '../generated/neuron.gen.ts';

export const testNamespace = 'hal9-test';

interface MetaOptions {
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
}

/** A Hal9Cluster as a client would read it, without server-side defaults (render applies them). */
export function aHal9Cluster(spec: Hal9ClusterSpec = {}, name = 'hal9', meta: MetaOptions = {}): Hal9Cluster {
  return {
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Hal9Cluster',
    metadata: {
      name,
      namespace: meta.namespace ?? testNamespace,
      uid: meta.uid ?? `uid-cluster-${name}`,
      generation: meta.generation ?? 1,
    },
    spec,
  };
}

/** A Neuron of cluster `hal9`, layer L2, unless the spec says otherwise. */
export function aNeuron(
  name: string,
  spec: Partial<NeuronSpec> = {},
  meta: MetaOptions & { readonly status?: NeuronStatus } = {},
): Neuron {
  return {
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Neuron',
    metadata: {
      name,
      namespace: meta.namespace ?? testNamespace,
      uid: meta.uid ?? `uid-neuron-${name}`,
      generation: meta.generation ?? 1,
    },
    spec: { cluster: 'hal9', layer: 'L2', ...spec },
    ...(meta.status ? { status: meta.status } : {}),
  };
}

/** The ownerReferences of a child the operator made for Neuron `name` (as aNeuron names its uid). */
export function ownedByNeuron(name: string, uid = `uid-neuron-${name}`) {
  return [
    { apiVersion: 'hal9.ai/v1alpha1', kind: 'Neuron', name, uid, controller: true, blockOwnerDeletion: true },
  ];
}

/** The runtime's default topology as Neurons: strategic-1 (L4) → design-1 (L3) → impl-1 (L2). */
export function defaultTopology(cluster = 'hal9'): readonly Neuron[] {
  return [
    aNeuron('strategic-1', { cluster, layer: 'L4', forwardConnections: ['design-1'] }),
    aNeuron('design-1', {
      cluster,
      layer: 'L3',
      forwardConnections: ['impl-1'],
      backwardConnections: ['strategic-1'],
    }),
    aNeuron('impl-1', { cluster, layer: 'L2', backwardConnections: ['design-1'] }),
  ];
}

/**
 * A runtime pod that is scheduled but Pending, its container waiting with `reason`: what the
 * kubelet reports while it cannot start the container (a Secret to mount, an image to pull).
 * `scheduledAt` sets the PodScheduled condition's time, which says how long it has waited.
 */
export function aWaitingPod(o: {
  readonly name: string;
  readonly namespace?: string;
  readonly reason: string;
  readonly message?: string;
  readonly scheduledAt?: Date;
  readonly volumes?: V1Volume[];
}): V1Pod {
  return {
    metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) },
    ...(o.volumes ? { spec: { containers: [{ name: 'runtime' }], volumes: o.volumes } } : {}),
    status: {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'True',
          ...(o.scheduledAt ? { lastTransitionTime: o.scheduledAt } : {}),
        },
      ],
      containerStatuses: [
        {
          name: 'runtime',
          ready: false,
          restartCount: 0,
          image: 'x',
          imageID: '',
          state: { waiting: { reason: o.reason, ...(o.message ? { message: o.message } : {}) } },
        },
      ],
    },
  };
}

/** A Deployment status as its controller writes it once `replicas` pods of generation 1 are available. */
export function aRolledOutStatus(replicas = 1) {
  return {
    observedGeneration: 1,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [{ type: 'Available', status: 'True' }],
  };
}
