import type {
  V1OwnerReference,
  V1PodDisruptionBudget,
  V2HorizontalPodAutoscaler,
  V2HorizontalPodAutoscalerBehavior,
} from '@kubernetes/client-node';
import type { EffectiveNeuronSpec } from '../spec/effective-spec.ts';

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
