import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';

/** A Hal9Cluster manifest; `spec` overrides the (all-default) spec. */
export function aCluster(
  name: string,
  spec: Record<string, unknown> = {},
): KubernetesObject & { spec: object } {
  return { apiVersion: 'hal9.ai/v1alpha1', kind: 'Hal9Cluster', metadata: { name }, spec };
}

/** A Neuron manifest of `cluster`, layer L2 unless overridden. */
export function aNeuron(
  name: string,
  cluster: string,
  spec: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
): KubernetesObject & { spec: object } {
  return {
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Neuron',
    metadata: { name, ...metadata },
    spec: { cluster, layer: 'L2', ...spec },
  };
}

/** Placement and hugepages as the production sample asks for them. */
export const onPerformanceNodesWithHugepages = Object.freeze({
  placement: { requiredNodeLabels: [{ key: 'node-type', operator: 'In', values: ['performance'] }] },
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  nodeTuning: { hugepages: { size: '2Mi', quantity: '64Mi' } },
});

export function toYaml(objects: readonly object[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}
