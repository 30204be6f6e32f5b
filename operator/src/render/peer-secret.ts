import type { V1Secret } from '@kubernetes/client-node';
import type { Hal9Cluster } from '../generated/hal9cluster.gen.ts';
import type { Neuron } from '../generated/neuron.gen.ts';
import { sharedOwnerReferences } from './shared-owners.ts';

// The peer route's shared secret: one per Hal9Cluster, generated once by the operator, mounted into
// every runtime pod of the cluster (HAL9_PEER_TOKEN_FILE). Runtimes send it to their peers and
// require it on POST /v1/neurons/:id/signals, so only pods of the same cluster can hand work over.

export const peerTokenKey = 'token';
export const peerTokenMountPath = '/var/run/hal9/peer';
export const peerTokenFile = `${peerTokenMountPath}/${peerTokenKey}`;
export const peerTokenVolume = 'peer-token';

/** The Secret's name: derived from the cluster's, so a pod template can name it without a lookup. */
export function peerSecretName(clusterName: string): string {
  return `${clusterName}-peer-token`;
}

/**
 * A token Secret the operator makes for a cluster (the peer token, a generated admin token), owned
 * by it and by the Neurons that outlive it (shared-owners.ts), holding `token` under `key`. Such
 * Secrets are only ever created, never applied or updated, so an existing token is never replaced
 * behind the user's back: their owners are the ones of the moment they are made.
 */
export function clusterTokenSecret(
  cluster: Hal9Cluster,
  o: {
    readonly name: string;
    readonly key: string;
    readonly description: string;
    readonly token: string;
    readonly outliving: readonly Neuron[];
  },
): V1Secret {
  const name = cluster.metadata?.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: o.name,
      namespace: cluster.metadata?.namespace ?? 'default',
      labels: {
        'app.kubernetes.io/managed-by': 'hal9-operator',
        'app.kubernetes.io/part-of': 'hal9',
        'hal9.ai/cluster': name,
      },
      annotations: { 'hal9.ai/description': o.description },
      ownerReferences: sharedOwnerReferences(cluster, o.outliving),
    },
    type: 'Opaque',
    stringData: { [o.key]: o.token },
  };
}

/** The peer-token Secret to create for a cluster with a freshly generated `token`. */
export function renderPeerSecret(
  cluster: Hal9Cluster,
  token: string,
  outliving: readonly Neuron[] = [],
): V1Secret {
  return clusterTokenSecret(cluster, {
    outliving,
    name: peerSecretName(cluster.metadata?.name ?? ''),
    key: peerTokenKey,
    description:
      'Shared token of the peer route between this Hal9Cluster runtime pods. Generated once; to rotate it, replace the data: running pods take up the new token within about a minute, without a restart.',
    token,
  });
}
