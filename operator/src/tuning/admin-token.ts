import type { CoreV1Api } from '@kubernetes/client-node';
import type { Hal9Cluster } from '../api-types.ts';
import { fromApiError, OperatorError } from '../errors.ts';

// The runtime admin API's bearer token, from the Secret a Hal9Cluster names (spec.adminTokenSecretRef).
// Read on demand by name (a GET, which a Role can grant for that one name: the operator has no
// cluster-wide read on Secrets) and kept briefly, so a rotated token is picked up within `ttlMs`.
// A refused read is kept for a tenth of that, so a missing grant costs one request per Secret per
// few seconds, not one per Neuron per pass. The tuner awaits the read inside its pass, so the read
// has a short deadline: an apiserver that does not answer fails the read like a refusal would,
// instead of holding every Neuron's tuning until the HTTP client gives up minutes later.

/** Deadline of one Secret read: the timeout of the client the composition root passes. */
export const adminTokenTimeoutMs = 5_000;

export type AdminTokenReader = (cluster: Hal9Cluster) => Promise<string | undefined>;

export interface AdminTokenOptions {
  /** How long a token read is kept. @default 60 s; a failed read is kept a tenth of that. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** `api`: a client whose requests end at adminTokenTimeoutMs. */
export function secretAdminToken(api: CoreV1Api, options: AdminTokenOptions = {}): AdminTokenReader {
  const { ttlMs = 60_000, now = () => Date.now() } = options;
  const cache = new Map<string, { token: string | undefined; error?: Error; at: number }>();
  // One read per Secret at a time: the Neurons of a pass ask for their tokens at once.
  const reading = new Map<string, Promise<string | undefined>>();
  return (cluster) => {
    const ref = cluster.spec?.adminTokenSecretRef;
    const namespace = cluster.metadata?.namespace;
    if (!ref || !namespace) return Promise.resolve(undefined);
    const key = `${namespace}/${ref.name}/${ref.key ?? 'token'}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < (hit.error ? ttlMs / 10 : ttlMs))
      return hit.error ? Promise.reject(hit.error) : Promise.resolve(hit.token);
    let p = reading.get(key);
    if (!p) {
      p = read(namespace, ref.name, ref.key ?? 'token', key).finally(() => reading.delete(key));
      reading.set(key, p);
    }
    return p;
  };

  /** Reads the Secret `name`'s `keyName` and keeps the token, or the refusal, under `key`. */
  async function read(namespace: string, name: string, keyName: string, key: string) {
    for (const [k, v] of cache) if (now() - v.at >= ttlMs) cache.delete(k);
    let secret: Awaited<ReturnType<CoreV1Api['readNamespacedSecret']>>;
    try {
      secret = await api.readNamespacedSecret({ name: name, namespace });
    } catch (err) {
      const e = fromApiError(err, `Read of Secret ${namespace}/${name} (spec.adminTokenSecretRef)`);
      // The hint goes into an error of the same code and status, so what decides on retries and
      // conditions (isTransient, requeueFor) still sees the refusal.
      const error =
        e.status === 403
          ? new OperatorError(
              e.code,
              `${e.message.slice(e.code.length + 2)}; the operator may read only the Secrets it is granted: add {namespace: ${namespace}, names: [${name}]} to the chart value rbac.adminTokenSecrets (a Role with get on that name)`,
              { cause: e, status: e.status, ...(e.detail ? { detail: e.detail } : {}) },
            )
          : e;
      cache.set(key, { token: undefined, error, at: now() });
      throw error;
    }
    const raw = secret.data?.[keyName];
    const token = raw ? Buffer.from(raw, 'base64').toString('utf8').trim() : undefined;
    cache.set(key, { token, at: now() });
    return token;
  }
}
