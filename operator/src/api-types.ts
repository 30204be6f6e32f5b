import type { KubernetesObject } from '@kubernetes/client-node';
import type { Hal9Cluster } from './generated/hal9cluster.gen.ts';
import type { Neuron } from './generated/neuron.gen.ts';

export type { Hal9Cluster, Neuron };

// Custom resource types (generated from the CRDs), the status shapes the controllers write,
// and the render function's signature, which the reconcilers take as a dependency.

export const group = 'hal9.ai';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

/** metav1.Condition */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** What the status functions read from a live object's status (generated types fit it). */
export interface LiveStatus {
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[];
}

/** The status fields the operator writes for a Neuron. */
export interface NeuronStatus {
  observedGeneration?: number;
  /** metadata.generation of the Hal9Cluster the children were last rendered from. */
  clusterGeneration?: number;
  conditions?: Condition[];
  replicas?: number;
  readyReplicas?: number;
  selector?: string;
  parallelism?: { current?: number };
}

/** The status fields the operator writes for a Hal9Cluster. */
export interface Hal9ClusterStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  neurons?: number;
  readyNeurons?: number;
  entryEndpoint?: string;
}

export interface RenderInput {
  readonly cluster: Hal9Cluster;
  readonly neuron: Neuron;
  readonly peers: readonly Neuron[];
  readonly operatorNamespace?: string;
  /** Whether privileged init containers may be rendered (render/tuning.ts); unset: they may. */
  readonly privileged?: { readonly allowed: boolean; readonly howToAllow: string };
  /**
   * The operator makes each Hal9Cluster without spec.adminTokenSecretRef a `<cluster>-admin-token`
   * Secret (render/admin-secret.ts), which the pods then mount; unset: it does not (no key).
   */
  readonly generatedAdminToken?: boolean;
}

export interface RenderOutput {
  readonly objects: KubernetesObject[];
  readonly warnings: string[];
  readonly runtimeConfig: string;
  /** The operator tunes the Neuron's parallelism: status.parallelism.current is the tuner's. */
  readonly parallelismTuned: boolean;
  /** Something the spec asks for that was not rendered (e.g. privileged containers not allowed): Degraded. */
  readonly failure?: { readonly reason: string; readonly message: string };
}

/** render/index.ts `renderNeuron`: pure, deterministic. */
export type RenderNeuron = (input: RenderInput) => RenderOutput;

export const labels = Object.freeze({
  cluster: 'hal9.ai/cluster',
  neuron: 'hal9.ai/neuron',
});

export const annotations = Object.freeze({
  paused: 'hal9.ai/paused',
});

/**
 * Whether an object's annotations pause it: `hal9.ai/paused` present with any value but "false" (in
 * any case), so `yes`, `True` or `1` pause as surely as `true`, as the presence of Cluster API's
 * pause annotation does. A typo must never leave a user believing rollouts are held.
 */
export function isPaused(a: Readonly<Record<string, string>> | undefined): boolean {
  const v = a?.[annotations.paused];
  return v !== undefined && v.trim().toLowerCase() !== 'false';
}

export const fieldManager = 'hal9-operator';
