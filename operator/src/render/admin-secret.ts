import type { V1Secret } from '@kubernetes/client-node';
import type { Hal9Cluster } from '../generated/hal9cluster.gen.ts';
import type { Neuron } from '../generated/neuron.gen.ts';
import { clusterTokenSecret } from './peer-secret.ts';

// A Hal9Cluster's runtime admin token when it names no Secret of its own (spec.adminTokenSecretRef):
// made by the operator with a token derived from its key (tuning/admin-key.ts), mounted into every
// runtime pod of the cluster (HAL9_AUTH_TOKEN_FILE), so the admin API is never open by default.

export const adminTokenKey = 'token';

/** The Secret's name: derived from the cluster's, so a pod template can name it without a lookup. */
export function adminSecretName(clusterName: string): string {
  return `${clusterName}-admin-token`;
}

/** Only ever created, like the peer token's (its token is the same whenever it is derived). */
export function renderAdminSecret(
  cluster: Hal9Cluster,
  token: string,
  outliving: readonly Neuron[] = [],
): V1Secret {
  return clusterTokenSecret(cluster, {
    outliving,
    name: adminSecretName(cluster.metadata?.name ?? ''),
    key: adminTokenKey,
    description:
      'Runtime admin token of this Hal9Cluster (it names no spec.adminTokenSecretRef), derived by the operator from its key. To use a token of your own, name a Secret in spec.adminTokenSecretRef.',
    token,
  });
}
