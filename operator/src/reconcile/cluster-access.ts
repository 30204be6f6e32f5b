import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';
import { fromApiError } from '../errors.ts';
import { makeClient } from '../kube/api-client.ts';
import type { KubeWriter } from '../kube/writer.ts';
import type { Logger } from '../logger.ts';
import { networkPolicyNames, renderNetworkPolicies } from '../render/network-policy.ts';
import { renderPeerSecret } from '../render/peer-secret.ts';
import { entryNeuron } from '../spec/entry-neuron.ts';

/** Creates a Secret; 'exists' when one of that name is already there (it is never read or replaced). */
export type CreateSecret = (secret: V1Secret) => Promise<'created' | 'exists'>;

export interface ClusterAccessDeps {
  readonly writer: KubeWriter;
  readonly createSecret: CreateSecret;
  /** A fresh random token (the composition root passes crypto.randomBytes). */
  readonly randomToken: () => string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly networkPolicies: boolean;
  readonly operatorNamespace: string | undefined;
  readonly prometheusNamespaceSelector: Readonly<Record<string, string>>;
  /** How long a step done is not repeated (a deleted Secret or policy is restored after this). */
  readonly recheckMs?: number;
}

/** What a Hal9Cluster owns besides its Neurons: the peer-token Secret and the NetworkPolicies. */
export type ClusterAccess = (cluster: Hal9Cluster, neurons: readonly Neuron[]) => Promise<void>;

/**
 * The Secret is only created (POST, 409 = it exists): the operator needs no read access to
 * Secrets for it, and a token, once there, is never replaced. The policies are applied with
 * server-side apply when they differ from what was last applied. Neither is repeated for
 * `recheckMs` (10 min) unless its input changed, so a busy cluster costs no extra writes.
 */
export function clusterAccess(deps: ClusterAccessDeps): ClusterAccess {
  const recheckMs = deps.recheckMs ?? 600_000;
  const done = new Map<string, { json: string; at: number }>();
  const fresh = (id: string, json: string) => {
    const hit = done.get(id);
    return hit !== undefined && hit.json === json && deps.clock.now() - hit.at < recheckMs;
  };
  return async (cluster, neurons) => {
    // Entries of deleted clusters expire with the rest: the map holds what was done recently only.
    for (const [id, hit] of done) if (deps.clock.now() - hit.at >= recheckMs) done.delete(id);
    const uid = cluster.metadata?.uid ?? '';
    const log = deps.logger.child({ cluster: `${cluster.metadata?.namespace}/${cluster.metadata?.name}` });
    // A cluster deleted and re-created under the same name is another uid: keys carry it.
    const secretId = `${uid}/secret`;
    if (!fresh(secretId, '')) {
      const secret = renderPeerSecret(cluster, deps.randomToken());
      const result = await deps.createSecret(secret);
      if (result === 'created') log.info({ secret: secret.metadata?.name }, 'Created peer token Secret');
      done.set(secretId, { json: '', at: deps.clock.now() });
    }
    if (!deps.networkPolicies) return;
    const policies = renderNetworkPolicies({
      cluster,
      entryNeuron: entryNeuron(cluster, neurons)?.metadata?.name,
      operatorNamespace: deps.operatorNamespace,
      prometheusNamespaceSelector: deps.prometheusNamespaceSelector,
    });
    const names = networkPolicyNames(cluster.metadata?.name ?? '');
    for (const policy of policies) {
      const id = `${uid}/${policy.metadata?.name}`;
      const json = JSON.stringify(policy);
      if (fresh(id, json)) continue;
      await deps.writer.apply(policy);
      done.set(id, { json, at: deps.clock.now() });
    }
    if (!policies.some((p) => p.metadata?.name === names.entry)) {
      // No entry Neuron (any more): its policy would admit anyone to a pod that is not the entry.
      const id = `${uid}/${names.entry}`;
      if (!fresh(id, 'absent')) {
        await deps.writer.delete({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: names.entry, namespace: cluster.metadata?.namespace ?? 'default' },
        });
        done.set(id, { json: 'absent', at: deps.clock.now() });
      }
    }
  };
}

/** The Secret creator over the API: POST only; the operator's role has create on Secrets, never get. */
export function secretCreator(kc: KubeConfig, count: (resource: string, verb: string) => void): CreateSecret {
  const core = makeClient(kc, CoreV1Api);
  return async (secret) => {
    count('secrets', 'create');
    try {
      await core.createNamespacedSecret({ namespace: secret.metadata?.namespace ?? 'default', body: secret });
      return 'created';
    } catch (err) {
      const e = fromApiError(err, `Create of Secret ${secret.metadata?.namespace}/${secret.metadata?.name}`);
      if (e.status === 409) return 'exists';
      throw e;
    }
  };
}
