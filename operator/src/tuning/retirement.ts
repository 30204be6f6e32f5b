import { errorMessage } from '../errors.ts';
import type { Deliveries, PodLimits } from './pod-limits.ts';
import { readPodToken } from './pod-limits.ts';
import type { RuntimePod } from './runtime-pods.ts';
import type { TunerDeps } from './tuner-deps.ts';
import type { RetiredTarget } from './tuning-targets.ts';

// The tuner's apply step for a Neuron whose autoscaling was turned off: the pods go back to the
// spec's limit (a tuned one would otherwise stay until they restart), then an empty apply under the
// tuner's manager removes the fields only it owns (lastDecision, autoscaling, the conditions);
// `current` stays with the reconciler. Until every Ready pod has taken the value, the status stays,
// so the next pass tries again.

export interface Retirement {
  /** One pass's attempt for one Neuron; `pods` undefined when the pod list failed this pass. */
  retire(r: RetiredTarget, pods: ReadonlyMap<string, readonly RuntimePod[]> | undefined): Promise<void>;
  /** Forgets the Neurons no longer retiring (turned back on, or gone). */
  keepOnly(retire: readonly RetiredTarget[]): void;
}

export type RetirementDeps = Pick<TunerDeps, 'authToken' | 'writeStatus' | 'logger'> & {
  readonly podLimits: PodLimits;
};

export function createRetirement(deps: RetirementDeps): Retirement {
  const { logger, podLimits } = deps;
  const retiring = new Map<string, Deliveries>();
  return {
    async retire(r, pods) {
      const { namespace = '', name = '' } = r.neuron.metadata ?? {};
      if (r.restore !== undefined && r.cluster) {
        if (!pods) return; // the pod list failed: try again next pass
        const mem = retiring.get(r.key) ?? {
          delivered: new Map(),
          refused: new Map(),
          tokenFailure: undefined,
        };
        retiring.set(r.key, mem);
        const cluster = r.cluster;
        const auth = await readPodToken(logger, r.key, mem, async () => deps.authToken?.(r.neuron, cluster));
        if (!auth) return;
        const running = podLimits.reachable(pods.get(r.key));
        // Cleared once a pass finds every Ready pod at the spec's value (the PUTs run beside the passes).
        if (!podLimits.restore(r.key, mem, running, r.restore, auth.token)) return;
      }
      try {
        await deps.writeStatus(namespace, name, {});
        retiring.delete(r.key);
        logger.info({ neuron: r.key }, 'Cleared Neuron autoscaling status');
      } catch (err) {
        logger.warn({ neuron: r.key, err: errorMessage(err) }, 'Failed to clear Neuron autoscaling status');
      }
    },
    keepOnly(retire) {
      const keep = new Set(retire.map((r) => r.key));
      for (const k of retiring.keys()) if (!keep.has(k)) retiring.delete(k);
    },
  };
}
