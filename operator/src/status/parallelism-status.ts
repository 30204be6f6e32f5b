import type { Condition, LiveStatus } from '../api-types.ts';
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
});

export interface LastDecision {
  readonly value: number;
  readonly reason: string;
  /** RFC 3339 (second precision, like metav1.Time). */
  readonly time: string;
}

export interface TunerStatus {
  parallelism: { current: number; lastDecision?: LastDecision };
  conditions: Condition[];
}

export interface TunerStatusInput {
  readonly generation: number;
  readonly existing: (LiveStatus & { readonly parallelism?: { readonly current?: number } }) | undefined;
  readonly current: number;
  readonly lastDecision: LastDecision | undefined;
  readonly condition: {
    readonly status: 'True' | 'False';
    readonly reason: string;
    readonly message: string;
  };
  readonly now: string;
}

/** Pure: the tuner's status part; equal inputs and an unchanged live status give an equal result. */
export function computeTunerStatus(input: TunerStatusInput): TunerStatus {
  const [cond] = setCondition(
    input.existing?.conditions?.filter((c) => c.type === ParallelismCondition),
    {
      type: ParallelismCondition,
      status: input.condition.status,
      reason: input.condition.reason,
      message: input.condition.message.slice(0, 1024),
      observedGeneration: input.generation,
    },
    input.now,
  );
  return {
    parallelism: {
      current: input.current,
      ...(input.lastDecision ? { lastDecision: { ...input.lastDecision } } : {}),
    },
    conditions: [cond!],
  };
}
