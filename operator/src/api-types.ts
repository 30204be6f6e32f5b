import type { KubernetesObject } from '@kubernetes/client-node';
import type {
  Hal9Cluster,
  Hal9ClusterStatus as Hal9ClusterStatusSchema,
} from './generated/hal9cluster.gen.ts';
import type {
  Neuron,
  NeuronStatusConditionsItem,
  NeuronStatusParallelism,
  NeuronStatus as NeuronStatusSchema,
} from './generated/neuron.gen.ts';

export type { Hal9Cluster, Neuron };

// Custom resource types (generated from the CRDs), the status shapes the controllers write (the
// generated ones, writable, narrowed to what each writer sets: a field the CRDs drop fails to
// compile here), and the render function's signature, which the reconcilers take as a dependency.

/** A generated (read-only) type as a writer builds it. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

export const group = 'hal9.ai';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

/** metav1.Condition, as both CRDs' status schemas give it. */
export type Condition = Writable<NeuronStatusConditionsItem>;

/** What the status functions read from a live object's status (generated types fit it). */
export interface LiveStatus {
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[];
}

/** The status fields the Neuron reconciler writes (the tuner writes autoscaling and parallelism's decision). */
export type NeuronStatus = Writable<
  Pick<
    NeuronStatusSchema,
    'observedGeneration' | 'clusterGeneration' | 'replicas' | 'readyReplicas' | 'selector'
  >
> & {
  conditions?: Condition[];
  parallelism?: Writable<Pick<NeuronStatusParallelism, 'current'>>;
};

/** The status fields the operator writes for a Hal9Cluster: all of its status. */
export type Hal9ClusterStatus = Writable<Omit<Hal9ClusterStatusSchema, 'conditions'>> & {
  conditions?: Condition[];
};

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
  /** Whether the Prometheus Operator's ServiceMonitor API is served; unset: it is. */
  readonly serviceMonitorServed?: boolean;
  /** How the runtime's configuration becomes YAML (render/yaml-text.ts; the same text either way). */
  readonly yaml?: (doc: unknown) => string;
}

export interface RenderOutput {
  readonly objects: KubernetesObject[];
  readonly warnings: string[];
  readonly runtimeConfig: string;
  /** The executor limit the runtime config gives new pods (performance.max_concurrent_signals). */
  readonly maxConcurrentSignals: number;
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
