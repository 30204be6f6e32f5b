import type { V1Deployment } from '@kubernetes/client-node';
import { fieldManager, isPaused, type Neuron, type RenderNeuron } from '../api-types.ts';
import type { ReconcileResult } from '../controller/controller.ts';
import { splitKey } from '../controller/object-reader.ts';
import { errorMessage, isTransient, OperatorError, OperatorErrorCode } from '../errors.ts';
import { eventsWithin } from '../events/recorder.ts';
import { autoscalerFieldManager } from '../render/operator-replicas.ts';
import { hpaCannotScale } from '../status/hpa-stuck.ts';
import { computeNeuronStatus } from '../status/neuron-status.ts';
import { Reason } from '../status/reasons.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import { scaleIgnored } from '../status/scale-ignored.ts';
import { applyChildren, childrenFailed } from './apply-children.ts';
import { clusterCollection } from './cluster-collection.ts';
import { ownByCluster, releaseFromCluster } from './cluster-owner-write.ts';
import { deploymentName } from './deployment-name.ts';
import { firstRolloutHold, firstRolloutSight } from './first-rollout.ts';
import { firstStatusWait } from './first-status.ts';
import { connectedPeers, connectionNames } from './neuron-peers.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';
import { writeStatus } from './neuron-status-write.ts';
import { handBackReplicas } from './replica-handback-write.ts';
import { rolloutReader } from './rollout-read.ts';

// Writers of a Neuron's spec.replicas that are the operator itself.
const ownManagers: ReadonlySet<string> = new Set([fieldManager, autoscalerFieldManager]);

/**
 * One Neuron: gather (caches) → render (pure) → apply the children that differ → status.
 * Writes nothing when the live children already match and the status is unchanged.
 */
export function neuronReconciler(shared: NeuronReconcilerDeps) {
  // Neurons (cache objects) whose Hal9Cluster reference another manager keeps, and those whose
  // reference the apiserver refused (cluster-owner-write.ts).
  const keptClusterOwners = new WeakSet<Neuron>();
  const refusedClusterOwners = new WeakSet<Neuron>();
  // Why the pods do not run, and when to look again (rollout-read.ts), per Neuron.
  const rollouts = rolloutReader();
  // Neurons whose cluster is gone, left to the garbage collector a moment (cluster-collection.ts).
  const collection = clusterCollection();
  // New Neurons whose first status waits a moment for their first rollout (first-status.ts).
  const firstStatus = firstStatusWait(shared.firstStatusWaitMs);
  // When a new Neuron's first rollout was first held for its peers, on the operator's clock.
  const firstRollout = firstRolloutSight();
  return async function reconcileNeuron(
    key: string,
    signal?: AbortSignal,
  ): Promise<ReconcileResult | undefined> {
    // Past the controller's deadline, no write of this pass starts (writer.ts within).
    const deps = signal
      ? { ...shared, writer: shared.writer.within(signal), events: eventsWithin(shared.events, signal) }
      : shared;
    const { namespace, name } = splitKey(key);
    const neuron = deps.neurons.get(name, namespace);
    if (!neuron || neuron.metadata?.deletionTimestamp) {
      // Children go with it through their ownerReferences.
      deps.onParallelism?.(namespace, name, undefined);
      rollouts.forget(key);
      collection.forget(key);
      firstStatus.forget(key);
      firstRollout.forget(key);
      return undefined;
    }
    const log = deps.logger.child({ neuron: key });
    const clusterName = neuron.spec?.cluster ?? '';
    const cluster = deps.clusters.get(clusterName, namespace);
    const paused = isPaused(neuron.metadata?.annotations);
    const liveDeployment = () =>
      deps.children.Deployment.get(deploymentName(neuron, deps), namespace) as V1Deployment;
    const base = {
      generation: neuron.metadata?.generation ?? 0,
      existing: neuron.status,
      clusterName,
      now: rfc3339(deps.clock.now()),
    };

    if (!cluster) {
      // Owned by the gone cluster, the Neuron is about to be deleted with it: no Event, no status.
      const collectedInMs = collection.waitLeftMs(key, neuron, deps.clock.now());
      if (collectedInMs !== undefined) {
        log.debug(
          { cluster: clusterName },
          'Left the Neuron to the garbage collector: its Hal9Cluster is gone',
        );
        return { requeueAfterMs: collectedInMs };
      }
      deps.events.record(neuron, 'Warning', Reason.ClusterNotFound, `Hal9Cluster "${clusterName}" not found`);
      // The Deployment stays as last rendered, but a pod that starts (an eviction, a drain, a
      // scale-up) may not come up: the status says why, as a rollout's does, and looks again.
      const deployment = liveDeployment();
      const { problems, recheckAfterMs } = await rollouts.read(deps, key, deployment, paused, log);
      const status = computeNeuronStatus({
        ...base,
        clusterFound: false,
        paused,
        deployment,
        rendered: [],
        warnings: [],
        // The pods still run with it, and the tuner resumes from it when the cluster is back.
        parallelism: neuron.status?.parallelism?.current,
        ...(problems ? { podProblems: problems } : {}),
      });
      await writeStatus(deps, neuron, status, log);
      return recheckAfterMs !== undefined ? { requeueAfterMs: recheckAfterMs } : undefined;
    }

    collection.forget(key);
    // The Neuron's lifecycle goes with its cluster from its first pass, whatever becomes of its
    // render or first rollout: a Neuron that writes its status without the reference counts as
    // outliving the cluster (render/shared-owners.ts), co-owns the cluster's NetworkPolicies and
    // Secrets, and would keep them, and itself, after the cluster is deleted. A paused Neuron too: the
    // reference is the Neuron's own metadata, not a child the pause holds, and skipped it left a Neuron
    // created paused outliving its cluster, or one paused when --no-neuron-cluster-owner came in
    // deleted, pods and all, with its cluster.
    if (deps.clusterOwner ?? true) await ownByCluster(deps, neuron, cluster, refusedClusterOwners, log);
    else await releaseFromCluster(deps, neuron, keptClusterOwners, log);
    // Recorded in the status: the Hal9Cluster's summary waits for each Neuron to render from its
    // current generation, or a cluster change would look rolled out before any Deployment changed.
    const rendering = { ...base, clusterFound: true, clusterGeneration: cluster.metadata?.generation ?? 0 };
    let rendered: ReturnType<RenderNeuron>;
    const { peers, graceLeftMs } = connectedPeers(deps.neurons, neuron, clusterName, deps.departedPeers);
    const render = (n: Neuron) =>
      deps.render({
        cluster,
        neuron: n,
        peers,
        ...(deps.operatorNamespace ? { operatorNamespace: deps.operatorNamespace } : {}),
      });
    try {
      rendered = render(neuron);
    } catch (err) {
      const message = errorMessage(err);
      deps.events.record(neuron, 'Warning', Reason.RenderFailed, message);
      const status = computeNeuronStatus({
        ...rendering,
        paused,
        failure: { reason: Reason.RenderFailed, message },
        deployment: liveDeployment(),
        rendered: [],
        warnings: [],
        parallelism: undefined,
      });
      await writeStatus(deps, neuron, status, log);
      throw new OperatorError(OperatorErrorCode.RenderFailed, `render of Neuron ${key} failed: ${message}`, {
        cause: err,
      });
    }

    const parallelism = rendered.maxConcurrentSignals;
    // Tuned, status.parallelism.current is the tuner's: the value every Ready pod took (tuner.ts).
    // Reported as it stands, so the two writers of the field never disagree: after new bounds, new
    // pods start within them (the ConfigMap) while the running ones take the value from the tuner.
    const reported = rendered.parallelismTuned
      ? (neuron.status?.parallelism?.current ?? parallelism)
      : parallelism;
    const holdInput = {
      created: neuron.metadata?.creationTimestamp,
      nowMs: deps.clock.now(),
      named: connectionNames(neuron),
      found: peers.map((p) => p.metadata?.name ?? ''),
      deploymentExists: liveDeployment() !== undefined,
    };
    let hold = paused ? undefined : firstRolloutHold(holdInput);
    // Held: for no longer than the wait since this operator first held it, whatever its clock says.
    if (hold) {
      const heldSinceMs = firstRollout.since(key, neuron.metadata?.uid ?? '', holdInput.nowMs);
      hold = firstRolloutHold({ ...holdInput, heldSinceMs });
    }
    if (!hold) firstRollout.forget(key);
    // Something render left out on purpose (privileged containers not allowed) keeps the Neuron Degraded.
    let failure: { reason: string; message: string } | undefined = rendered.failure;
    // A write that failed for the apiserver's moment: still progressing (neuron-status.ts decides how long).
    let retrying: { message: string } | undefined;
    let transient = false;
    let failureError: unknown;
    const applyWarnings: string[] = [];
    // The Deployment as this pass's apply left it: the cache may not have seen that write yet, and a
    // status from the older copy would call a rollout that has not started finished.
    let applied: V1Deployment | undefined;
    // What tells this pass's Applied or ApplyFailed from the same Event of an earlier spec: the
    // generations it rendered (and the cluster's uid: one re-created starts again at 1). Not the
    // render itself, which also follows the tuner's parallelism (a new Event per tuning step) and a
    // peer's arrival.
    const desiredState = `${neuron.metadata?.generation ?? 0}/${cluster.metadata?.uid}/${cluster.metadata?.generation ?? 0}`;
    if (!paused && !hold) {
      try {
        rendered = await handBackReplicas(deps, neuron, cluster, rendered, render, log);
        const { changed, deployment, failures } = await applyChildren(
          deps,
          neuron,
          rendered.objects,
          log,
          applyWarnings,
        );
        applied = deployment;
        if (changed.length > 0) {
          deps.events.record(neuron, 'Normal', 'Applied', `Applied ${changed.join(', ')}`, desiredState);
        }
        if (failures.length > 0) {
          failureError = childrenFailed(failures);
          // A child held back behind a failed one (the Deployment behind its ConfigMap) is decided by
          // the errors alone.
          const errors = failures.flatMap((f) => (f.error === undefined ? [] : [f.error]));
          transient = errors.length > 0 && errors.every(isTransient);
        }
      } catch (err) {
        failureError = err;
        transient = isTransient(err);
      }
      if (failureError !== undefined) {
        // Degraded names the failure for this generation (neuron-status.ts): not every child of it
        // is applied, whatever the others say; one of the apiserver's moment is still progressing.
        const message = errorMessage(failureError);
        if (transient) retrying = { message };
        else failure = { reason: Reason.ApplyFailed, message };
        deps.events.record(neuron, 'Warning', Reason.ApplyFailed, message, desiredState);
      }
      deps.onParallelism?.(namespace, name, parallelism);
    }

    // Anything newer than our apply (the controller's status) comes as a watch event, which reconciles again.
    const deployment = applied ?? liveDeployment();
    const { problems, recheckAfterMs } = await rollouts.read(deps, key, deployment, paused, log);
    const ignoredScale = scaleIgnored(
      neuron,
      rendered.objects.some((o) => o.kind === 'HorizontalPodAutoscaler'),
      deployment,
      ownManagers,
    );
    // The HPA this pass renders, as its controller reports it (the informer enqueues on its changes).
    const renderedHpa = rendered.objects.find((o) => o.kind === 'HorizontalPodAutoscaler');
    const hpaStuck = renderedHpa
      ? hpaCannotScale(deps.children.HorizontalPodAutoscaler.get(renderedHpa.metadata?.name ?? '', namespace))
      : undefined;
    const status = computeNeuronStatus({
      ...rendering,
      paused,
      ...(failure ? { failure } : {}),
      ...(retrying ? { retrying } : {}),
      deployment,
      rendered: rendered.objects,
      warnings: [
        ...rendered.warnings,
        ...applyWarnings,
        ...(ignoredScale ? [ignoredScale] : []),
        ...(hpaStuck ? [hpaStuck] : []),
        ...(hold ? [hold.message] : []),
      ],
      parallelism: reported,
      ...(problems ? { podProblems: problems } : {}),
    });
    // The Deployment's status brings the Neuron back as its rollout goes; at the latest, the wait's end.
    const waitMs = firstStatus.waitMs(
      key,
      neuron.metadata?.uid ?? '',
      { status, existing: neuron.status, podProblems: problems },
      deps.clock.now(),
    );
    if (waitMs === undefined) await writeStatus(deps, neuron, status, log);
    if (failureError) throw failureError;
    // A held first rollout goes on when a peer appears (its watch event) or, at the latest, here.
    if (hold) return { requeueAfterMs: hold.retryAfterMs };
    // A deleted peer still rendered (departed-peers.ts) is left out once its grace is over.
    const recheck = [graceLeftMs, recheckAfterMs, waitMs].filter((ms) => ms !== undefined);
    return recheck.length > 0 ? { requeueAfterMs: Math.min(...recheck) } : undefined;
  };
}
