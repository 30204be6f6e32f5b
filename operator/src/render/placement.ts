import type {
  V1Affinity,
  V1NodeSelectorRequirement,
  V1Toleration,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import type { EffectiveNeuronSpec } from '../spec/effective-spec.ts';

interface Requirement {
  readonly key: string;
  readonly operator?: string;
  readonly values?: readonly string[];
}

export interface PodPlacement {
  readonly nodeSelector?: Record<string, string>;
  readonly affinity?: V1Affinity;
  readonly tolerations?: V1Toleration[];
  readonly topologySpreadConstraints?: V1TopologySpreadConstraint[];
}

function requirement(r: Requirement): V1NodeSelectorRequirement {
  const operator = r.operator ?? 'In';
  const takesValues = operator === 'In' || operator === 'NotIn';
  return { key: r.key, operator, ...(takesValues ? { values: [...(r.values ?? [])] } : {}) };
}

/** Node selector, node affinity, tolerations and topology spread of the neuron's pods. */
export function renderPlacement(
  spec: EffectiveNeuronSpec,
  selector: Readonly<Record<string, string>>,
): PodPlacement {
  const p = spec.placement;
  const required = p.requiredNodeLabels ?? [];
  const preferred = p.preferredNodeLabels ?? [];
  const nodeAffinity =
    required.length + preferred.length === 0
      ? undefined
      : {
          ...(required.length > 0
            ? {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: required.map(requirement) }],
                },
              }
            : {}),
          ...(preferred.length > 0
            ? {
                preferredDuringSchedulingIgnoredDuringExecution: preferred.map((r) => ({
                  weight: r.weight ?? 1,
                  preference: { matchExpressions: [requirement(r)] },
                })),
              }
            : {}),
        };
  const nodeSelector =
    p.nodeSelector && Object.keys(p.nodeSelector).length > 0 ? { ...p.nodeSelector } : undefined;
  // Empty strings left out as the apiserver leaves them out (an empty key with Exists is every taint;
  // an empty value matches a taint that has none), so the live object reads back as rendered.
  const tolerations = (p.tolerations ?? []).map((t) => ({
    key: t.key || undefined,
    operator: t.operator ?? 'Equal',
    value: t.value || undefined,
    effect: t.effect || undefined,
    tolerationSeconds: t.tolerationSeconds,
  }));
  const spread = p.topologySpread;
  return {
    ...(nodeSelector ? { nodeSelector } : {}),
    ...(nodeAffinity ? { affinity: { nodeAffinity } } : {}),
    ...(tolerations.length > 0 ? { tolerations } : {}),
    ...(spread
      ? {
          topologySpreadConstraints: [
            {
              maxSkew: spread.maxSkew ?? 1,
              topologyKey: spread.topologyKey ?? 'kubernetes.io/hostname',
              whenUnsatisfiable: spread.whenUnsatisfiable ?? 'ScheduleAnyway',
              labelSelector: { matchLabels: { ...selector } },
              // Counts only the pods of the pod's own ReplicaSet: during a rollout the old pods, about
              // to go, would otherwise skew where the new ones land.
              matchLabelKeys: ['pod-template-hash'],
            },
          ],
        }
      : {}),
  };
}
