import type { KubernetesObject } from '@kubernetes/client-node';
import type { Neuron } from '../api-types.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';

export function deploymentName(neuron: Neuron, deps: NeuronReconcilerDeps): string {
  // The Deployment is the one this Neuron controls; its name comes from render, and is usually
  // the Neuron's: looked up first, then among the Deployments it owns (the cache's owner index).
  const uid = neuron.metadata?.uid;
  const controlled = (d: KubernetesObject | undefined) =>
    d?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid) === true;
  const { name = '', namespace } = neuron.metadata ?? {};
  if (!uid || controlled(deps.children.Deployment.get(name, namespace))) return name;
  const found = deps.children.Deployment.ownedBy(uid).find(
    (d) => controlled(d) && d.metadata?.namespace === namespace,
  );
  return found?.metadata?.name ?? name;
}
