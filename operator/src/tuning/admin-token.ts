import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Hal9Cluster } from '../api-types.ts';

// The runtime admin API's bearer token, from the Secret a Hal9Cluster names (spec.adminTokenSecretRef).
// Read on demand and kept briefly, so a rotated token is picked up within `ttlMs`.

export type AdminTokenReader = (cluster: Hal9Cluster) => Promise<string | undefined>;

export function secretAdminToken(kc: KubeConfig, ttlMs = 60_000, now = () => Date.now()): AdminTokenReader {
  const api = kc.makeApiClient(CoreV1Api);
  const cache = new Map<string, { token: string | undefined; at: number }>();
  return async (cluster) => {
    const ref = cluster.spec?.adminTokenSecretRef;
    const namespace = cluster.metadata?.namespace;
    if (!ref || !namespace) return undefined;
    const key = `${namespace}/${ref.name}/${ref.key ?? 'token'}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.token;
    const secret = await api.readNamespacedSecret({ name: ref.name, namespace });
    const raw = secret.data?.[ref.key ?? 'token'];
    const token = raw ? Buffer.from(raw, 'base64').toString('utf8').trim() : undefined;
    cache.set(key, { token, at: now() });
    return token;
  };
}
