import type { Hal9Cluster } from '../generated/hal9cluster.gen.ts';
import type { Neuron } from '../generated/neuron.gen.ts';

/**
 * The neuron where requests enter a Hal9Cluster: spec.entryNeuron when it names one of the cluster's
 * neurons, else a neuron of the highest layer (the first by name, so the choice is stable).
 */
export function entryNeuron(cluster: Hal9Cluster, neurons: readonly Neuron[]): Neuron | undefined {
  const clusterName = cluster.metadata?.name;
  const members = neurons.filter((n) => n.spec.cluster === clusterName);
  const named = cluster.spec.entryNeuron;
  const explicit = named ? members.find((n) => n.metadata?.name === named) : undefined;
  if (explicit) return explicit;
  return [...members].sort(
    (a, b) =>
      b.spec.layer.localeCompare(a.spec.layer) ||
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  )[0];
}
