import type { Hal9Cluster, Neuron } from '../api-types.ts';
import { keyOf } from '../controller/object-reader.ts';
import { OperatorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  clusterOwnerApply,
  clusterOwnerManager,
  clusterOwnerRelease,
  hasClusterOwner,
} from './cluster-owner.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';

/**
 * The Neuron goes with its Hal9Cluster (cluster-owner.ts); a refusal is logged, not fatal.
 * The uid it names is read live first: the cache may still hold a cluster deleted and re-created
 * while its watch was down (an apiserver restart), and a Neuron owned by that gone uid would be
 * deleted by the garbage collector at once. One read serves the Neurons of a burst delivered before it
 * was asked, while it agrees with the cache (cluster-reader.ts). A cluster gone or being deleted owns nothing new.
 * A refusal by RBAC or admission (400, 401, 403, 422) would be the same at every pass: `refused`
 * remembers the cached Neuron it came on, so it is not asked again (nor logged) until the Neuron
 * changes or its informer relists; a failure that may pass (5xx, a timeout) is asked again.
 */
export async function ownByCluster(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  cached: Hal9Cluster,
  refused: WeakSet<Neuron>,
  log: Logger,
) {
  if (refused.has(neuron) || !clusterOwnerApply(neuron, cached)) return;
  try {
    const { namespace = '', name = '' } = cached.metadata ?? {};
    const seenAt = deps.neuronSeenAt?.(keyOf(neuron));
    const cluster = await deps.readCluster(namespace, name, cached.metadata?.uid, seenAt);
    if (!cluster || cluster.metadata?.deletionTimestamp) return;
    const patch = clusterOwnerApply(neuron, cluster);
    if (!patch) return;
    await deps.writer.apply(patch, { manager: clusterOwnerManager, force: false });
  } catch (err) {
    if (err instanceof OperatorError && err.status === 404) return;
    if (err instanceof OperatorError && refusals.has(err.status ?? 0)) refused.add(neuron);
    log.warn({ err }, 'Could not add the Hal9Cluster as owner of the Neuron: it will outlive its cluster');
  }
}

// Answers that asking again with the same Neuron cannot change.
const refusals: ReadonlySet<number> = new Set([400, 401, 403, 422]);

/**
 * The reference turned off (cluster-owner.ts): takes back the one added while it was on, only while
 * the Neuron has one (no request otherwise). A reference another manager owns too stays; `kept`
 * remembers the cached Neuron it stayed on, so it is not sent again until the Neuron changes.
 * A refusal is logged, not fatal.
 */
export async function releaseFromCluster(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  kept: WeakSet<Neuron>,
  log: Logger,
) {
  const patch = clusterOwnerRelease(neuron);
  if (!patch || kept.has(neuron)) return;
  try {
    const after = await deps.writer.apply(patch, { manager: clusterOwnerManager, force: false });
    if (hasClusterOwner(after)) {
      kept.add(neuron);
      log.info("Kept the Neuron's Hal9Cluster ownerReference: another field manager owns it too");
    } else {
      log.info('Removed the Hal9Cluster as owner of the Neuron: it no longer goes with its cluster');
    }
  } catch (err) {
    if (err instanceof OperatorError && err.status === 404) return;
    log.warn({ err }, 'Could not remove the Hal9Cluster as owner of the Neuron: it will go with its cluster');
  }
}
