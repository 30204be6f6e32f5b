import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { labels } from '../api-types.ts';
import { runtimePortName } from './labels.ts';

export interface ServiceMonitorInput {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** monitoring.serviceMonitorLabels: what the Prometheus's serviceMonitorSelector needs (ours win a clash). */
  readonly extraLabels?: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ownerReference: V1OwnerReference[];
  readonly interval: string;
}

/** Prometheus Operator ServiceMonitor for the neuron's Service (only rendered when monitoring.serviceMonitor is on). */
export function renderServiceMonitor(input: ServiceMonitorInput): KubernetesObject & { spec: unknown } {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...input.extraLabels, ...input.labels },
      ownerReferences: input.ownerReference,
    },
    spec: {
      selector: { matchLabels: { ...input.selector } },
      // Each series then names its Neuron (as hal9_ai_neuron), which the tuner's queries select by:
      // pod names cannot always tell (tuning/prometheus.ts).
      podTargetLabels: [labels.neuron],
      endpoints: [{ port: runtimePortName, path: '/metrics', interval: input.interval }],
    },
  };
}
