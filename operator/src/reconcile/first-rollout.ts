/**
 * How long a new Neuron's first rollout waits for the Neurons its connections name. One
 * `kubectl apply` or Argo CD sync of several Neurons creates them a moment apart: a Deployment
 * rendered before its peers exist is rendered again when they appear (its configuration gains
 * them), and its first pods are replaced at once. Past this, it rolls out without them (a warning
 * names them) and takes them up when they come, as for any Neuron.
 */
export const FIRST_ROLLOUT_WAIT_MS = 5_000;

export interface FirstRolloutInput {
  /** metadata.creationTimestamp, as the informer holds it (an RFC 3339 string or a Date). */
  readonly created: string | Date | undefined;
  readonly nowMs: number;
  /**
   * When this operator first held it (its own clock; firstRolloutSight): a clock behind the
   * apiserver's reads the creation as still to come at every pass, and held it for the whole skew.
   */
  readonly heldSinceMs?: number;
  /** The Neuron names its connections give (its own name left out). */
  readonly named: readonly string[];
  /** Those found, of its cluster. */
  readonly found: readonly string[];
  readonly deploymentExists: boolean;
}

export interface FirstRolloutHold {
  readonly missing: readonly string[];
  /** When to look again if none of them appears before (a peer's arrival reconciles at once). */
  readonly retryAfterMs: number;
  readonly message: string;
}

/** Whether this pass holds the Neuron's first rollout back for its peers (pure). */
export function firstRolloutHold(input: FirstRolloutInput): FirstRolloutHold | undefined {
  if (input.deploymentExists || input.created === undefined) return undefined;
  const found = new Set(input.found);
  const missing = [...new Set(input.named)].filter((n) => !found.has(n)).sort();
  if (missing.length === 0) return undefined;
  const created = new Date(input.created).getTime();
  if (Number.isNaN(created)) return undefined;
  // Whichever began first: the creation, or (a clock behind the apiserver's) this operator's first hold.
  const since = Math.min(created, input.heldSinceMs ?? created);
  const left = Math.min(FIRST_ROLLOUT_WAIT_MS, since + FIRST_ROLLOUT_WAIT_MS - input.nowMs);
  if (left <= 0) return undefined;
  return {
    missing,
    retryAfterMs: left,
    message: `the first rollout waits up to ${FIRST_ROLLOUT_WAIT_MS / 1000}s for the Neurons its connections name (${missing.join(', ')}), so its pods start with them instead of being replaced when they appear`,
  };
}

/**
 * Per Neuron key (and uid: one re-created under its name starts again), when this operator first held
 * its first rollout, on its own clock. An entry lives while the Neuron is held; `forget` drops it.
 */
export function firstRolloutSight() {
  const since = new Map<string, { readonly uid: string; readonly at: number }>();
  return {
    since(key: string, uid: string, nowMs: number): number {
      let entry = since.get(key);
      // A clock that went back starts again from now (as first-status.ts).
      if (entry?.uid !== uid || nowMs < entry.at) {
        entry = { uid, at: nowMs };
        since.set(key, entry);
      }
      return entry.at;
    },
    forget(key: string) {
      since.delete(key);
    },
  };
}
