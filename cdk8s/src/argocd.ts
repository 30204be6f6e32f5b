import { ApiObject } from 'cdk8s';
import type { IConstruct } from 'constructs';

/**
 * Argo CD sync waves of the bundle (lowest first; Argo CD waits for a wave to be synced and healthy
 * before the next). CRDs come first so that the custom resources of later waves can be validated.
 */
export const SyncWave = Object.freeze({
  crds: -10,
  namespace: -5,
  /** Dashboards and alert rules: ready before the workloads they watch. */
  monitoring: 0,
  /**
   * The Hal9Cluster and its Neurons share one wave: the cluster reports Ready only once its neurons
   * are, so a later neuron wave would wait on a cluster that waits on it.
   */
  platform: 10,
});

/** Argo CD sync options (`argocd.argoproj.io/sync-options`) the bundle uses. */
export const SyncOption = Object.freeze({
  /** Large CRDs overflow the 256 KiB last-applied-configuration annotation of client-side apply. */
  serverSideApply: 'ServerSideApply=true',
  /** Custom resources whose CRD the cluster does not serve yet (applied in an earlier wave or another app). */
  skipDryRunOnMissingResource: 'SkipDryRunOnMissingResource=true',
  /** Removing a CRD from Git must not delete every object of its kind. */
  pruneFalse: 'Prune=false',
  /** Deleting the Application must not delete the CRD (and with it every object of its kind). */
  deleteFalse: 'Delete=false',
});

export const syncWaveAnnotation = 'argocd.argoproj.io/sync-wave';
export const syncOptionsAnnotation = 'argocd.argoproj.io/sync-options';

/** Puts `construct`'s API object in `wave`, with the given sync options. */
export function syncIn(construct: IConstruct, wave: number, options: readonly string[] = []): void {
  const metadata = ApiObject.of(construct).metadata;
  metadata.addAnnotation(syncWaveAnnotation, String(wave));
  if (options.length > 0) metadata.addAnnotation(syncOptionsAnnotation, options.join(','));
}
