import type { Neuron } from '../api-types.ts';
import {
  type AutoscalingStatus,
  type ConditionInput,
  computeTunerStatus,
  ParallelismCondition,
  ReplicasCondition,
  type TunerStatus,
} from '../status/parallelism-status.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import { statusUpToDate } from '../status/up-to-date.ts';
import type { NeuronMemory } from './neuron-memory.ts';
import type { TuningTarget } from './tuning-targets.ts';

/** The replica part of one pass: the autoscaling status and its condition. */
export interface ScaleStatus {
  readonly status: AutoscalingStatus;
  readonly condition: ConditionInput;
}

/** This pass's decisions about one Neuron, for its status. */
export interface TunerStatusParts {
  /** The parallelism condition; undefined unless parallelism is tuned. */
  readonly condition: ConditionInput | undefined;
  /** The replica part; undefined unless replicas are scaled by the operator. */
  readonly scale: ScaleStatus | undefined;
}

/** The tuner's status part of one Neuron after this pass. */
export function tunerStatusOf(
  t: TuningTarget,
  mem: Pick<NeuronMemory, 'published' | 'lastDecision' | 'state'>,
  { condition, scale }: TunerStatusParts,
  now: number,
): TunerStatus {
  return computeTunerStatus({
    generation: t.neuron.metadata?.generation ?? 0,
    existing: t.neuron.status,
    // The value in effect, not the one decided: until every Ready pod took that, it is in lastDecision.
    ...(t.tuneParallelism
      ? {
          current: mem.published,
          lastDecision: mem.lastDecision,
          ceiling: mem.state.ceiling && {
            value: mem.state.ceiling.value,
            time: rfc3339(mem.state.ceiling.at),
          },
        }
      : {}),
    ...(condition ? { condition } : {}),
    ...(scale ? { autoscaling: scale.status, replicasCondition: scale.condition } : {}),
    now: rfc3339(now),
  });
}

/** Whether `status` must be applied: it differs from the live one, or releases a part turned off. */
export function statusWriteNeeded(status: TunerStatus, neuron: Neuron): boolean {
  // A part turned off (replicas in hpa mode, parallelism tuning off) is released by applying
  // the rest without it: the live status still carrying it is not up to date.
  const live = neuron.status as (Neuron['status'] & { autoscaling?: AutoscalingStatus }) | undefined;
  const released =
    (!status.autoscaling &&
      (live?.autoscaling !== undefined || live?.conditions?.some((c) => c.type === ReplicasCondition))) ||
    (!status.parallelism &&
      (live?.parallelism?.lastDecision !== undefined ||
        live?.conditions?.some((c) => c.type === ParallelismCondition)));
  // An edge to a Neuron the spec no longer forwards to (or one a pod made up, written before targets
  // were filtered) goes now, by applying the map without it. One merely not learned again yet (a new
  // leader's first passes) waits for the next decision's snapshot: a write now would be undone then.
  const connected = new Set(neuron.spec?.forwardConnections ?? []);
  const strayEdge =
    status.autoscaling !== undefined &&
    Object.keys(live?.autoscaling?.fanOut ?? {}).some((k) => !connected.has(k));
  return released || strayEdge || !statusUpToDate(status, neuron.status);
}
