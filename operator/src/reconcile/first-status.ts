import type { LiveStatus, NeuronStatus } from '../api-types.ts';
import { ConditionType, Reason } from '../status/reasons.ts';

/**
 * How long a new Neuron's first status may wait for its first rollout. Written at once it says
 * RollingOut, and a second write says Ready a moment later: a Neuron's status write costs the
 * apiserver about three ConfigMap writes (bench/README.md), and a burst of new Neurons paid it twice
 * each. A rollout done within the wait costs one write; one that is not is reported as before, once
 * the wait is over. Anything else (a failure, a warning, pods that cannot start, a pause) is written
 * at once, as is every status of a Neuron that already has one.
 */
export const FIRST_STATUS_WAIT_MS = 2_000;

const condition = (s: LiveStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

export interface FirstStatusInput {
  /** The status this pass computed. */
  readonly status: NeuronStatus;
  /** The status the Neuron carries. */
  readonly existing: LiveStatus | undefined;
  /** Why its pods do not run (pod-problems.ts), when this pass read it. */
  readonly podProblems: string | undefined;
}

/**
 * Whether a status only says that a new Neuron's first rollout is under way: no status of the
 * operator's yet, Progressing for the rollout alone, nothing Degraded, no Warning, not paused, and no
 * pods known not to start.
 */
export function onlyFirstRollout({ status, existing, podProblems }: FirstStatusInput): boolean {
  if (podProblems !== undefined || condition(existing, ConditionType.Ready) !== undefined) return false;
  const progressing = condition(status, ConditionType.Progressing);
  return (
    progressing?.status === 'True' &&
    progressing.reason === Reason.RollingOut &&
    condition(status, ConditionType.Degraded)?.status !== 'True' &&
    condition(status, ConditionType.Warning)?.status !== 'True' &&
    condition(status, ConditionType.Paused)?.status !== 'True'
  );
}

/**
 * Per Neuron key (and uid: one re-created under its name starts again), when its first status began
 * to wait. `waitMs` answers how long the status of this pass may still wait, or undefined to write it
 * now; `forget` drops a deleted Neuron's entry. An entry lives until the Neuron's status is seen.
 */
export function firstStatusWait(waitMs = FIRST_STATUS_WAIT_MS) {
  const since = new Map<string, { readonly uid: string; readonly at: number }>();
  return {
    waitMs(key: string, uid: string, input: FirstStatusInput, nowMs: number): number | undefined {
      if (waitMs <= 0 || !onlyFirstRollout(input)) {
        since.delete(key);
        return undefined;
      }
      let entry = since.get(key);
      // A clock that went back starts the wait again from now: kept, every pass would wait once more.
      if (entry?.uid !== uid || nowMs < entry.at) {
        entry = { uid, at: nowMs };
        since.set(key, entry);
      }
      const left = entry.at + waitMs - nowMs;
      // Past the wait the entry stays until a status is seen: a write that failed does not wait again.
      return left > 0 ? left : undefined;
    },
    forget(key: string) {
      since.delete(key);
    },
  };
}
