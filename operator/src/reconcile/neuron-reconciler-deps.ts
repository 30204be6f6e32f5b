import type { Hal9Cluster, Neuron, RenderNeuron } from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import type { EventRecorder } from '../events/recorder.ts';
import type { SharedClusterReader } from '../kube/cluster-reader.ts';
import type { LiveObjectReader } from '../kube/live-object-reader.ts';
import type { NeuronPodLister } from '../kube/pod-lister.ts';
import type { KubeWriter } from '../kube/writer.ts';
import type { Logger } from '../logger.ts';
import type { ChildKind, ChildReader } from './child-kinds.ts';
import type { DepartedPeers } from './departed-peers.ts';

export interface NeuronReconcilerDeps {
  readonly neurons: ObjectReader<Neuron>;
  readonly clusters: ObjectReader<Hal9Cluster>;
  readonly children: Readonly<Record<ChildKind, ChildReader>>;
  readonly render: RenderNeuron;
  readonly writer: KubeWriter;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly operatorNamespace?: string;
  readonly onParallelism?: (namespace: string, neuron: string, value: number | undefined) => void;
  readonly onApplySkipped?: (kind: string) => void;
  /** The Neuron's pods, read while its rollout is incomplete to say why they do not run. */
  readonly listPods?: NeuronPodLister;
  /** Give each Neuron an ownerReference to its Hal9Cluster (--neuron-cluster-owner, the default). */
  readonly clusterOwner?: boolean;
  /** Neurons deleted moments ago, still rendered as peers of those naming them (departed-peers.ts). */
  readonly departedPeers?: DepartedPeers;
  /** The cluster as the apiserver holds it: the uid an ownerReference names is never a cache's. */
  readonly readCluster: SharedClusterReader;
  /**
   * A child as the apiserver holds it, read before one is created (absent from the labelled child
   * caches): an object of that name the Neuron does not control is never applied over.
   */
  readonly readChild: LiveObjectReader;
  /** When the informer delivered a Neuron's current version (NeuronSeen.at): shares cluster reads. */
  readonly neuronSeenAt?: (key: string) => number | undefined;
  /** How long a new Neuron's first status may wait for its first rollout (first-status.ts; 0: none). */
  readonly firstStatusWaitMs?: number;
}
