import { createHmac } from 'node:crypto';
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { Hal9Cluster } from '../api-types.ts';
import { errorMessage, fromApiError, OperatorError, OperatorErrorCode } from '../errors.ts';

// The key the operator derives each Hal9Cluster's runtime admin token from when the cluster names
// no Secret of its own (spec.adminTokenSecretRef): one Secret in the operator's namespace, made by
// the first replica that finds none. The operator may read only that one Secret (a Role with get
// on its name); it never reads the per-cluster token Secrets it creates, because it can derive
// their token again at any time.

/** The key Secret's default name (flag --admin-key-secret). */
export const ADMIN_KEY_SECRET = 'hal9-operator-admin-key';
const KEY = 'key';

/** Deadline of one request for the key: the timeout of the client the composition root passes. */
export const adminKeyTimeoutMs = 10_000;

/**
 * The operator's key: read again once `refreshMs` passed since the last read, so a replaced key is
 * taken up by a running operator too (a restart alone took it before, and a leader kept deriving the
 * old tokens). A failed read keeps the key in use and is tried again at the next call; with none in
 * use yet, it rejects.
 */
export type AdminKey = () => Promise<Buffer>;

/** How long a read key is used before it is read again. */
export const ADMIN_KEY_REFRESH_MS = 60_000;

export interface AdminKeyOptions {
  readonly namespace: string;
  readonly name?: string;
  /** A fresh random key, for the first replica (the composition root passes crypto.randomBytes). */
  readonly randomKey: () => string;
  /** Milliseconds now (the operator's clock). */
  readonly now: () => number;
  readonly refreshMs?: number;
  /** A refresh failed and the key in use is kept (the composition root logs it). */
  readonly onRefreshError?: (message: string) => void;
}

/** `api`: a client whose requests end at adminKeyTimeoutMs. */
export function secretAdminKey(api: CoreV1Api, o: AdminKeyOptions): AdminKey {
  const name = o.name ?? ADMIN_KEY_SECRET;
  const read = async (): Promise<Buffer | undefined> => {
    let s: V1Secret;
    try {
      s = await api.readNamespacedSecret({ name, namespace: o.namespace });
    } catch (err) {
      const e = fromApiError(err, `Read of Secret ${o.namespace}/${name} (the operator's admin key)`);
      if (e.status === 404) return undefined;
      throw e;
    }
    const raw = s.data?.[KEY];
    if (!raw)
      throw new OperatorError(
        OperatorErrorCode.AdminKeyInvalid,
        `Secret ${o.namespace}/${name} has no "${KEY}": delete it and the operator makes a new one`,
      );
    return Buffer.from(raw, 'base64');
  };
  /**
   * The key, made when missing: from `keep` (the key in use, when a refresh found the Secret deleted:
   * a new random key would change every derived token while the pods keep the old ones), else random.
   */
  const load = async (keep?: Buffer): Promise<Buffer> => {
    const found = await read();
    if (found) return found;
    try {
      await api.createNamespacedSecret({
        namespace: o.namespace,
        body: {
          metadata: {
            name,
            labels: { 'app.kubernetes.io/managed-by': 'hal9-operator', 'app.kubernetes.io/part-of': 'hal9' },
            annotations: {
              'hal9.ai/description':
                'Key the Hal9 operator derives the runtime admin token of each Hal9Cluster without spec.adminTokenSecretRef from. Replacing it changes every such token: the operator takes the new key within a minute; then delete the <cluster>-admin-token Secrets and restart the runtime Deployments, and it makes them again from the new key.',
            },
          },
          type: 'Opaque',
          ...(keep ? { data: { [KEY]: keep.toString('base64') } } : { stringData: { [KEY]: o.randomKey() } }),
        },
      });
    } catch (err) {
      // Another replica made it first: read theirs.
      const e = fromApiError(err, `Create of Secret ${o.namespace}/${name} (the operator's admin key)`);
      if (e.status !== 409) throw e;
    }
    const made = await read();
    if (!made)
      throw new OperatorError(
        OperatorErrorCode.NotFound,
        `Secret ${o.namespace}/${name} was created but cannot be read back (deleted at once?)`,
      );
    return made;
  };
  const refreshMs = o.refreshMs ?? ADMIN_KEY_REFRESH_MS;
  let current: Buffer | undefined;
  let readAt = 0;
  let loading: Promise<Buffer> | undefined;
  return () => {
    if (current && o.now() - readAt < refreshMs) return Promise.resolve(current);
    loading ??= load(current)
      .then(
        (key) => {
          current = key;
          return key;
        },
        (err: unknown) => {
          if (!current) throw err;
          o.onRefreshError?.(errorMessage(err));
          return current;
        },
      )
      .finally(() => {
        // A failed refresh waits its turn like a successful one: the apiserver is not asked on every call.
        readAt = o.now();
        loading = undefined;
      });
    return loading;
  };
}

/**
 * A Hal9Cluster's admin token from the operator's key: the same for the same cluster (namespace
 * and name) whenever it is derived, by any replica, and unguessable without the key. Pure.
 */
export function derivedAdminToken(key: Buffer, cluster: Hal9Cluster): string {
  const id = `hal9-admin-token\n${cluster.metadata?.namespace ?? ''}\n${cluster.metadata?.name ?? ''}`;
  return `hal9a_${createHmac('sha256', key).update(id).digest('base64url')}`;
}
