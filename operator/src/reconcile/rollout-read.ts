import type { V1Deployment } from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';
import { podProblems } from '../status/pod-problems.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';

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
