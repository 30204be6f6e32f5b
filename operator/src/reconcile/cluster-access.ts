import type { CoreV1Api, KubernetesObject } from '@kubernetes/client-node';
import { type Hal9Cluster, labels, type Neuron } from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import { fromApiError, OperatorError, OperatorErrorCode } from '../errors.ts';
import { liveDiffers, withAppliedHash } from '../kube/applied-hash.ts';
import type { LiveObjectReader } from '../kube/live-object-reader.ts';
import type { KubeWriter } from '../kube/writer.ts';
import type { Logger } from '../logger.ts';
import { networkPolicyNames, renderNetworkPolicies } from '../render/network-policy.ts';
import { outlivingNeurons } from '../render/shared-owners.ts';
import { entryNeuron } from '../spec/entry-neuron.ts';
import { type AccessFailure, type AccessStep, accessFailure, firstToShow } from '../status/access-failure.ts';
import { findCondition } from '../status/conditions.ts';
import { ConditionType, Reason } from '../status/reasons.ts';
import { clusterGoneAccess } from './cluster-gone.ts';
import { type CreateSecret, createTokenSecrets } from './token-secrets.ts';

export type { CreateSecret } from './token-secrets.ts';

// The label render/network-policy.ts puts on the policies it renders (with hal9.ai/cluster).
const managedBy = { key: 'app.kubernetes.io/managed-by', value: 'hal9-operator' } as const;

export interface ClusterAccessDeps {
  readonly writer: KubeWriter;
  readonly createSecret: CreateSecret;
  /** A fresh random token (the composition root passes crypto.randomBytes). */
  readonly randomToken: () => string;
  /**
   * The runtime admin token of a cluster that names no Secret of its own (derived from the operator's
   * key, tuning/admin-key.ts): its `<cluster>-admin-token` Secret is created like the peer token's.
   * Absent: none is made (the operator has no key), and such a cluster's pods take admin calls with
   * their peer token only (the cluster's Warning says NoAdminToken).
   */
  readonly adminToken?: (cluster: Hal9Cluster) => Promise<string>;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The informer cache of the NetworkPolicies the operator rendered (selected by
   * networkPolicySelector): a policy is applied when it is missing there or differs from the
   * rendered one. `false`: no policy is read, applied or deleted.
   */
  readonly networkPolicies: ObjectReader<KubernetesObject> | false;
  /**
   * A live read of a policy the cache does not hold, before its first apply: one of that name made
   * by someone else (without the operator's labels) is left alone, never taken over.
   */
  readonly readLive?: LiveObjectReader;
  /**
   * Whether each cluster's policies are rendered and applied. `false` (--no-network-policies):
   * none is, and the cluster's own policies still in `networkPolicies` (applied while they were on)
   * are deleted, so turning them off lifts the isolation they imposed.
   * @default true
   */
  readonly applyNetworkPolicies?: boolean;
  readonly operatorNamespace: string | undefined;
  readonly prometheusNamespaceSelector: Readonly<Record<string, string>>;
  /**
   * How long a Secret found there is trusted while nothing changes: after this it is checked again
   * (a create), so one deleted by hand is back within it and a resync even if no pod starts.
   * @default 3_600_000 (one hour: six 10-minute resyncs without a write)
   */
  readonly recheckMs?: number;
  /**
   * While a Neuron of the cluster is starting pods: the first wait between two checks of the
   * Secret, doubled after each check, up to `recheckMs`.
   * @default 30_000
   */
  readonly startingRecheckMs?: number;
}

export interface AccessResult {
  /** The step that failed, as the Hal9Cluster's Degraded condition shows it, and its error (the
   * error's code decides the retry, as for any reconcile). */
  readonly failure?: AccessFailure & { readonly error: unknown };
  /** Reconcile again after this long although nothing changes: pods are starting and need the Secret. */
  readonly recheckAfterMs?: number;
}

/**
 * What a Hal9Cluster owns besides its Neurons: the peer-token Secret and the NetworkPolicies.
 * `signal`: the reconcile's deadline; past it no write starts (KubeWriter.within).
 */
export interface ClusterAccess {
  (cluster: Hal9Cluster, neurons: readonly Neuron[], signal?: AbortSignal): Promise<AccessResult>;
  /**
   * The Hal9Cluster `namespace/name` is gone: the token Secrets its outliving Neurons' pods mount,
   * made again for them (cluster-gone.ts). `neurons`: the namespace's.
   */
  readonly gone?: (
    namespace: string,
    name: string,
    neurons: readonly Neuron[],
    signal?: AbortSignal,
  ) => Promise<AccessResult>;
}

/** What was last done for one Hal9Cluster (by uid: one deleted and re-created is another). */
interface Done {
  /** metadata.generation it was done for: a new generation starts afresh. */
  readonly generation: number;
  /** When a reconcile last saw the cluster (entries of deleted clusters expire). */
  seenAt: number;
  /** When the Secret was last created or found there (409). */
  secretAt?: number;
  /** The current wait between checks of the Secret while pods are starting. */
  startingWaitMs: number;
  /** namespace/name, and whether it names its own admin token Secret: known once it is gone. */
  key?: string;
  namesOwnAdminToken?: boolean;
}

/**
 * Writes nothing while nothing changed (the operator's promise: no write when idle).
 *
 * The policies are server-side applied, each with the hash of its content in the applied-hash
 * annotation, and compared with the live ones in the informer cache: a policy is applied when it is
 * missing there (deleted by hand), when a field the operator sends differs (edited by hand), or when
 * the rendered content changed (the hash); the entry policy is deleted while it is there and not
 * rendered. The informer enqueues the owning cluster on every change of one (watches.ts), so a
 * deleted or edited policy is back at once, and an unchanged one costs no request.
 *
 * With policies off (`applyNetworkPolicies: false`) the cluster's own policies found in the cache
 * (ownPolicies) are deleted, and a cluster that has none costs no request.
 *
 * The Secret is only ever created (POST; 409 = it exists): the token, once there, is never
 * replaced, and the operator has no read access to Secrets (least privilege), so it cannot see one
 * go. The create is therefore also the check: it stores nothing when the Secret exists. Per cluster
 * the step remembers when the Secret was last created or found, for which generation, and sends
 * the create on the first reconcile of a cluster (or of a new generation), every `recheckMs`, and,
 * because a missing Secret only matters to a pod that is starting (the kubelet mounts it; a running
 * pod keeps its token), while a Neuron of the cluster has pods starting: not Ready, or rolling out
 * (as after the documented rotation: delete the Secret, restart the Deployments). Those checks
 * start after `startingRecheckMs` and back off to `recheckMs`, so a Neuron that never gets Ready
 * costs a few creates, not one per reconcile. A failed create is not remembered, so the retry sends
 * it again.
 *
 * Neurons the cluster does not own (--no-neuron-cluster-owner) outlive it, and so must what their
 * pods need (render/shared-owners.ts): each such Neuron is an owner of the policies and of a Secret
 * made now, beside the cluster. The policies' owners follow the Neurons as they come and go (the
 * rendered list changes, and with it the hash); a Secret keeps the owners it was made with (the
 * operator may only create Secrets), so `gone` makes it again for them once the cluster is deleted.
 */
export function clusterAccess(deps: ClusterAccessDeps): ClusterAccess {
  const recheckMs = deps.recheckMs ?? 3_600_000;
  const startingRecheckMs = Math.min(deps.startingRecheckMs ?? 30_000, recheckMs);
  const memory = new Map<string, Done>();

  const present = async (cluster: Hal9Cluster, neurons: readonly Neuron[], signal?: AbortSignal) => {
    const writer = signal ? deps.writer.within(signal) : deps.writer;
    const createSecret: CreateSecret = signal
      ? (s) => (signal.aborted ? Promise.reject(signal.reason) : deps.createSecret(s))
      : deps.createSecret;
    const now = deps.clock.now();
    for (const [uid, d] of memory) if (now - d.seenAt >= recheckMs) memory.delete(uid);
    const uid = cluster.metadata?.uid ?? '';
    const generation = cluster.metadata?.generation ?? 0;
    const namespace = cluster.metadata?.namespace ?? 'default';
    const log = deps.logger.child({ cluster: `${namespace}/${cluster.metadata?.name}` });
    const last = memory.get(uid);
    const done: Done =
      last?.generation === generation ? last : { generation, seenAt: now, startingWaitMs: startingRecheckMs };
    memory.set(uid, done);
    done.seenAt = now;
    done.key = `${namespace}/${cluster.metadata?.name}`;
    done.namesOwnAdminToken = cluster.spec?.adminTokenSecretRef !== undefined;
    // Every step is tried, so a Secret refused does not keep the policies out; the condition shows the
    // first failure that needs someone, else the first one (a transient one would hide the other as Retrying).
    let failure: AccessResult['failure'];
    const fail = (at: AccessStep, error: unknown) => {
      failure = firstToShow(failure, { ...accessFailure(at, error), error });
    };

    // Owners of the Secrets and policies besides the cluster (render/shared-owners.ts): none while
    // the cluster owns its Neurons.
    const outliving = outlivingNeurons(cluster, neurons);
    const starting = neurons.some(startingPods);
    if (!starting) done.startingWaitMs = startingRecheckMs;
    const secretWait = starting ? done.startingWaitMs : recheckMs;
    if (done.secretAt === undefined || now - done.secretAt >= secretWait) {
      // The admin token Secret of a cluster that names none is checked the same way.
      const created = await createTokenSecrets(deps, createSecret, {
        cluster,
        outliving,
        withAdmin: !cluster.spec?.adminTokenSecretRef,
        log,
        fail,
      });
      if (created) {
        done.secretAt = now;
        if (starting) done.startingWaitMs = Math.min(done.startingWaitMs * 2, recheckMs);
      }
    }

    const live = deps.networkPolicies;
    if (live && deps.applyNetworkPolicies === false) {
      // Turned off: the cluster's own policies left from a run with them on go; nothing else is read.
      for (const policy of ownPolicies(cluster, live)) {
        try {
          await writer.delete(policy);
          log.info({ policy: policy.metadata?.name }, 'Deleted NetworkPolicy; network policies are off');
        } catch (err) {
          fail(step('delete', policy), err);
        }
      }
    } else if (live) {
      const policies = renderNetworkPolicies({
        cluster,
        entryNeuron: entryNeuron(cluster, neurons)?.metadata?.name,
        operatorNamespace: deps.operatorNamespace,
        prometheusNamespaceSelector: deps.prometheusNamespaceSelector,
        outliving,
      }).map(withAppliedHash);
      // Ours: owned (by uid) by the cluster or a Neuron that outlives it, as rendered, or controlled by
      // an earlier Hal9Cluster of this name (deleted and made again). Labels are no claim: anyone who
      // may write a NetworkPolicy may put them on one.
      const owners = new Set(
        (policies[0]?.metadata?.ownerReferences ?? []).map((r) => r.uid).filter((u) => u !== ''),
      );
      const ours = (o: KubernetesObject) =>
        (o.metadata?.ownerReferences ?? []).some(
          (r) =>
            owners.has(r.uid) ||
            (r.controller === true &&
              r.kind === 'Hal9Cluster' &&
              r.apiVersion.split('/')[0] === 'hal9.ai' &&
              r.name === cluster.metadata?.name),
        );
      for (const policy of policies) {
        const name = policy.metadata?.name ?? '';
        const cached = live.get(name, namespace);
        const differs = policyDiffers(policy, cached);
        if (differs === undefined) continue;
        try {
          const existing = cached ?? (await deps.readLive?.(policy));
          if (existing && !ours(existing))
            throw new OperatorError(
              OperatorErrorCode.NameTaken,
              `NetworkPolicy ${namespace}/${name} already exists and is not owned by Hal9Cluster ${cluster.metadata?.name}, so the operator leaves it alone: rename or delete that NetworkPolicy, or rename the Hal9Cluster`,
            );
          await writer.apply(policy);
          log.info({ policy: name, differs }, 'Applied NetworkPolicy');
        } catch (err) {
          fail(step('apply', policy), err);
        }
      }
      const entry = networkPolicyNames(cluster.metadata?.name ?? '').entry;
      const cachedEntry = live.get(entry, namespace);
      if (!policies.some((p) => p.metadata?.name === entry) && cachedEntry && ours(cachedEntry)) {
        // No entry Neuron (any more): its policy would admit anyone to a pod that is not the entry.
        // Deleted by the uid the cache saw (writer.ts): never another made since under its name.
        const absent = {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: entry, namespace, uid: cachedEntry.metadata?.uid },
        };
        try {
          await writer.delete(absent);
          log.info({ policy: entry }, 'Deleted NetworkPolicy');
        } catch (err) {
          fail(step('delete', absent), err);
        }
      }
    }

    if (failure) return { failure };
    return starting && done.secretAt !== undefined
      ? { recheckAfterMs: done.secretAt + done.startingWaitMs - now }
      : {};
  };
  // The latest cluster of that name: one deleted and made again may have left an older entry.
  const namesOwnAdminToken = (key: string) =>
    [...memory.values()]
      .filter((d) => d.key === key)
      .reduce<Done | undefined>((a, d) => (a && a.seenAt >= d.seenAt ? a : d), undefined)?.namesOwnAdminToken;
  return Object.assign(present, { gone: clusterGoneAccess(deps, namesOwnAdminToken) });
}

/**
 * Why the live policy (from the informer cache) needs an apply of the rendered one (a path for
 * logs), or undefined when it does not: missing (deleted), another applied hash (the operator sends
 * other content than last time), or a field the operator sends changed by another writer. Pure.
 */
export function policyDiffers(
  desired: KubernetesObject,
  live: KubernetesObject | undefined,
): string | undefined {
  return live ? liveDiffers(desired, live) : '(absent)';
}

/**
 * The cluster's policies in the cache that the operator made for it: one of the two names it
 * renders, its managed-by and cluster labels, and an ownerReference to this cluster's uid. A policy
 * of such a name that someone else made (without them) is never touched. Reads the cache only.
 */
export function ownPolicies(cluster: Hal9Cluster, live: ObjectReader<KubernetesObject>): KubernetesObject[] {
  const { name = '', namespace = 'default', uid } = cluster.metadata ?? {};
  const names = networkPolicyNames(name);
  return [names.runtime, names.entry]
    .map((n) => live.get(n, namespace))
    .filter((p): p is KubernetesObject => {
      const meta = p?.metadata;
      return (
        meta?.labels?.[managedBy.key] === managedBy.value &&
        meta.labels[labels.cluster] === name &&
        uid !== undefined &&
        (meta.ownerReferences ?? []).some((r) => r.kind === 'Hal9Cluster' && r.uid === uid)
      );
    })
    .map((p) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: p.metadata?.name ?? '', namespace },
    }));
}

/**
 * Whether a Neuron may have pods waiting to start (and so to mount the peer token): not Ready, or
 * still rolling out, as its own conditions say (from the Neuron cache: no extra read).
 */
export function startingPods(neuron: Neuron): boolean {
  const conditions = neuron.status?.conditions;
  const ready = findCondition(conditions, ConditionType.Ready);
  // Paused before its Deployment was made, it has no pods to start, and it stays not Ready as long as
  // it stays paused. One paused with a Deployment still starts pods (an eviction, a drain, its HPA, a
  // rollout restart), which need the Secret as any others do.
  if (
    findCondition(conditions, ConditionType.Paused)?.status === 'True' &&
    ready?.status !== 'True' &&
    ready?.reason === Reason.WaitingForDeployment
  )
    return false;
  return ready?.status !== 'True' || findCondition(conditions, ConditionType.Progressing)?.status === 'True';
}

function step(verb: AccessStep['verb'], obj: KubernetesObject): AccessStep {
  return {
    verb,
    kind: obj.kind === 'Secret' ? 'Secret' : 'NetworkPolicy',
    namespace: obj.metadata?.namespace ?? 'default',
    name: obj.metadata?.name ?? '',
  };
}

/** The Secret creator over the API: POST only; the operator's role has create on Secrets, never get. */
export function secretCreator(
  core: CoreV1Api,
  count: (resource: string, verb: string) => void,
): CreateSecret {
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
