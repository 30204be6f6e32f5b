import type { KubernetesObject } from '@kubernetes/client-node';

/** The HPA conditions that say it cannot do its job (autoscaling/v2). */
const BLOCKING = ['AbleToScale', 'ScalingActive'] as const;
/** Longest piece of the HPA's own message quoted (the controller's messages are a line or two). */
const MESSAGE_MAX = 300;

interface HpaCondition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

/**
 * In autoscaling mode hpa the HorizontalPodAutoscaler decides the replicas: when it says it cannot
 * (no metrics, as without metrics-server or without a CPU request; a failed scale), the Neuron's
 * Warning says so, in the HPA's words. `ScalingDisabled` (its Deployment at zero) is no fault but
 * no autoscaling either, whatever minReplicas says: a Neuron scaled to zero before autoscaling was
 * turned on stays there, and `kubectl scale nrn` does not move it (the HPA owns the count), so the
 * Warning says how to start it. Pure; undefined when the HPA is absent or well.
 */
export function hpaCannotScale(hpa: KubernetesObject | undefined): string | undefined {
  const conditions = (hpa as { status?: { conditions?: HpaCondition[] } } | undefined)?.status?.conditions;
  const stuck = conditions?.find(
    (c) => BLOCKING.includes(c.type as (typeof BLOCKING)[number]) && c.status === 'False',
  );
  if (!stuck) return undefined;
  const name = hpa?.metadata?.name;
  if (stuck.reason === 'ScalingDisabled') {
    const target =
      (hpa as { spec?: { scaleTargetRef?: { name?: string } } }).spec?.scaleTargetRef?.name ?? name;
    return `HorizontalPodAutoscaler ${name} does not scale: Deployment ${target} is at 0 replicas, which an HPA leaves alone. To start autoscaling, kubectl scale deployment ${target} --replicas=<minReplicas or more>`;
  }
  const said = (stuck.message ?? '').slice(0, MESSAGE_MAX);
  return `HorizontalPodAutoscaler ${name} cannot scale (${stuck.type}=False, ${stuck.reason ?? 'no reason'}${said ? `: ${said}` : ''}): the replicas stay where they are. In mode hpa it scales on CPU, so the cluster needs metrics-server and the pods a CPU request`;
}
