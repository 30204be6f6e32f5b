import { apiVersion, type Hal9Cluster, type Neuron } from '../api-types.ts';
import { networkPolicyNames } from '../render/network-policy.ts';
import { outlivingNeurons } from '../render/shared-owners.ts';
import { type AccessStep, accessFailure, firstToShow } from '../status/access-failure.ts';
import type { AccessResult, ClusterAccessDeps } from './cluster-access.ts';
import { type CreateSecret, createTokenSecrets } from './token-secrets.ts';

/**
 * The first wait before a gone cluster's Secrets are checked again: the Secret found at the first
 * check (409) may still be the cluster's own, which the garbage collector is about to delete.
 */
export const GONE_FIRST_RECHECK_MS = 5_000;

/** What was last done for one gone cluster (by namespace/name: it has no uid any more). */
interface Kept {
  /** When a reconcile last saw it gone (entries expire as the cluster access step's do). */
  seenAt: number;
  /** When its Secrets were last created or found. */
  secretAt?: number;
  /** The current wait between two checks. */
  waitMs: number;
  /** The current wait while the garbage collector has yet to act (collectorBehind). */
  behindWaitMs: number;
  /**
   * Whether the cluster named its own admin token Secret, as known when it was first seen gone:
   * kept here, as the access step's memory of the cluster expires while its Neurons outlive it.
   */
  readonly namedOwnAdmin: boolean | undefined;
}

/**
 * The step for a Hal9Cluster that is gone while Neurons that outlive it remain (neuronClusterOwner
 * off, render/shared-owners.ts). Their pods mount its token Secrets, and any pod that starts (an
 * eviction, a drain, a scale-up by the Neuron's HPA) waits in ContainerCreating without them. A
 * Secret takes the owners it is made with (the operator may only create Secrets), so the ones made
 * while the cluster was there, owned by it alone, went with it: they are made again, owned by the
 * outliving Neurons, and go with the last of those. The admin token is derived from the cluster's
 * namespace and name, so it is the one the pods hold; the peer token is new, and the runtimes take
 * it up as after a rotation (they accept the previous one meanwhile). Whether the cluster named its
 * own admin token Secret is remembered from its last reconcile; unknown (an operator restarted
 * since), the operator's own is made, owned by the same Neurons. The policies need nothing here:
 * those Neurons own them too, so the garbage collector left them.
 *
 * Checked as a starting cluster's Secret is (a create is the check): once the garbage collector has
 * acted on the deletion (collectorBehind), then after GONE_FIRST_RECHECK_MS, doubling up to
 * `recheckMs`, for as long as such a Neuron remains.
 * `namesOwnAdminToken`: whether the cluster `namespace/name` named spec.adminTokenSecretRef when it
 * was last seen, undefined when it was not seen.
 */
export function clusterGoneAccess(
  deps: ClusterAccessDeps,
  namesOwnAdminToken: (key: string) => boolean | undefined = () => undefined,
) {
  const recheckMs = deps.recheckMs ?? 3_600_000;
  const firstMs = Math.min(GONE_FIRST_RECHECK_MS, recheckMs);
  const memory = new Map<string, Kept>();

  return async (
    namespace: string,
    name: string,
    neurons: readonly Neuron[],
    signal?: AbortSignal,
  ): Promise<AccessResult> => {
    const now = deps.clock.now();
    for (const [k, d] of memory) if (now - d.seenAt >= recheckMs) memory.delete(k);
    const key = `${namespace}/${name}`;
    const gone: Hal9Cluster = { apiVersion, kind: 'Hal9Cluster', metadata: { name, namespace }, spec: {} };
    const outliving = outlivingNeurons(gone, neurons);
    if (outliving.length === 0) {
      memory.delete(key);
      return {};
    }
    const kept = memory.get(key) ?? {
      seenAt: now,
      waitMs: firstMs,
      behindWaitMs: firstMs,
      namedOwnAdmin: namesOwnAdminToken(key),
    };
    memory.set(key, kept);
    kept.seenAt = now;
    if (collectorBehind(deps, namespace, name)) {
      // Its Secrets are still there, about to go: a create now would find them (409). The collector's
      // edit of the policies brings the cluster's key back (watches.ts); this is in case it does not.
      const recheckAfterMs = kept.behindWaitMs;
      kept.behindWaitMs = Math.min(kept.behindWaitMs * 2, recheckMs);
      return { recheckAfterMs };
    }
    let failure: AccessResult['failure'];
    if (kept.secretAt === undefined || now - kept.secretAt >= kept.waitMs) {
      const createSecret: CreateSecret = signal
        ? (s) => (signal.aborted ? Promise.reject(signal.reason) : deps.createSecret(s))
        : deps.createSecret;
      const created = await createTokenSecrets(deps, createSecret, {
        cluster: gone,
        outliving,
        withAdmin: kept.namedOwnAdmin !== true,
        log: deps.logger.child({ cluster: key, neurons: outliving.map((n) => n.metadata?.name) }),
        fail: (at: AccessStep, error: unknown) => {
          failure = firstToShow(failure, { ...accessFailure(at, error), error });
        },
      });
      if (created) {
        kept.waitMs = kept.secretAt === undefined ? firstMs : Math.min(kept.waitMs * 2, recheckMs);
        kept.secretAt = now;
      }
    }
    if (failure) return { failure };
    return { recheckAfterMs: (kept.secretAt ?? now) + kept.waitMs - now };
  };
}

/**
 * Whether the garbage collector has yet to act on the cluster's deletion: one of its policies in
 * the cache still names it as owner (the collector takes a deleted owner out of the references of a
 * dependent that has others left, and deletes, in the same pass, those it owned alone). Without
 * policies there is nothing to tell, and the checks' backoff covers it.
 */
function collectorBehind(deps: ClusterAccessDeps, namespace: string, name: string): boolean {
  const live = deps.networkPolicies;
  if (!live || deps.applyNetworkPolicies === false) return false;
  const names = networkPolicyNames(name);
  return [names.runtime, names.entry].some((n) =>
    (live.get(n, namespace)?.metadata?.ownerReferences ?? []).some(
      (r) => r.kind === 'Hal9Cluster' && r.name === name && r.apiVersion.split('/')[0] === 'hal9.ai',
    ),
  );
}
