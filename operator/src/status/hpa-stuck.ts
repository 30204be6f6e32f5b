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
 * Warning says so, in the HPA's words. `ScalingDisabled` (its target scaled to zero on purpose) is
 * no fault. Pure; undefined when the HPA is absent or well.
 */
export function hpaCannotScale(hpa: KubernetesObject | undefined): string | undefined {
  const conditions = (hpa as { status?: { conditions?: HpaCondition[] } } | undefined)?.status?.conditions;
  const stuck = conditions?.find(
    (c) =>
      BLOCKING.includes(c.type as (typeof BLOCKING)[number]) &&
      c.status === 'False' &&
      c.reason !== 'ScalingDisabled',
  );
  if (!stuck) return undefined;
  const said = (stuck.message ?? '').slice(0, MESSAGE_MAX);
  return `HorizontalPodAutoscaler ${hpa?.metadata?.name} cannot scale (${stuck.type}=False, ${stuck.reason ?? 'no reason'}${said ? `: ${said}` : ''}): the replicas stay where they are. In mode hpa it scales on CPU, so the cluster needs metrics-server and the pods a CPU request`;
}
