import type { V1Deployment } from '@kubernetes/client-node';
import type { Neuron } from '../api-types.ts';

/**
 * In autoscaling mode hpa a HorizontalPodAutoscaler owns the replica count, so `kubectl scale nrn`
 * changes spec.replicas and nothing else. Says so when someone other than the operator wrote
 * spec.replicas through the scale subresource and the count differs from the Deployment's; the
 * message clears once they agree or autoscaling is off. Pure; reads the compacted managedFields
 * the Neuron cache keeps for spec.replicas.
 */
export function scaleIgnored(
  neuron: Neuron,
  hpaOwnsReplicas: boolean,
  deployment: V1Deployment | undefined,
  ownManagers: ReadonlySet<string>,
): string | undefined {
  if (!hpaOwnsReplicas) return undefined;
  const wanted = neuron.spec?.replicas;
  const running = deployment?.spec?.replicas;
  if (wanted === undefined || running === undefined || wanted === running) return undefined;
  const scaledBy = neuron.metadata?.managedFields?.find(
    (e) =>
      e.subresource === 'scale' &&
      !ownManagers.has(e.manager ?? '') &&
      (e.fieldsV1 as { 'f:spec'?: { 'f:replicas'?: unknown } } | undefined)?.['f:spec']?.['f:replicas'] !==
        undefined,
  );
  if (!scaledBy) return undefined;
  return `spec.replicas is ${wanted} (set through the scale subresource by ${scaledBy.manager}) but a HorizontalPodAutoscaler owns the replica count (autoscaling.mode hpa), which is ${running}: the scale has no effect. Change autoscaling.minReplicas/maxReplicas, or set autoscaling.enabled: false to scale by hand`;
}
