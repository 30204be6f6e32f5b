import type { V1Deployment } from '@kubernetes/client-node';

// While a Deployment is incomplete, the reconcile lists its pods to say why they do not run, and
// comes back to read them again: their reasons change without a Deployment event (a pod stays
// Pending with a new scheduler message). A rollout under way is read again soon; one stuck for good
// (an image that cannot be pulled, a Secret that is missing, a progress deadline passed) would cost
// a LIST every 10 s forever, so the wait doubles while nothing changes.

/** The first wait, and the wait again whenever the pods' problems or the rollout's progress change. */
export const ROLLOUT_RECHECK_MS = 10_000;
/** The longest wait while nothing changes (the 10-minute resync looks too). */
export const ROLLOUT_RECHECK_MAX_MS = 5 * 60_000;

/** What the last pass saw of one incomplete rollout, and when it planned to look again. */
export interface RecheckState {
  /** The pods' problems and the Deployment's progress (rolloutSeen). */
  readonly seen: string;
  readonly waitMs: number;
  /** When the planned recheck is due (ms). */
  readonly dueAt: number;
}

export interface RecheckInput {
  readonly nowMs: number;
  /** The Deployment has not rolled out (reconcile/rollout-read.ts rolledOut). */
  readonly incomplete: boolean;
  /** A paused Neuron: the operator changes nothing on it, so looking again changes nothing either. */
  readonly paused: boolean;
  /** What this pass saw (rolloutSeen). */
  readonly seen: string;
}

/**
 * When to reconcile again for the rollout alone (`afterMs`, undefined: not for it), and the state
 * for the next pass (undefined: forget it). Unchanged since the last pass, a pass that is the planned
 * recheck (or later) doubles the wait up to ROLLOUT_RECHECK_MAX_MS; one that comes earlier (a watch
 * event, the Neuron's own status write) keeps the planned time, so events do not shorten or lengthen
 * it. Anything changed starts again at ROLLOUT_RECHECK_MS. Pure.
 */
export function rolloutRecheck(
  previous: RecheckState | undefined,
  input: RecheckInput,
): { readonly state?: RecheckState; readonly afterMs?: number } {
  if (!input.incomplete || input.paused) return {};
  const { nowMs, seen } = input;
  let state: RecheckState;
  if (previous?.seen !== seen) {
    state = { seen, waitMs: ROLLOUT_RECHECK_MS, dueAt: nowMs + ROLLOUT_RECHECK_MS };
  } else if (nowMs < previous.dueAt) {
    state = previous;
  } else {
    const waitMs = Math.min(previous.waitMs * 2, ROLLOUT_RECHECK_MAX_MS);
    state = { seen, waitMs, dueAt: nowMs + waitMs };
  }
  return { state, afterMs: state.dueAt - nowMs };
}

/** What a pass saw of a rollout, for rolloutRecheck: its progress and the pods' problems. Pure. */
export function rolloutSeen(deployment: V1Deployment | undefined, problems: string | undefined): string {
  const s = deployment?.status ?? {};
  return JSON.stringify([
    deployment?.metadata?.generation ?? 0,
    s.observedGeneration ?? 0,
    deployment?.spec?.replicas ?? 1,
    s.replicas ?? 0,
    s.updatedReplicas ?? 0,
    s.readyReplicas ?? 0,
    s.availableReplicas ?? 0,
    problems ?? '',
  ]);
}
