import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { fieldManager } from '../api-types.ts';
import { ownsField } from '../kube/managed-fields.ts';

/**
 * Leaving autoscaling mode hpa (for mode operator, or autoscaling off): the HPA scaled the
 * Deployment, not the Neuron's spec.replicas, which still holds what it held before (by default 1).
 * Rendered from it, the Deployment would lose the pods the HPA added at once. Returns the running
 * count, to be carried into spec.replicas before the Deployment is rendered from it, or undefined
 * when nothing is handed back.
 *
 * Stateless, from the caches: the switch is the pass that finds an HPA of the Neuron still live
 * but no longer rendered (it is pruned in that pass, after the Deployment is applied), and a
 * Deployment whose spec.replicas this operator does not own (it left the field to the HPA) and
 * that differs from the rendered one. Nothing else matches, so a pass without a switch costs no
 * write; a `kubectl scale deployment` outside hpa mode is still set back, not carried.
 */
export function replicasToHandBack(input: {
  /** The Neuron's HPA, as the cache shows it. */
  readonly liveHpa: KubernetesObject | undefined;
  readonly rendered: readonly KubernetesObject[];
  readonly liveDeployment: V1Deployment | undefined;
}): number | undefined {
  const { liveHpa, rendered, liveDeployment: live } = input;
  if (!liveHpa || !live) return undefined;
  if (rendered.some((o) => o.kind === 'HorizontalPodAutoscaler')) return undefined;
  const desired = (rendered.find((o) => o.kind === 'Deployment') as V1Deployment | undefined)?.spec?.replicas;
  const running = live.spec?.replicas;
  if (desired === undefined || running === undefined || running === desired) return undefined;
  if (ownsField(live, fieldManager, ['spec', 'replicas'])) return undefined;
  return running;
}
