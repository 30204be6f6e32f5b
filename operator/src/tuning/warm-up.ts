import type { Neuron } from '../api-types.ts';
import { type ConditionInput, ParallelismReason } from '../status/parallelism-status.ts';
import { NO_DATA_FOR, NO_DATA_OVER } from './parallelism-decision.ts';
import type { TuningTarget } from './tuning-targets.ts';

// Over its first stable window a new leader has no window of its own, whatever the pods' age: "no
// data yet" then is about this process, not the Neuron, so the live condition stands (a failover
// used to flip every pod-sourced Neuron's conditions to NoData and back: two status writes each,
// at 1,000 Neurons 2,000, for nothing that changed).

/** Pure: whether a pod-sourced Neuron is still within the loop's first stable window. */
export function warmingUp(t: TuningTarget, startedAt: number, now: number): boolean {
  return t.fromPods && now - startedAt < t.spec.autoscaling.stableWindowSeconds * 1000;
}

/** Pure: the condition to write; while warming up, NoData gives way to the live one (when any). */
export function warmCondition(
  neuron: Neuron,
  type: string,
  c: ConditionInput | undefined,
  warming: boolean,
): ConditionInput | undefined {
  return warming && c?.reason === ParallelismReason.NoData ? (liveCondition(neuron, type) ?? c) : c;
}

/**
 * Pure: the parallelism condition to write; while a Ready pod has not answered its first PUT (a new
 * leader's first pass), which pods refuse the value is unknown, so the live condition stands (when
 * any). Written without the refusals its predecessor knew, then with them again once the pods
 * answered, it cost every Neuron whose pods refuse the value two status writes per failover.
 */
export function answeredCondition(
  neuron: Neuron,
  type: string,
  c: ConditionInput | undefined,
  awaiting: boolean,
): ConditionInput | undefined {
  return awaiting && c ? (liveCondition(neuron, type) ?? c) : c;
}

/** How long a NoData condition keeps its message while only the series it names change. */
export const NO_DATA_MESSAGE_MS = 5 * 60_000;

/**
 * Pure: while a Neuron stays without data, its NoData condition keeps the message last written for up
 * to NO_DATA_MESSAGE_MS when only the Prometheus series a pass found missing change (any other change
 * of the message, such as another cause, is written at once) (two Prometheus replicas behind
 * one URL, answering in turn, each lacking other series): each new list was a status write at every
 * pass. `namedAt` is when this process last wrote a NoData message (undefined: not yet); returns the
 * condition to write and the new `namedAt`.
 */
export function steadyNoData(
  neuron: Neuron,
  type: string,
  c: ConditionInput | undefined,
  namedAt: number | undefined,
  now: number,
): { condition: ConditionInput | undefined; namedAt: number | undefined } {
  if (c?.reason !== ParallelismReason.NoData) return { condition: c, namedAt: undefined };
  const live = liveCondition(neuron, type);
  if (live?.reason !== ParallelismReason.NoData || live.status !== c.status)
    return { condition: c, namedAt: now };
  if (live.message === c.message) return { condition: c, namedAt: namedAt ?? now };
  const rest = seriesLeftOut(live.message);
  const onlySeries = rest !== undefined && rest === seriesLeftOut(c.message);
  if (onlySeries && namedAt !== undefined && now - namedAt < NO_DATA_MESSAGE_MS)
    return { condition: live, namedAt };
  return { condition: c, namedAt: now };
}

/** A Prometheus NoData message without the series it names (any other message: undefined, never held). */
function seriesLeftOut(message: string | undefined): string | undefined {
  if (!message?.startsWith(NO_DATA_FOR)) return undefined;
  const over = message.indexOf(NO_DATA_OVER, NO_DATA_FOR.length);
  return over < 0 ? undefined : message.slice(over);
}

/** A condition of the Neuron's live status, as the tuner would write it. */
function liveCondition(neuron: Neuron, type: string): ConditionInput | undefined {
  const c = neuron.status?.conditions?.find((x) => x.type === type);
  return c && { status: c.status === 'True' ? 'True' : 'False', reason: c.reason, message: c.message };
}
