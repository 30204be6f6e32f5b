import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import {
  apiVersion,
  fieldManager,
  type Hal9Cluster,
  isPaused,
  type Neuron,
  type NeuronStatus,
  type RenderNeuron,
} from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';
import type { ReconcileResult } from '../controller/controller.ts';
import { type ObjectReader, splitKey } from '../controller/object-reader.ts';
import { errorMessage, OperatorError, OperatorErrorCode, requeueFor } from '../errors.ts';
import type { EventRecorder } from '../events/recorder.ts';
import { liveDiffers, withAppliedHash } from '../kube/applied-hash.ts';
import { ownsField } from '../kube/managed-fields.ts';
import { nameConflictRepair } from '../kube/name-conflicts.ts';
import type { NeuronPodLister } from '../kube/pod-lister.ts';
import type { KubeWriter } from '../kube/writer.ts';
import type { Logger } from '../logger.ts';
import { childNames } from '../render/labels.ts';
import { effectiveSpec } from '../spec/effective-spec.ts';
import { computeNeuronStatus } from '../status/neuron-status.ts';
import { podProblems } from '../status/pod-problems.ts';
import { Reason } from '../status/reasons.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import { scaleIgnored } from '../status/scale-ignored.ts';
import { statusUpToDate } from '../status/up-to-date.ts';
import { autoscalerFieldManager } from '../tuning/scale-writer.ts';
import {
  type ChildKind,
  type ChildReader,
  childApiVersions,
  childKinds,
  optionalChildApis,
} from './child-kinds.ts';
import { clusterOwnerApply, clusterOwnerManager } from './cluster-owner.ts';
import { firstRolloutHold } from './first-rollout.ts';
import { replicasToHandBack } from './replica-handback.ts';

export interface NeuronReconcilerDeps {
  readonly neurons: ObjectReader<Neuron>;
  readonly clusters: ObjectReader<Hal9Cluster>;
  readonly children: Readonly<Record<ChildKind, ChildReader>>;
  readonly render: RenderNeuron;
  readonly writer: KubeWriter;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly operatorNamespace?: string;
  readonly onParallelism?: (namespace: string, neuron: string, value: number | undefined) => void;
  readonly onApplySkipped?: (kind: string) => void;
  /** The Neuron's pods, read while its rollout is incomplete to say why they do not run. */
  readonly listPods?: NeuronPodLister;
  /** Give each Neuron an ownerReference to its Hal9Cluster (--neuron-cluster-owner, the default). */
  readonly clusterOwner?: boolean;
}

// While a rollout is incomplete, the pods' reasons are read again this often (they change without
// a Deployment event: a pod stays Pending with a new scheduler message).
const rolloutRecheckMs = 10_000;

// Writers of a Neuron's spec.replicas that are the operator itself.
const ownManagers: ReadonlySet<string> = new Set([fieldManager, autoscalerFieldManager]);

// Used only to hand a replica count over: the Deployment's to an HPA (without it being reset to
// the default), and, leaving hpa mode with autoscaling off, the HPA's count to the Neuron's
// spec.replicas (operator mode writes it as the autoscaler).
const handoverManager = 'hal9-operator-handover';

/** The JSON patches that remove a list item blocking an apply (removeConflictingItems). */
export const repairFieldManager = 'hal9-operator-repair';

/**
 * One Neuron: gather (caches) → render (pure) → apply the children that differ → status.
 * Writes nothing when the live children already match and the status is unchanged.
 */
export function neuronReconciler(deps: NeuronReconcilerDeps) {
  return async function reconcileNeuron(key: string): Promise<ReconcileResult | undefined> {
    const { namespace, name } = splitKey(key);
    const neuron = deps.neurons.get(name, namespace);
    if (!neuron || neuron.metadata?.deletionTimestamp) {
      // Children go with it through their ownerReferences.
      deps.onParallelism?.(namespace, name, undefined);
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
      deps.events.record(neuron, 'Warning', Reason.ClusterNotFound, `Hal9Cluster "${clusterName}" not found`);
      const status = computeNeuronStatus({
        ...base,
        clusterFound: false,
        paused,
        deployment: liveDeployment(),
        rendered: [],
        warnings: [],
        parallelism: undefined,
      });
      await writeStatus(deps, neuron, status, log);
      return undefined;
    }

    // Recorded in the status: the Hal9Cluster's summary waits for each Neuron to render from its
    // current generation, or a cluster change would look rolled out before any Deployment changed.
    const rendering = { ...base, clusterFound: true, clusterGeneration: cluster.metadata?.generation ?? 0 };
    let rendered: ReturnType<RenderNeuron>;
    const peers = connectedPeers(deps.neurons, neuron, clusterName);
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

    const parallelism = maxConcurrentSignals(rendered.runtimeConfig);
    const hold = paused
      ? undefined
      : firstRolloutHold({
          created: neuron.metadata?.creationTimestamp,
          nowMs: deps.clock.now(),
          named: connectionNames(neuron),
          found: peers.map((p) => p.metadata?.name ?? ''),
          deploymentExists: liveDeployment() !== undefined,
        });
    // Something render left out on purpose (privileged containers not allowed) keeps the Neuron Degraded.
    let failure: { reason: string; message: string } | undefined = rendered.failure;
    let failureError: unknown;
    const applyWarnings: string[] = [];
    // The Deployment as this pass's apply left it: the cache may not have seen that write yet, and a
    // status from the older copy would call a rollout that has not started finished.
    let applied: V1Deployment | undefined;
    if (!paused && !hold) {
      if (deps.clusterOwner ?? true) await ownByCluster(deps, neuron, cluster, log);
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
          deps.events.record(neuron, 'Normal', 'Applied', `Applied ${changed.join(', ')}`);
        }
        if (failures.length > 0) failureError = childrenFailed(failures);
      } catch (err) {
        failureError = err;
      }
      if (failureError !== undefined) {
        // status.observedGeneration stays where it was (neuron-status.ts): not every child of this
        // generation is applied, whatever the others say.
        failure = { reason: Reason.ApplyFailed, message: errorMessage(failureError) };
        deps.events.record(neuron, 'Warning', Reason.ApplyFailed, failure.message);
      }
      deps.onParallelism?.(namespace, name, parallelism);
    }

    // Anything newer than our apply (the controller's status) comes as a watch event, which reconciles again.
    const deployment = applied ?? liveDeployment();
    const incomplete = deployment !== undefined && !rolledOut(deployment);
    const problems = incomplete ? await readPodProblems(deps, namespace, name, log) : undefined;
    const ignoredScale = scaleIgnored(
      neuron,
      rendered.objects.some((o) => o.kind === 'HorizontalPodAutoscaler'),
      deployment,
      ownManagers,
    );
    const status = computeNeuronStatus({
      ...rendering,
      paused,
      ...(failure ? { failure } : {}),
      deployment,
      rendered: rendered.objects,
      warnings: [
        ...rendered.warnings,
        ...applyWarnings,
        ...(ignoredScale ? [ignoredScale] : []),
        ...(hold ? [hold.message] : []),
      ],
      parallelism,
      ...(problems ? { podProblems: problems } : {}),
    });
    await writeStatus(deps, neuron, status, log);
    if (failureError) throw failureError;
    // A held first rollout goes on when a peer appears (its watch event) or, at the latest, here.
    if (hold) return { requeueAfterMs: hold.retryAfterMs };
    return incomplete && deps.listPods ? { requeueAfterMs: rolloutRecheckMs } : undefined;
  };
}

/** Why one child was not applied (or deleted): its error, or why it was held back. */
interface ChildFailure {
  readonly error?: unknown;
  readonly held?: string;
}

/**
 * Applies the rendered children that differ from the cache and prunes ones no longer rendered.
 * One child's failure does not stop the others: each is applied on its own and every failure is
 * returned, so a Service the apiserver refuses does not leave the Deployment on an old generation.
 * The one exception is the Deployment after a failed ConfigMap (below).
 * An optional kind whose API the cluster lacks (ServiceMonitor without the Prometheus Operator)
 * must not keep the Neuron Degraded: it is skipped with a warning. While its informer is still
 * listing (its API just appeared) it is neither applied nor pruned: the informer's sync
 * reconciles every Neuron again (operator.ts).
 */
async function applyChildren(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  desired: readonly KubernetesObject[],
  log: Logger,
  warnings: string[],
): Promise<{ changed: string[]; deployment?: V1Deployment; failures: ChildFailure[] }> {
  const namespace = neuron.metadata?.namespace ?? '';
  const changed: string[] = [];
  const failures: ChildFailure[] = [];
  let deployment: V1Deployment | undefined;
  let configMapFailed: string | undefined;
  const wanted = new Set<string>();
  const notInstalled = (obj: KubernetesObject) =>
    `${obj.kind} ${obj.metadata?.name} not applied: the ${obj.apiVersion} API is not installed in this cluster`;
  for (const rendered of desired) {
    const obj = withAppliedHash(rendered);
    const kind = obj.kind as ChildKind;
    const name = obj.metadata?.name ?? '';
    wanted.add(`${kind}/${name}`);
    const cache: ChildReader | undefined = deps.children[kind];
    if (!cache) {
      throw new OperatorError(
        OperatorErrorCode.Unexpected,
        `render produced a ${kind}, which is no child kind`,
      );
    }
    const api = cache.apiState?.() ?? 'served';
    if (api === 'absent') {
      warnings.push(notInstalled(obj));
      continue;
    }
    if (api === 'pending') continue;
    const live = cache.get(name, namespace);
    // Leaving spec.replicas out (an HPA takes over) changes nothing a comparison sees, but the
    // field must still be handed over, or this manager keeps owning it.
    const handover =
      kind === 'Deployment' &&
      live &&
      !hasReplicas(obj) &&
      ownsField(live, fieldManager, ['spec', 'replicas']);
    const differs = live
      ? (liveDiffers(obj, live) ?? (handover ? '.spec.replicas (handed over)' : undefined))
      : '(absent)';
    if (differs === undefined) {
      deps.onApplySkipped?.(kind);
      continue;
    }
    // The pod template hashes the ConfigMap it starts from: applied while that ConfigMap was
    // refused, the Deployment would roll its pods onto the old config under the new hash, and
    // nothing would roll them again once the ConfigMap is applied.
    if (kind === 'Deployment' && configMapFailed !== undefined) {
      failures.push({
        held: `Deployment ${name} not applied: its pods start from ConfigMap ${configMapFailed}, which was not applied`,
      });
      continue;
    }
    try {
      if (live) await removeConflictingItems(deps, neuron, obj, live, log);
      if (handover) {
        // We are about to stop applying spec.replicas (an HPA takes over). Dropping a field only we
        // own deletes it and the apiserver defaults it to 1; another manager co-owning it keeps it.
        await deps.writer.apply(
          {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            metadata: { name, namespace },
            spec: { replicas: (live as V1Deployment).spec?.replicas },
          } as KubernetesObject,
          { manager: handoverManager, force: false },
        );
      }
      const result = await deps.writer.apply(obj);
      if (kind === 'Deployment') deployment = result as V1Deployment;
      log.info({ kind, name, differs }, live ? `Updated ${kind}` : `Created ${kind}`);
      changed.push(`${kind} ${name}`);
    } catch (err) {
      // The API went away since discovery last listed it.
      const gone = err instanceof OperatorError && err.code === OperatorErrorCode.NotFound;
      if (gone && optionalChildApis[kind]) {
        warnings.push(notInstalled(obj));
        continue;
      }
      failures.push({ error: err });
      if (kind === 'ConfigMap') configMapFailed = name;
    }
  }
  const uid = neuron.metadata?.uid;
  for (const kind of childKinds) {
    const cache = deps.children[kind];
    // Only a complete cache says what is not wanted any more.
    if ((cache.apiState?.() ?? 'served') !== 'served') continue;
    for (const live of cache.list(namespace)) {
      const owned = live.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid);
      if (!owned || wanted.has(`${kind}/${live.metadata?.name}`)) continue;
      try {
        await deps.writer.delete({ ...live, kind, apiVersion: live.apiVersion ?? childApiVersions[kind] });
      } catch (err) {
        failures.push({ error: err });
        continue;
      }
      log.info({ kind, name: live.metadata?.name }, `Deleted ${kind}`);
      changed.push(`deleted ${kind} ${live.metadata?.name}`);
    }
  }
  return deployment ? { changed, deployment, failures } : { changed, failures };
}

/**
 * A hand edit of a port number leaves an item of ours (by merge key) missing next to one of the
 * same name: our apply would add ours beside it and the apiserver refuse the duplicate name, at
 * every pass (name-conflicts.ts). That item goes first, in a JSON patch guarded by `test` ops.
 */
async function removeConflictingItems(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  obj: KubernetesObject,
  live: KubernetesObject,
  log: Logger,
): Promise<void> {
  if (obj.kind !== 'Service' && obj.kind !== 'Deployment') return;
  const { ops, removed } = nameConflictRepair(obj, live);
  if (ops.length === 0) return;
  await deps.writer.jsonPatch(obj, ops, { manager: repairFieldManager });
  const name = obj.metadata?.name;
  const message = `Removed ${removed.join(', ')} from ${obj.kind} ${name}: it has the name of an item the operator renders, so that item could not be applied`;
  log.info({ kind: obj.kind, name, removed }, `Removed conflicting list items of ${obj.kind}`);
  deps.events.record(neuron, 'Normal', 'ListItemsRepaired', message);
}

/**
 * One error for every child that failed: the first that is retried with backoff decides how the
 * work queue treats the reconcile (errors.ts), and the message names each failure.
 */
function childrenFailed(failures: readonly ChildFailure[]): unknown {
  const errors = failures.flatMap((f) => (f.error === undefined ? [] : [f.error]));
  const only = errors[0];
  if (failures.length === 1 && only !== undefined) return only;
  const decides = errors.find((e) => requeueFor(e) === 'backoff') ?? only;
  const code = decides instanceof OperatorError ? decides.code : OperatorErrorCode.Unexpected;
  const messages = failures.map((f) => (f.error === undefined ? (f.held ?? '') : errorMessage(f.error)));
  const status = decides instanceof OperatorError ? decides.status : undefined;
  return new OperatorError(code, `${failures.length} children not applied: ${messages.join('; ')}`, {
    cause: new AggregateError(errors),
    ...(status !== undefined ? { status } : {}),
  });
}

/**
 * Leaving hpa mode: the count the HPA left the Deployment at goes into the Neuron's spec.replicas
 * first (replica-handback.ts), and the Deployment is rendered from it, so the switch removes no
 * pod. In operator mode it is written as the autoscaler (which goes on from it, within the
 * bounds); with autoscaling off, spec.replicas is the user's again from then on. Returns what to
 * apply: `rendered`, or the render from the carried count.
 */
async function handBackReplicas(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  cluster: Hal9Cluster,
  rendered: ReturnType<RenderNeuron>,
  render: (n: Neuron) => ReturnType<RenderNeuron>,
  log: Logger,
): Promise<ReturnType<RenderNeuron>> {
  const { name = '', namespace = '', uid } = neuron.metadata ?? {};
  const hpa = deps.children.HorizontalPodAutoscaler.get(childNames(name).hpa, namespace);
  const ours = hpa?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid);
  const running = replicasToHandBack({
    liveHpa: ours ? hpa : undefined,
    rendered: rendered.objects,
    liveDeployment: deps.children.Deployment.get(deploymentName(neuron, deps), namespace) as
      | V1Deployment
      | undefined,
  });
  if (running === undefined) return rendered;
  const carried = render({ ...neuron, spec: { ...neuron.spec, replicas: running } as Neuron['spec'] });
  // Operator mode keeps the count within its bounds (minReplicas/maxReplicas changed with the mode).
  const count = replicasOf(carried.objects) ?? running;
  if (count === replicasOf(rendered.objects)) return rendered;
  // Then spec.replicas (rendered from, within the same bounds) differs from it too: written.
  const from = neuron.spec?.replicas ?? 1;
  const operatorMode = effectiveSpec(cluster, neuron).autoscaling.enabled;
  await deps.writer.apply(
    {
      apiVersion,
      kind: 'Neuron',
      metadata: { name, namespace },
      spec: { replicas: count },
    } as KubernetesObject,
    { manager: operatorMode ? autoscalerFieldManager : handoverManager, force: true },
  );
  const bounded = count === running ? '' : ` (${running}, within minReplicas/maxReplicas)`;
  const message = `Autoscaling mode hpa left: spec.replicas set from ${from} to ${count}, the count the HorizontalPodAutoscaler left the Deployment at${bounded}`;
  deps.events.record(neuron, 'Normal', 'ReplicasHandedBack', message);
  log.info({ from, to: count, running }, 'Carried the replica count of the HPA into spec.replicas');
  return carried;
}

function replicasOf(objects: readonly KubernetesObject[]): number | undefined {
  return (objects.find((o) => o.kind === 'Deployment') as V1Deployment | undefined)?.spec?.replicas;
}

async function writeStatus(deps: NeuronReconcilerDeps, neuron: Neuron, status: NeuronStatus, log: Logger) {
  if (statusUpToDate(status, neuron.status) && !parallelismToClaim(status, neuron)) return;
  const { name = '', namespace = '' } = neuron.metadata ?? {};
  try {
    await deps.writer.applyStatus({ kind: 'Neuron', plural: 'neurons', namespace, name }, status);
    log.debug({ observedGeneration: status.observedGeneration }, 'Updated Neuron status');
  } catch (err) {
    // The Neuron was deleted meanwhile: nothing left to report on.
    if (err instanceof OperatorError && err.status === 404) return;
    throw err;
  }
}

/**
 * status.parallelism.current is written by both the reconciler and the tuner (same value, each
 * under its own field manager). A tuner decision changes it under force, which takes the field from
 * the reconciler; the reconciler then re-applies to share it again, or the tuner's release (tuning
 * turned off) would delete it until the next reconcile.
 */
function parallelismToClaim(status: NeuronStatus, neuron: Neuron): boolean {
  return (
    status.parallelism !== undefined &&
    !ownsField(neuron, fieldManager, ['status', 'parallelism', 'current'], 'status')
  );
}

/** The Neuron goes with its Hal9Cluster (cluster-owner.ts); a refusal is logged, not fatal. */
async function ownByCluster(deps: NeuronReconcilerDeps, neuron: Neuron, cluster: Hal9Cluster, log: Logger) {
  const patch = clusterOwnerApply(neuron, cluster);
  if (!patch) return;
  try {
    await deps.writer.apply(patch, { manager: clusterOwnerManager, force: false });
  } catch (err) {
    if (err instanceof OperatorError && err.status === 404) return;
    log.warn({ err }, 'Could not add the Hal9Cluster as owner of the Neuron: it will outlive its cluster');
  }
}

/** Every replica updated and available (the status part of neuron-status's rollout). */
function rolledOut(d: V1Deployment): boolean {
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= desired &&
    (s.availableReplicas ?? 0) >= desired &&
    (s.replicas ?? 0) <= desired
  );
}

async function readPodProblems(
  deps: NeuronReconcilerDeps,
  namespace: string,
  name: string,
  log: Logger,
): Promise<string | undefined> {
  if (!deps.listPods) return undefined;
  try {
    return podProblems(await deps.listPods(namespace, name));
  } catch (err) {
    // The reason is a courtesy: without it the status still says how far the rollout is.
    log.debug({ err }, 'Could not list the pods of the Neuron');
    return undefined;
  }
}

function hasReplicas(obj: KubernetesObject): boolean {
  return (obj as V1Deployment).spec?.replicas !== undefined;
}

function deploymentName(neuron: Neuron, deps: NeuronReconcilerDeps): string {
  // The Deployment is the one this Neuron controls; its name comes from render, and is usually
  // the Neuron's: looked up first, so that not every reconcile scans every Deployment.
  const uid = neuron.metadata?.uid;
  const controlled = (d: KubernetesObject | undefined) =>
    d?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid) === true;
  const { name = '', namespace } = neuron.metadata ?? {};
  if (controlled(deps.children.Deployment.get(name, namespace))) return name;
  const found = deps.children.Deployment.list(namespace).find(controlled);
  return found?.metadata?.name ?? name;
}

/**
 * The Neurons this one's connections name, of its cluster: all that render reads of its peers.
 * Looked up by name, so a reconcile costs O(connections), not O(Neurons in the namespace).
 */
function connectedPeers(neurons: ObjectReader<Neuron>, neuron: Neuron, clusterName: string): Neuron[] {
  const peers: Neuron[] = [];
  for (const peerName of connectionNames(neuron)) {
    const peer = neurons.get(peerName, neuron.metadata?.namespace);
    if (peer && peer.spec?.cluster === clusterName) peers.push(peer);
  }
  return peers;
}

/** The Neurons a Neuron's connections name, each once, its own name left out. */
function connectionNames(neuron: Neuron): string[] {
  const own = neuron.metadata?.name;
  const named = new Set([
    ...(neuron.spec?.forwardConnections ?? []),
    ...(neuron.spec?.backwardConnections ?? []),
  ]);
  return [...named].filter((n) => n !== own);
}

// The block form the renderer writes: `  max_concurrent_signals: N` inside the top-level
// `performance:` map. Reading it from there skips parsing the whole document on every reconcile
// (a full YAML parse was ~7 % of the operator's CPU with 1,000 Neurons); other forms are parsed.
const blockForm = /^performance:\n(?: .*\n)*? {2}max_concurrent_signals: (\d+)$/m;

/** performance.max_concurrent_signals from the rendered runtime config (runtime-contract.md). */
export function maxConcurrentSignals(runtimeConfig: string): number | undefined {
  const fast = blockForm.exec(runtimeConfig);
  if (fast) return Number(fast[1]);
  try {
    const doc = parseYaml(runtimeConfig) as { performance?: { max_concurrent_signals?: unknown } } | null;
    const v = doc?.performance?.max_concurrent_signals;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
