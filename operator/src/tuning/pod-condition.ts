import { type ConditionInput, ReplicasReason } from '../status/parallelism-status.ts';
import type { PodView } from './pod-view.ts';

/**
 * Why a pod-sourced Neuron has no stable window to decide from, as a condition that says what is
 * held (`holding`); undefined when it has one. `what`: what the pods have not yet given.
 */
export function podCondition(
  v: PodView | undefined,
  what: string,
  holding: string,
): ConditionInput | undefined {
  if (!v)
    return {
      status: 'False',
      reason: ReplicasReason.PodsUnreachable,
      message: `The runtime pods could not be listed; holding ${holding}`,
    };
  if (v.stable) return undefined;
  if (v.ready === 0)
    return {
      status: 'False',
      reason: ReplicasReason.NoData,
      message: `No Ready pod with an address to read; holding ${holding}`,
    };
  if (v.refused === v.ready)
    return {
      status: 'False',
      reason: ReplicasReason.PodsUnreachable,
      message: `Every Ready pod's address is outside --pod-cidrs; holding ${holding}`,
    };
  if (v.errors.length > 0)
    return {
      status: 'False',
      reason: ReplicasReason.PodsUnreachable,
      message: `No pod answered GET /v1/admin/load (${v.errors[0]}); holding ${holding}`,
    };
  return {
    status: 'False',
    reason: ReplicasReason.NoData,
    message: `Pods answer, but not yet over a whole window (${what}); holding ${holding}`,
  };
}
