import type { Hal9Cluster, Neuron } from '../api-types.ts';
import { OperatorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { clusterOwnerApply, clusterOwnerManager } from './cluster-owner.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';

/** The Neuron goes with its Hal9Cluster (cluster-owner.ts); a refusal is logged, not fatal. */
export async function ownByCluster(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  cluster: Hal9Cluster,
  log: Logger,
) {
  const patch = clusterOwnerApply(neuron, cluster);
  if (!patch) return;
  try {
    await deps.writer.apply(patch, { manager: clusterOwnerManager, force: false });
  } catch (err) {
    if (err instanceof OperatorError && err.status === 404) return;
    log.warn({ err }, 'Could not add the Hal9Cluster as owner of the Neuron: it will outlive its cluster');
  }
}
