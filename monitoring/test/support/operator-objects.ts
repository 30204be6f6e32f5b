// The Kubernetes objects the integration test gives the real operator: the `perf` runtime's topology
// as a Hal9Cluster and three Neurons, arranged so that each operator series has something to show.
import type { KubernetesObject } from '@kubernetes/client-node';
import { aCluster, aNeuron } from '../../../operator/test/support/builders.ts';

/** The Neuron whose parallelism the operator tunes (the perf runtime's L4 neuron). */
export const tunedNeuron = 'strategic-1';
/** The Neuron whose PodDisruptionBudget the namespace's quota refuses: its reconciles fail. */
export const refusedNeuron = 'impl-1';
export const refusingQuota = 'no-disruption-budgets';

/** A quota that admits no PodDisruptionBudget, so applying one is refused with 403 "exceeded quota". */
export function noDisruptionBudgetsQuota(): KubernetesObject & { spec: object } {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: refusingQuota },
    spec: { hard: { 'count/poddisruptionbudgets.policy': '0' } },
  };
}

/**
 * Hal9Cluster `clusterName` (the runtime's `hal9_cluster` label) with the tuner's Prometheus, and:
 * - strategic-1: parallelism tuning on; no replicas, so the tuner never dials a fake kwok pod IP
 *   (its observations come from the loopback runtime scraped with this Neuron's pod label);
 * - design-1: one pod, reconciled cleanly;
 * - impl-1: two replicas, which render a PodDisruptionBudget the quota refuses (reconcile errors, retries).
 */
export function perfTopology(
  clusterName: string,
  prometheusURL: string,
): (KubernetesObject & { spec: object })[] {
  return [
    aCluster(clusterName, {
      monitoring: { scrapeInterval: '1s' },
      autoscaling: {
        metricsSource: 'prometheus',
        parallelism: { min: 1, max: 8, latencySLOMs: 50, prometheusURL },
      },
    }),
    aNeuron(tunedNeuron, clusterName, {
      layer: 'L4',
      forwardConnections: ['design-1'],
      replicas: 0,
      autoscaling: { parallelism: { enabled: true } },
    }),
    aNeuron('design-1', clusterName, { layer: 'L3', forwardConnections: [refusedNeuron], replicas: 1 }),
    aNeuron(refusedNeuron, clusterName, { layer: 'L2', replicas: 2 }),
  ];
}

/** A pod name of `neuron` as a Deployment names it, which the tuner's per-pod queries select on. */
export const podNameOf = (neuron: string) => `${neuron}-5d8f7c9b4-x2k7q`;
