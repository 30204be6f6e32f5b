import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { fieldManager, labels, type Neuron } from '../api-types.ts';
import { errorMessage, OperatorError, OperatorErrorCode, requeueFor } from '../errors.ts';
import { appliedHashAnnotation, liveDiffers, withAppliedHash } from '../kube/applied-hash.ts';
import { ownsField } from '../kube/managed-fields.ts';
import { nameConflictRepair } from '../kube/name-conflicts.ts';
import { foreignTemplateOwners, takeOverTemplateSpec } from '../kube/template-takeover.ts';
import type { Logger } from '../logger.ts';
import {
  type ChildKind,
  type ChildReader,
  childApiVersions,
  childKinds,
  optionalChildApis,
} from './child-kinds.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';

// Used only to hand a replica count over: the Deployment's to an HPA (without it being reset to
// the default), and, leaving hpa mode with autoscaling off, the HPA's count to the Neuron's
// spec.replicas (operator mode writes it as the autoscaler).
export const handoverManager = 'hal9-operator-handover';

/** The JSON patches that remove a list item blocking an apply (removeConflictingItems). */
export const repairFieldManager = 'hal9-operator-repair';

/** The operator's field managers: their updates of a pod template are its own. */
const ourManagers: ReadonlySet<string> = new Set([fieldManager, handoverManager, repairFieldManager]);

/** Why one child was not applied (or deleted): its error, or why it was held back. */
export interface ChildFailure {
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
export async function applyChildren(
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
    // Rendering spec.replicas again (the HPA is gone), the count is this manager's once applied: a
    // claim the handover left (the HPA never changed the count, which would have ended it) goes.
    // Not before: while only the handover manager owns the count, releasing it would drop the
    // field, and the apiserver would default the Deployment to one pod.
    const release =
      kind === 'Deployment' &&
      live !== undefined &&
      hasReplicas(obj) &&
      ownsField(live, handoverManager, ['spec', 'replicas']);
    // A rollback's fields in the pod template's spec (`kubectl rollout undo`, template-takeover.ts).
    const foreign = kind === 'Deployment' && live ? foreignTemplateOwners(live, ourManagers) : [];
    const differs = live
      ? (liveDiffers(obj, live) ??
        (handover
          ? '.spec.replicas (handed over)'
          : release
            ? '.spec.replicas (handover released)'
            : foreign.length > 0
              ? `.spec.template.spec (rolled back by ${foreign.join(', ')})`
              : undefined))
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
      // Ours but not in the cache (its label removed by hand): updated, not created.
      let exists = live !== undefined;
      let created: KubernetesObject | undefined;
      if (live) {
        await refuseUnlessOurs(deps, neuron, obj, live);
        await removeConflictingItems(deps, neuron, obj, live, log);
        if (foreign.length > 0) await takeBackTemplate(deps, neuron, obj, log);
      } else {
        const taken = await createUnlessTaken(deps, neuron, obj);
        ({ created, exists } = taken);
        // Ours and as rendered: the operator's own create of a moment ago (a pass that ran before
        // the caches caught up with it). Applied again, it would be a second write and a second
        // `Applied` Event for one creation.
        if (taken.existing && liveDiffers(obj, taken.existing) === undefined) {
          if (kind === 'Deployment') deployment = taken.existing as V1Deployment;
          deps.onApplySkipped?.(kind);
          continue;
        }
      }
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
      let result = created ?? (await deps.writer.apply(obj));
      if (release) {
        result = (await deps.writer.apply(
          { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name, namespace } } as KubernetesObject,
          { manager: handoverManager, force: false },
        )) as typeof result;
      }
      if (kind === 'Deployment') deployment = result as V1Deployment;
      log.info(
        { kind, name, differs: live || !exists ? differs : '(not in the cache: its labels changed)' },
        exists ? `Updated ${kind}` : `Created ${kind}`,
      );
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
    if (!uid || (cache.apiState?.() ?? 'served') !== 'served') continue;
    for (const live of cache.ownedBy(uid)) {
      const controlled = live.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid);
      if (!controlled || live.metadata?.namespace !== namespace) continue;
      if (wanted.has(`${kind}/${live.metadata?.name}`)) continue;
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
 * No object has this resourceVersion: etcd's revisions start at 1 and the apiserver's own first
 * writes take the first ones. An apply carrying it creates the object when its name is free, and
 * is refused (409) when anything holds the name, as an update conditional on a stale version is.
 */
export const absentVersion = '1';

/**
 * Creates a child the caches do not hold. They hold only objects the operator labelled, so one of
 * that name may already exist, made by someone else (a user's Service named like the Neuron). A
 * forced apply would take it over (its selector, data, ownerReference), and deleting the Neuron or
 * no longer rendering the kind would then delete it. So the apply is conditional on the name being
 * free (absentVersion): one request for the usual creation, where a read and an apply were two.
 * Refused, the object is read: it is applied over (by the caller) only when its controller is this
 * Neuron (one the caches have not seen yet) and it differs from what is rendered, and then `exists`
 * says it was updated, not created.
 */
async function createUnlessTaken(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  obj: KubernetesObject,
): Promise<{ created?: KubernetesObject; existing?: KubernetesObject; exists: boolean }> {
  try {
    const created = await deps.writer.apply({
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: absentVersion },
    });
    return { created, exists: false };
  } catch (err) {
    if (!(err instanceof OperatorError && err.status === 409)) throw err;
  }
  const existing = await deps.readChild(obj);
  if (!existing) return { exists: false };
  await refuseUnlessOurs(deps, neuron, obj, existing, true);
  return { existing, exists: true };
}

/**
 * `refuseUnlessControlled`, except that a child orphaned from an earlier Neuron of this name is
 * taken back: one with no controller at all, that carries this Neuron's label and the operator's
 * applied hash, and that the operator's field manager applied (read live when `live` came from the
 * cache, which keeps no managedFields). `kubectl delete neuron --cascade=orphan` (to make a Neuron
 * again without downtime, say with another spec.cluster) leaves its children so; refused, the new
 * Neuron stayed Degraded with NAME_TAKEN for good, and the children ran on with no owner. A user's
 * own object of that name has none of these marks unless someone with write access put all three on.
 */
async function refuseUnlessOurs(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  obj: KubernetesObject,
  live: KubernetesObject,
  read = false,
): Promise<void> {
  const meta = live.metadata;
  const orphan =
    !meta?.ownerReferences?.some((r) => r.controller) &&
    meta?.labels?.[labels.neuron] === neuron.metadata?.name &&
    meta?.annotations?.[appliedHashAnnotation] !== undefined;
  if (!orphan) return refuseUnlessControlled(neuron, obj, live);
  const current = read ? live : await deps.readChild(obj);
  const applied = current?.metadata?.managedFields?.some(
    (f) => f.manager === fieldManager && f.operation === 'Apply' && !f.subresource,
  );
  if (current && !current.metadata?.ownerReferences?.some((r) => r.controller) && applied) return;
  refuseUnlessControlled(neuron, obj, current ?? live);
}

/**
 * Throws NameTaken unless `live` is controlled by this Neuron, or by an earlier Neuron of its name
 * (deleted and made again: its children are the operator's, and the garbage collector would only
 * remove them). The caches hold what carries the hal9.ai/neuron label, which anyone who may write
 * the object can put on it: a label is no claim.
 */
function refuseUnlessControlled(neuron: Neuron, obj: KubernetesObject, live: KubernetesObject): void {
  const controller = live.metadata?.ownerReferences?.find((r) => r.controller);
  if (
    controller &&
    (controller.uid === neuron.metadata?.uid ||
      (controller.kind === 'Neuron' &&
        controller.apiVersion.split('/')[0] === 'hal9.ai' &&
        controller.name === neuron.metadata?.name))
  )
    return;
  const where = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
  throw new OperatorError(
    OperatorErrorCode.NameTaken,
    `${obj.kind} ${where} already exists and is not controlled by Neuron ${neuron.metadata?.name}, so the operator leaves it alone: rename the Neuron, or rename or delete that ${obj.kind}`,
  );
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
 * Moves the ownership of the fields a rollback wrote in a Deployment's pod template spec to the
 * operator's apply (template-takeover.ts), so that the apply that follows removes those it does not
 * render. Read live: the cache keeps only who owns something there. The patch is guarded by the
 * resourceVersion read, so a write between the read and the patch fails it (and the pass retries).
 */
async function takeBackTemplate(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  obj: KubernetesObject,
  log: Logger,
): Promise<void> {
  const current = await deps.readChild(obj);
  const version = current?.metadata?.resourceVersion;
  const takeover =
    current && version
      ? takeOverTemplateSpec(current.metadata?.managedFields ?? [], fieldManager, ourManagers)
      : undefined;
  if (!takeover) return;
  await deps.writer.jsonPatch(
    obj,
    [
      { op: 'test', path: '/metadata/resourceVersion', value: version },
      { op: 'replace', path: '/metadata/managedFields', value: takeover.managedFields },
    ],
    { manager: repairFieldManager },
  );
  const name = obj.metadata?.name;
  const by = takeover.taken.map((t) => `${t.manager} (${t.fields.join(', ')})`).join(', ');
  log.info({ kind: obj.kind, name, taken: takeover.taken }, 'Took back the pod template of Deployment');
  deps.events.record(
    neuron,
    'Warning',
    'PodTemplateTakenBack',
    `Deployment ${name}'s pod template was rolled back by ${by} (\`kubectl rollout undo\`): the Neuron's spec is applied over it, and the fields it does not set are removed. To go back, change the Neuron (or its Hal9Cluster), or revert it in Git`,
  );
}

/**
 * One error for every child that failed: the first that is retried with backoff decides how the
 * work queue treats the reconcile (errors.ts), and the message names each failure.
 */
export function childrenFailed(failures: readonly ChildFailure[]): unknown {
  const errors = failures.flatMap((f) => (f.error === undefined ? [] : [f.error]));
  const only = errors[0];
  if (failures.length === 1 && only !== undefined) return only;
  const decides = errors.find((e) => requeueFor(e) === 'backoff') ?? only;
  const code = decides instanceof OperatorError ? decides.code : OperatorErrorCode.Unexpected;
  const messages = failures.map((f) => (f.error === undefined ? (f.held ?? '') : errorMessage(f.error)));
  const status = decides instanceof OperatorError ? decides.status : undefined;
  // The longest wait an apiserver asked for: shedding load, it refuses most children together.
  const waits = errors.flatMap((e) => (e instanceof OperatorError && e.retryAfterMs ? [e.retryAfterMs] : []));
  return new OperatorError(code, `${failures.length} children not applied: ${messages.join('; ')}`, {
    cause: new AggregateError(errors),
    ...(status !== undefined ? { status } : {}),
    ...(waits.length > 0 ? { retryAfterMs: Math.max(...waits) } : {}),
  });
}

function hasReplicas(obj: KubernetesObject): boolean {
  return (obj as V1Deployment).spec?.replicas !== undefined;
}
