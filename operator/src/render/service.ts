import type { V1OwnerReference, V1Service } from '@kubernetes/client-node';
import { runtimePort, runtimePortName } from './labels.ts';

export interface ServiceInput {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ownerReference: V1OwnerReference[];
}

/**
 * The neuron's Service: port 8080 named http, for signals from other neurons and for the
 * ServiceMonitor. No `prometheus.io/scrape` annotations: the pods carry them, and a stock Prometheus's
 * service-endpoints job would scrape every pod a second time through the Service.
 */
export function renderService(input: ServiceInput): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...input.labels },
      ownerReferences: input.ownerReference,
    },
    spec: {
      type: 'ClusterIP',
      selector: { ...input.selector },
      ports: [{ name: runtimePortName, port: runtimePort, targetPort: runtimePortName, protocol: 'TCP' }],
    },
  };
}
