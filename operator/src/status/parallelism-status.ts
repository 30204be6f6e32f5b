import type { Condition, LiveStatus, Writable } from '../api-types.ts';
import type {
  NeuronStatusAutoscaling,
  NeuronStatusAutoscalingLastDecision,
  NeuronStatusParallelismLastDecision,
} from '../generated/neuron.gen.ts';
import { setCondition } from './conditions.ts';

// The part of a Neuron's status the parallelism tuner owns. It is applied under its own field
// manager, so the reconciler's status applies (which leave these fields out) never remove them, and
// each apply carries the whole part: a field a manager stops sending is deleted.

/** Condition type the tuner sets; not one of the reconciler's types, which it leaves alone. */
export const ParallelismCondition = 'ParallelismTuned';

/** Reasons of the ParallelismTuned condition when it is False. */
export const ParallelismReason = Object.freeze({
  /** Prometheus unreachable, timed out, refused a query, or no URL is configured. */
  MetricsUnavailable: 'MetricsUnavailable',
  /** A query returned no samples (or NaN: no traffic in the window). */
  NoData: 'NoData',
  /** The pods have metrics and the tuner decides from them (status True). */
  MetricsAvailable: 'MetricsAvailable',
  /** Some Ready pods refused or did not answer the current value; raises wait until they take it. */
  DeliveryFailed: 'DeliveryFailed',
});

/** Condition type of the operator's replica decisions (autoscaling.mode operator). */
export const ReplicasCondition = 'ReplicasAutoscaled';

/** Reasons of the ReplicasAutoscaled condition. */
export const ReplicasReason = Object.freeze({
  /** The pods report their load and the operator decides from it (status True). */
  MetricsAvailable: 'MetricsAvailable',
  /** No Ready pod with an address answered GET /v1/admin/load; the count holds. */
  PodsUnreachable: 'PodsUnreachable',
  /** Pods answered, but not yet over a whole window (just started); the count holds. */
  NoData: 'NoData',
  /** Prometheus was the source and failed; the count holds. */
  MetricsUnavailable: 'MetricsUnavailable',
});

/** A decision as the CRD's status schema gives it, its value, reason and time (RFC 3339, second
 * precision like metav1.Time) always set; its message says what it was made from. */
export type LastDecision = Required<Pick<NeuronStatusParallelismLastDecision, 'value' | 'reason' | 'time'>> &
  Pick<NeuronStatusParallelismLastDecision, 'message' | 'previous'>;

/** A raised limit that broke the latency SLO, and when (RFC 3339): raises stay below it for a while. */
export interface CeilingStatus {
  readonly value: number;
  readonly time: string;
}

export type ReplicaDecisionStatus = LastDecision &
  Pick<
    NeuronStatusAutoscalingLastDecision,
    'observedConcurrency' | 'predictedConcurrency' | 'perPodTarget' | 'panic'
  >;

export type AutoscalingStatus = Writable<Required<Pick<NeuronStatusAutoscaling, 'desiredReplicas'>>> & {
  lastDecision?: ReplicaDecisionStatus;
  fanOut?: Record<string, string>;
};

export interface TunerStatus {
  parallelism?: { current: number; lastDecision?: LastDecision; ceiling?: CeilingStatus };
  autoscaling?: AutoscalingStatus;
  conditions: Condition[];
}

export interface TunerStatusInput {
  readonly generation: number;
  readonly existing: (LiveStatus & { readonly parallelism?: { readonly current?: number } }) | undefined;
  /** The parallelism part; undefined when parallelism tuning is off. */
  readonly current?: number;
  readonly lastDecision?: LastDecision | undefined;
  /** The tuner's ceiling, kept so that a new leader does not probe it again. */
  readonly ceiling?: CeilingStatus | undefined;
  readonly condition?: ConditionInput;
  /** The replica part; undefined unless autoscaling is on in operator mode. */
  readonly autoscaling?: AutoscalingStatus;
  readonly replicasCondition?: ConditionInput;
  readonly now: string;
}

export interface ConditionInput {
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

/** Pure: the tuner's status part; equal inputs and an unchanged live status give an equal result. */
export function computeTunerStatus(input: TunerStatusInput): TunerStatus {
  const condition = (type: string, c: ConditionInput) =>
    setCondition(
      input.existing?.conditions?.filter((x) => x.type === type),
      {
        type,
        status: c.status,
        reason: c.reason,
        message: c.message.slice(0, 1024),
        observedGeneration: input.generation,
      },
      input.now,
    )[0]!;
  const conditions: Condition[] = [];
  const out: TunerStatus = { conditions };
  if (input.current !== undefined) {
    out.parallelism = {
      current: input.current,
      ...(input.lastDecision ? { lastDecision: { ...input.lastDecision } } : {}),
      ...(input.ceiling ? { ceiling: { ...input.ceiling } } : {}),
    };
    if (input.condition) conditions.push(condition(ParallelismCondition, input.condition));
  }
  if (input.autoscaling) {
    out.autoscaling = structuredClone(input.autoscaling);
    if (input.replicasCondition) conditions.push(condition(ReplicasCondition, input.replicasCondition));
  }
  return out;
}
