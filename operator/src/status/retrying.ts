import type { Condition } from '../api-types.ts';
import { findCondition } from './conditions.ts';
import { ConditionType, Reason } from './reasons.ts';

/**
 * How long a Neuron or a Hal9Cluster may be Progressing=True Retrying (writes failing for the
 * apiserver's moment, errors.ts isTransient) before the failure counts as Degraded and Stalled.
 */
export const RETRYING_GRACE_MS = 5 * 60_000;

/** The object has been Retrying for RETRYING_GRACE_MS, by its Progressing condition's time. */
export function retryLasted(existing: readonly Condition[] | undefined, now: string): boolean {
  const progressing = findCondition(existing, ConditionType.Progressing);
  const since =
    progressing?.reason === Reason.Retrying ? Date.parse(progressing.lastTransitionTime) : Number.NaN;
  return Date.parse(now) - since >= RETRYING_GRACE_MS;
}

/**
 * Progressing's lastTransitionTime when it turned Retrying from another True reason (a rollout):
 * `now`, so that it says when Retrying began, which retryLasted measures (a status that stays True
 * keeps its time otherwise, as metav1 conditions do).
 */
export function retryingSince(
  conditions: Condition[],
  existing: readonly Condition[] | undefined,
  now: string,
): Condition[] {
  const was = findCondition(existing, ConditionType.Progressing);
  return conditions.map((c) =>
    c.type === ConditionType.Progressing &&
    c.reason === Reason.Retrying &&
    was?.reason !== Reason.Retrying &&
    c.lastTransitionTime !== now
      ? { ...c, lastTransitionTime: now }
      : c,
  );
}
