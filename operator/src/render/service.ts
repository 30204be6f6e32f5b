import type { V1OwnerReference, V1Service } from '@kubernetes/client-node';
import { metricsAnnotations } from './deployment.ts';
import { runtimePort, runtimePortName } from './labels.ts';

export interface ServiceInput {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ownerReference: V1OwnerReference[];
}

/** The neuron's Service: port 8080 named http, for signals from other neurons and for metrics. */
export function renderService(input: ServiceInput): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...input.labels },
      annotations: { ...metricsAnnotations },
      ownerReferences: input.ownerReference,
    },
    spec: {
      type: 'ClusterIP',
      selector: { ...input.selector },
      ports: [{ name: runtimePortName, port: runtimePort, targetPort: runtimePortName, protocol: 'TCP' }],
    },
  };
}
