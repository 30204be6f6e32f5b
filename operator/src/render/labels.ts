import type { V1OwnerReference } from '@kubernetes/client-node';
import type { Neuron } from '../generated/neuron.gen.ts';

/** Annotation on the pod template: hash of the runtime configuration, so config changes roll the pods. */
export const configHashAnnotation = 'hal9.ai/config-hash';
export const fieldManager = 'hal9-operator';
export const runtimePort = 8080;
export const runtimePortName = 'http';

/** Labels that select the pods of one neuron (immutable: the Deployment selector uses them). */
export function selectorLabels(neuronName: string): Readonly<Record<string, string>> {
  return { 'app.kubernetes.io/name': 'hal9-runtime', 'hal9.ai/neuron': neuronName };
}

/** The selector as a string, for Neuron status.selector (the scale subresource). */
export function selectorString(neuronName: string): string {
  return Object.entries(selectorLabels(neuronName))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * The standard labels of every object rendered for a neuron. No `app.kubernetes.io/instance`: under
 * Argo CD's label tracking that label names the Application an object belongs to, so children
 * carrying a Neuron's name would be taken for the resources of an Application of that name (shown,
 * diffed, pruned). `hal9.ai/neuron` says which Neuron they are for.
 */
export function neuronLabels(neuron: Neuron): Readonly<Record<string, string>> {
  const name = neuron.metadata?.name ?? '';
  return {
    'app.kubernetes.io/component': 'neuron',
    'app.kubernetes.io/managed-by': 'hal9-operator',
    'app.kubernetes.io/name': 'hal9-runtime',
    'app.kubernetes.io/part-of': 'hal9',
    'hal9.ai/cluster': neuron.spec.cluster,
    'hal9.ai/layer': neuron.spec.layer,
    'hal9.ai/neuron': name,
  };
}

/** The controller ownerReference to the Neuron (garbage collection and watch mapping). */
export function neuronOwnerReference(neuron: Neuron): V1OwnerReference {
  return {
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Neuron',
    name: neuron.metadata?.name ?? '',
    uid: neuron.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Names of the objects rendered for a neuron. */
export function childNames(neuronName: string): {
  readonly deployment: string;
  readonly service: string;
  readonly configMap: string;
  readonly hpa: string;
  readonly pdb: string;
} {
  return {
    deployment: neuronName,
    service: neuronName,
    configMap: `${neuronName}-config`,
    hpa: neuronName,
    pdb: neuronName,
  };
}

/** In-cluster URL of a neuron's Service. */
export function neuronEndpoint(neuronName: string, namespace: string): string {
  return `http://${childNames(neuronName).service}.${namespace}.svc:${runtimePort}`;
}
