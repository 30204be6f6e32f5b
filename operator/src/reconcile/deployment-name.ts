import type { KubernetesObject } from '@kubernetes/client-node';
import type { Neuron } from '../api-types.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';

export function deploymentName(neuron: Neuron, deps: NeuronReconcilerDeps): string {
  // The Deployment is the one this Neuron controls; its name comes from render, and is usually
  // the Neuron's: looked up first, so that not every reconcile scans every Deployment.
  const uid = neuron.metadata?.uid;
  const controlled = (d: KubernetesObject | undefined) =>
    d?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid) === true;
  const { name = '', namespace } = neuron.metadata ?? {};
  if (controlled(deps.children.Deployment.get(name, namespace))) return name;
  const found = deps.children.Deployment.list(namespace).find(controlled);
  return found?.metadata?.name ?? name;
}
