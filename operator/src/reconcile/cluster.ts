import type { KubernetesObject, V1Service } from '@kubernetes/client-node';
import { type Hal9Cluster, isPaused, labels, type Neuron } from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';
import type { ReconcileResult } from '../controller/controller.ts';
import { type ObjectReader, splitKey } from '../controller/object-reader.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { type EventRecorder, eventsWithin } from '../events/recorder.ts';
import type { KubeWriter } from '../kube/writer.ts';
import type { Logger } from '../logger.ts';
import { computeClusterStatus } from '../status/cluster-status.ts';
import { Reason } from '../status/reasons.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import { statusUpToDate } from '../status/up-to-date.ts';
import type { ClusterAccess } from './cluster-access.ts';

export interface ClusterReconcilerDeps {
  readonly clusters: ObjectReader<Hal9Cluster>;
  readonly neurons: ObjectReader<Neuron>;
  readonly services: ObjectReader<KubernetesObject>;
  readonly writer: KubeWriter;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The peer-token Secret and NetworkPolicies the cluster owns (cluster-access.ts); none when unset. */
  readonly access?: ClusterAccess;
  /** The operator makes an admin token Secret for a cluster that names none (it has a key). */
  readonly generatedAdminToken?: boolean;
  /** A Warning Event when access fails, as a Neuron gets one when a child is refused. */
  readonly events?: EventRecorder;
}

/**
 * One Hal9Cluster: its peer-token Secret and NetworkPolicies (access), then its status, which
 * summarises its Neurons and says when access failed (Degraded, with the error's catalogue name; a
 * transient failure is Progressing Retrying first, cluster-status.ts).
 */
export function clusterReconciler(shared: ClusterReconcilerDeps) {
  return async function reconcileCluster(
    key: string,
    signal?: AbortSignal,
  ): Promise<ReconcileResult | undefined> {
    // Past the controller's deadline, no write of this pass starts (writer.ts within).
    const deps = signal
      ? {
          ...shared,
          writer: shared.writer.within(signal),
          ...(shared.events ? { events: eventsWithin(shared.events, signal) } : {}),
        }
      : shared;
    const { namespace, name } = splitKey(key);
    const cluster = deps.clusters.get(name, namespace);
    if (!cluster) {
      // Neurons that outlive their cluster (neuronClusterOwner off) still run pods that mount its
      // token Secrets: those are made again for them (cluster-gone.ts). Their events bring the
      // cluster's key here (watches.ts), and the step says when to look again.
      const kept = await deps.access?.gone?.(namespace, name, deps.neurons.list(namespace), signal);
      if (kept?.failure) throw kept.failure.error;
      const after = kept?.recheckAfterMs;
      return after !== undefined && after > 0 ? { requeueAfterMs: after } : undefined;
    }
    if (cluster.metadata?.deletionTimestamp) return undefined;
    const neurons = deps.neurons.list(namespace).filter((n) => n.spec?.cluster === name);
    // Indexed once per reconcile: a lookup per Neuron over the whole list made every cluster
    // reconcile O(neurons × services) in time and in garbage (a list copy per lookup).
    const services = new Map<string, V1Service>();
    for (const s of deps.services.list(namespace)) {
      const neuron = s.metadata?.labels?.[labels.neuron];
      if (neuron !== undefined && s.metadata?.labels?.[labels.cluster] === name && !services.has(neuron)) {
        services.set(neuron, s as V1Service);
      }
    }
    // The cluster's own objects first: when one could not be written, the status says why (pods
    // wait for the peer token in ContainerCreating and nothing else would tell).
    const access = await deps.access?.(cluster, neurons, signal);
    // `kubectl describe h9c` shows it beside the condition (the recorder sends one per message and window).
    if (access?.failure)
      deps.events?.record(cluster, 'Warning', access.failure.reason, access.failure.message);
    const status = computeClusterStatus({
      generation: cluster.metadata?.generation ?? 0,
      namespace,
      existing: cluster.status,
      neurons,
      ...(cluster.spec?.entryNeuron ? { entryNeuron: cluster.spec.entryNeuron } : {}),
      serviceOf: (neuron) => services.get(neuron),
      ...(access?.failure ? { accessFailure: access.failure } : {}),
      ...(isPaused(cluster.metadata?.annotations) ? { pausedAnnotation: true } : {}),
      ...(cluster.spec?.adminTokenSecretRef || deps.generatedAdminToken ? {} : { noAdminToken: true }),
      now: rfc3339(deps.clock.now()),
    });
    if (!statusUpToDate(status, cluster.status)) {
      try {
        await deps.writer.applyStatus(
          { kind: 'Hal9Cluster', plural: 'hal9clusters', namespace, name },
          status,
        );
        deps.logger.debug(
          { cluster: key, neurons: status.neurons, ready: status.readyNeurons },
          'Updated Hal9Cluster status',
        );
      } catch (err) {
        if (err instanceof OperatorError && err.status === 404) return undefined;
        // The status cannot say it: an Event does (sent once, and again every 45 minutes while it lasts).
        if (err instanceof OperatorError && err.code === OperatorErrorCode.CrdOutdated)
          deps.events?.record(cluster, 'Warning', Reason.CRDOutdated, err.message);
        throw err;
      }
    }
    // Retried as its code says (errors.ts): backoff, or, for an object the apiserver refused, the
    // next change of the cluster or resync. The condition stays until a pass succeeds.
    if (access?.failure) throw access.failure.error;
    const after = access?.recheckAfterMs;
    return after !== undefined && after > 0 ? { requeueAfterMs: after } : undefined;
  };
}
