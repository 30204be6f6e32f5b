import type { V1Deployment } from '@kubernetes/client-node';
import { splitKey } from '../controller/object-reader.ts';
import type { Logger } from '../logger.ts';
import { podProblems } from '../status/pod-problems.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';
import { type RecheckState, rolloutRecheck, rolloutSeen } from './rollout-recheck.ts';

/** Every replica updated and available (the status part of neuron-status's rollout). */
export function rolledOut(d: V1Deployment): boolean {
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= desired &&
    (s.availableReplicas ?? 0) >= desired &&
    (s.replicas ?? 0) <= desired
  );
}

export async function readPodProblems(
  deps: NeuronReconcilerDeps,
  namespace: string,
  name: string,
  log: Logger,
): Promise<string | undefined> {
  if (!deps.listPods) return undefined;
  try {
    return podProblems(await deps.listPods(namespace, name), deps.clock.now());
  } catch (err) {
    // The reason is a courtesy: without it the status still says how far the rollout is.
    log.debug({ err }, 'Could not list the pods of the Neuron');
    return undefined;
  }
}

/**
 * Reads, per Neuron key, why an incomplete Deployment's pods do not run (a LIST of its pods, once
 * its controller has observed it), and says when to read them again (rollout-recheck.ts: soon while
 * things change, backing off while they do not, never for a paused Neuron). `forget` drops a deleted
 * Neuron's state.
 */
export function rolloutReader() {
  const seen = new Map<string, RecheckState>();
  return {
    async read(
      deps: NeuronReconcilerDeps,
      key: string,
      deployment: V1Deployment | undefined,
      paused: boolean,
      log: Logger,
    ): Promise<{ problems: string | undefined; recheckAfterMs: number | undefined }> {
      const { namespace, name } = splitKey(key);
      const incomplete = deployment !== undefined && !rolledOut(deployment);
      // A Deployment its controller has not looked at yet (this pass created it) has no pods to
      // list: its first status write is an event that brings the Neuron back.
      const unobserved = deployment?.status?.observedGeneration === undefined;
      const problems =
        incomplete && !unobserved ? await readPodProblems(deps, namespace, name, log) : undefined;
      const { state, afterMs } = rolloutRecheck(seen.get(key), {
        nowMs: deps.clock.now(),
        // Without a pod lister there is nothing new to read.
        incomplete: incomplete && deps.listPods !== undefined,
        paused,
        seen: rolloutSeen(deployment, problems),
      });
      if (state) seen.set(key, state);
      else seen.delete(key);
      return { problems, recheckAfterMs: afterMs };
    },
    forget(key: string) {
      seen.delete(key);
    },
  };
}
