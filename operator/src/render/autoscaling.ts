import type {
  V1OwnerReference,
  V1PodDisruptionBudget,
  V2HorizontalPodAutoscaler,
  V2HorizontalPodAutoscalerBehavior,
} from '@kubernetes/client-node';
import type { EffectiveNeuronSpec } from '../spec/effective-spec.ts';
import { modelCallCap } from '../spec/model-call-cap.ts';

export interface ScalingInput {
  readonly name: string;
  readonly deploymentName: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ownerReference: V1OwnerReference[];
  readonly spec: EffectiveNeuronSpec;
}

/** HPA bounds after the merge; a neuron override can leave min above max, which is repaired with a warning. */
export function replicaBounds(spec: EffectiveNeuronSpec): { min: number; max: number; warnings: string[] } {
  const { minReplicas, maxReplicas } = spec.autoscaling;
  if (minReplicas <= maxReplicas) return { min: minReplicas, max: maxReplicas, warnings: [] };
  return {
    min: minReplicas,
    max: minReplicas,
    warnings: [
      `autoscaling.minReplicas ${minReplicas} is above autoscaling.maxReplicas ${maxReplicas} after merging the Neuron with its Hal9Cluster; maxReplicas ${minReplicas} is used`,
    ],
  };
}

/** The Neuron's own parallelism bounds (spec.autoscaling.parallelism), to say where each merged one came from. */
export interface OwnParallelismBounds {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

/**
 * Parallelism tuning bounds after the merge. Each object's CEL rule sees only its own values, so a
 * Neuron's min above its cluster's max (or the cluster's min above the Neuron's max) passes both and
 * is repaired here: min wins, as in replicaBounds, with a warning that names the field of each
 * object and what to change. `own`, the Neuron's own values, says which object set which.
 */
export function parallelismBounds(
  spec: EffectiveNeuronSpec,
  own?: OwnParallelismBounds,
): { min: number; max: number; warnings: string[] } {
  const { min, max } = spec.autoscaling.parallelism;
  if (min <= max) return { min, max, warnings: [] };
  const neuronSets = (field: 'min' | 'max') => own?.[field] !== undefined;
  const field = (f: 'min' | 'max', value: number) =>
    neuronSets(f)
      ? `the Neuron's spec.autoscaling.parallelism.${f} ${value}`
      : `spec.autoscaling.parallelism.${f} ${value} of Hal9Cluster ${spec.cluster}`;
  const fix =
    neuronSets('min') && !neuronSets('max')
      ? `lower the Neuron's parallelism.min to ${max} or less, or set parallelism.max on the Neuron`
      : neuronSets('max') && !neuronSets('min')
        ? `raise the Neuron's parallelism.max to ${min} or more, or set parallelism.min on the Neuron`
        : 'make parallelism.min at most parallelism.max on the Neuron or its Hal9Cluster';
  return {
    min,
    max: min,
    warnings: [
      `${field('min', min)} is above ${field('max', max)} after merging the Neuron with its Hal9Cluster (each passes its own check alone): parallelism.max ${min} is used; ${fix}`,
    ],
  };
}

/**
 * The tuner's bounds for one Neuron: parallelism.min and .max after the merge, the max held to the
 * model calls a pod runs at once (spec/model-call-cap.ts): slots past the cap only wait for a call, so a
 * raise there adds queue wait, not capacity. parallelism.min still wins over the cap, as it wins
 * over parallelism.max: the user asked for at least that many slots, and the note says what it costs.
 */
export function limitBounds(spec: EffectiveNeuronSpec): { min: number; max: number; maxNote?: string } {
  const { min, max } = parallelismBounds(spec);
  const cap = modelCallCap(spec);
  if (cap.value >= max) return { min, max };
  if (cap.value < min)
    return {
      min,
      max: min,
      maxNote: `parallelism.min ${min} is above the ${cap.value} model calls a pod runs at once (${cap.fields}): slots past ${cap.value} only wait for a call`,
    };
  return {
    min,
    max: cap.value,
    maxNote: `parallelism.max ${max} is held to the ${cap.value} model calls a pod runs at once; raise ${cap.fields} for more`,
  };
}

/** autoscaling/v2 HPA on the neuron's Deployment, scaling on CPU utilization. */
export function renderHpa(input: ScalingInput): V2HorizontalPodAutoscaler {
  const a = input.spec.autoscaling;
  const { min, max } = replicaBounds(input.spec);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...input.labels },
      ownerReferences: input.ownerReference,
    },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: input.deploymentName },
      minReplicas: min,
      maxReplicas: max,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage },
          },
        },
      ],
      ...(a.behavior ? { behavior: structuredClone(a.behavior) as V2HorizontalPodAutoscalerBehavior } : {}),
    },
  };
}

/** PDB allowing one pod down at a time; unhealthy pods may always be evicted so they never block a drain. */
export function renderPdb(input: ScalingInput): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...input.labels },
      ownerReferences: input.ownerReference,
    },
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: { ...input.selector } },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
