import type { V1Deployment, V1ManagedFieldsEntry } from '@kubernetes/client-node';
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
    (e) => e.subresource === 'scale' && !ownManagers.has(e.manager ?? '') && ownsReplicas(e),
  );
  // Unrecorded, the writer may also be the operator's own autoscaler before a switch to mode hpa.
  const how = scaledBy
    ? `set through the scale subresource by ${scaledBy.manager}`
    : unrecordedScale(neuron, wanted)
      ? 'written through the scale subresource, whose writer the apiserver did not record'
      : undefined;
  if (!how) return undefined;
  return `spec.replicas is ${wanted} (${how}) but a HorizontalPodAutoscaler owns the replica count (autoscaling.mode hpa), which is ${running}: the scale has no effect. Change autoscaling.minReplicas/maxReplicas, or set autoscaling.enabled: false to scale by hand`;
}

/** The Neuron CRD's default for spec.replicas (crds/hal9.ai_neurons.yaml). */
export const crdDefaultReplicas = 1;

/**
 * A count nobody owns that is not the CRD's default: the apiserver records no field manager for a
 * scale of a count only the default set (kubernetes/kubernetes#131892), which is every Neuron created
 * by server-side apply without `replicas` (Argo CD, `kubectl apply --server-side`). Any other writer
 * of the main resource would own it. A scale to the default value itself cannot be told apart.
 */
function unrecordedScale(neuron: Neuron, wanted: number): boolean {
  if (wanted === crdDefaultReplicas) return false;
  return !neuron.metadata?.managedFields?.some(ownsReplicas);
}

/** The managedFields entry holds spec.replicas. */
const ownsReplicas = (e: V1ManagedFieldsEntry): boolean =>
  (e.fieldsV1 as { 'f:spec'?: { 'f:replicas'?: unknown } } | undefined)?.['f:spec']?.['f:replicas'] !==
  undefined;
