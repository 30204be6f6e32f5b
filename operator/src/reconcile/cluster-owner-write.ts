import type { Hal9Cluster, Neuron } from '../api-types.ts';
import { OperatorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { clusterOwnerApply, clusterOwnerManager } from './cluster-owner.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';

/**
 * The Neuron goes with its Hal9Cluster (cluster-owner.ts); a refusal is logged, not fatal.
 * The uid it names is read live first: the cache may still hold a cluster deleted and re-created
 * while its watch was down (an apiserver restart), and a Neuron owned by that gone uid would be
 * deleted by the garbage collector at once. A cluster gone or being deleted owns nothing new.
 */
export async function ownByCluster(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  cached: Hal9Cluster,
  log: Logger,
) {
  if (!clusterOwnerApply(neuron, cached)) return;
  try {
    const { namespace = '', name = '' } = cached.metadata ?? {};
    const cluster = await deps.readCluster(namespace, name);
    if (!cluster || cluster.metadata?.deletionTimestamp) return;
    const patch = clusterOwnerApply(neuron, cluster);
    if (!patch) return;
    await deps.writer.apply(patch, { manager: clusterOwnerManager, force: false });
  } catch (err) {
    if (err instanceof OperatorError && err.status === 404) return;
    log.warn({ err }, 'Could not add the Hal9Cluster as owner of the Neuron: it will outlive its cluster');
  }
}
