import type { Neuron } from '../api-types.ts';
import { ownsField } from '../kube/managed-fields.ts';

/**
 * Field manager of the replica count the autoscaler writes (the Neuron's spec.replicas, through the
 * scale subresource), so `kubectl get nrn -o yaml --show-managed-fields` tells who set it.
 */
export const autoscalerFieldManager = 'hal9-operator-autoscaler';

/**
 * The replica count an operator-mode Neuron's Deployment runs: the count the operator last decided
 * (status.autoscaling.desiredReplicas), not another writer's spec.replicas. The tuner sets such a
 * count back (ManualScaleOverridden); passed on to the Deployment first, `kubectl scale nrn` or a Git
 * value started pods only to stop them a moment later. spec.replicas is followed when the autoscaler
 * wrote it last (its status is recorded after the scale write, in the same pass), when it equals
 * the recorded count, and while the operator has recorded none (a new Neuron, or one just switched
 * to operator mode: the count is the user's until the operator's first decision).
 */
export function operatorReplicas(neuron: Neuron, specReplicas: number): number {
  const recorded = neuron.status?.autoscaling?.desiredReplicas;
  if (recorded === undefined || recorded === specReplicas) return specReplicas;
  return ownsField(neuron, autoscalerFieldManager, ['spec', 'replicas'], 'scale') ? specReplicas : recorded;
}
