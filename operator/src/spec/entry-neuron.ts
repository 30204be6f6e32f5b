import type { Hal9Cluster, Neuron } from '@hal9/api';

/**
 * The neuron where requests enter a Hal9Cluster: spec.entryNeuron when it names one of the cluster's
 * neurons, else a neuron of the highest layer (the first by name, so the choice is stable).
 */
export function entryNeuron(cluster: Hal9Cluster, neurons: readonly Neuron[]): Neuron | undefined {
  const clusterName = cluster.metadata?.name;
  return pickEntryNeuron(
    cluster.spec.entryNeuron,
    neurons.filter((n) => n.spec.cluster === clusterName),
  );
}

/** The entry among a cluster's neurons: the one `named` names, else the highest layer (first by name). */
export function pickEntryNeuron(named: string | undefined, members: readonly Neuron[]): Neuron | undefined {
  const explicit = named ? members.find((n) => n.metadata?.name === named) : undefined;
  if (explicit) return explicit;
  return [...members].sort(
    (a, b) =>
      String(b.spec?.layer ?? '').localeCompare(String(a.spec?.layer ?? '')) ||
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  )[0];
}
