import type { V1NetworkPolicy, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import type { Hal9Cluster } from '../generated/hal9cluster.gen.ts';
import type { Neuron } from '../generated/neuron.gen.ts';
import { runtimePort } from './labels.ts';
import { sharedOwnerReferences } from './shared-owners.ts';
import { sortKeys } from './sort-keys.ts';

export interface NetworkPolicyInput {
  readonly cluster: Hal9Cluster;
  /** The Neuron requests enter by (spec.entryNeuron or the highest layer); undefined: none yet. */
  readonly entryNeuron: string | undefined;
  /** The operator's namespace (load reads, tuning); undefined when it runs out of cluster. */
  readonly operatorNamespace: string | undefined;
  /** Labels of the namespaces Prometheus scrapes from. */
  readonly prometheusNamespaceSelector: Readonly<Record<string, string>>;
  /**
   * The Neurons that outlive the cluster (shared-owners.ts outlivingNeurons): owners of the
   * policies too, so their pods stay isolated after the cluster is deleted.
   * @default []
   */
  readonly outliving?: readonly Neuron[];
}

/**
 * Selects the policies the operator renders (their labels below), for its informer: watching only
 * those keeps the cache small. A policy that loses one of these labels leaves the cache, so it reads
 * as deleted and is applied again.
 */
export const networkPolicySelector = 'app.kubernetes.io/managed-by=hal9-operator,hal9.ai/cluster';

/** Names of a cluster's two policies. */
export function networkPolicyNames(clusterName: string): {
  readonly runtime: string;
  readonly entry: string;
} {
  return { runtime: `${clusterName}-hal9-runtime`, entry: `${clusterName}-hal9-entry` };
}

/**
 * A Hal9Cluster's NetworkPolicies. Once a policy selects a pod, only what some policy admits reaches
 * it, and policies add up, so two are rendered:
 * - `<cluster>-hal9-runtime` selects every runtime pod of the cluster and admits, on the runtime
 *   port only, the cluster's own runtime pods (peer calls), the operator's namespace (load reads,
 *   executor limits) and Prometheus' namespaces (scrapes);
 * - `<cluster>-hal9-entry` selects the entry Neuron's pods and admits anyone on the runtime port:
 *   that is where requests enter. Its admin and peer routes stay behind their tokens.
 * Pure: equal input, equal output.
 */
export function renderNetworkPolicies(input: NetworkPolicyInput): V1NetworkPolicy[] {
  const name = input.cluster.metadata?.name ?? '';
  const namespace = input.cluster.metadata?.namespace ?? 'default';
  const names = networkPolicyNames(name);
  const clusterPods = { 'app.kubernetes.io/name': 'hal9-runtime', 'hal9.ai/cluster': name };
  const ports = [{ protocol: 'TCP', port: runtimePort }];
  const labels = {
    'app.kubernetes.io/managed-by': 'hal9-operator',
    'app.kubernetes.io/part-of': 'hal9',
    'hal9.ai/cluster': name,
  };
  const metadata = (policyName: string) => ({
    name: policyName,
    namespace,
    labels,
    ownerReferences: sharedOwnerReferences(input.cluster, input.outliving ?? []),
  });
  const peers: V1NetworkPolicyPeer[] = [{ podSelector: { matchLabels: clusterPods } }];
  if (input.operatorNamespace) {
    peers.push({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': input.operatorNamespace } },
    });
  }
  peers.push({ namespaceSelector: { matchLabels: { ...input.prometheusNamespaceSelector } } });
  const policies: V1NetworkPolicy[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(names.runtime),
      spec: {
        podSelector: { matchLabels: clusterPods },
        policyTypes: ['Ingress'],
        // `_from` is client-node's name for the wire field `from` (its serializer maps it).
        ingress: [{ _from: peers, ports }],
      },
    },
  ];
  if (input.entryNeuron) {
    policies.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(names.entry),
      spec: {
        podSelector: { matchLabels: { ...clusterPods, 'hal9.ai/neuron': input.entryNeuron } },
        policyTypes: ['Ingress'],
        ingress: [{ ports }],
      },
    });
  }
  return policies.map((p) => sortKeys(p));
}
