import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import type { LiveStatus, NeuronStatus } from '../api-types.ts';
import { type ConditionInput, setConditions } from './conditions.ts';
import { kstatusConditions } from './kstatus.ts';
import { ConditionType, Reason } from './reasons.ts';
import { RETRYING_GRACE_MS, retryingSince, retryLasted } from './retrying.ts';

export interface NeuronStatusInput {
  readonly generation: number;
  readonly existing: (LiveStatus & { readonly clusterGeneration?: number }) | undefined;
  readonly clusterName: string;
  readonly clusterFound: boolean;
  /** metadata.generation of the Hal9Cluster this pass rendered from (unset when it was not found). */
  readonly clusterGeneration?: number;
  readonly paused: boolean;
  /** Set when render or apply failed this time. */
  readonly failure?: { readonly reason: string; readonly message: string };
  /**
   * Set when a write failed for the apiserver's moment (errors.ts isTransient): the work queue applies
   * again, so the Neuron is still progressing, until that has lasted RETRYING_GRACE_MS (then ApplyFailed).
   */
  readonly retrying?: { readonly message: string };
  /** Live Deployment from the cache (after our apply, possibly one watch event behind). */
  readonly deployment: V1Deployment | undefined;
  /** The rendered children (empty when nothing was rendered). */
  readonly rendered: readonly KubernetesObject[];
  readonly warnings: readonly string[];
  readonly parallelism: number | undefined;
  /** Why pods do not run (status/pod-problems.ts), while the rollout is incomplete. */
  readonly podProblems?: string;
  /** RFC 3339, for lastTransitionTime. */
  readonly now: string;
}

const RETRIED_LONG = ` (retried for over ${RETRYING_GRACE_MS / 60_000} minutes)`;

/**
 * A transient write failure that has lasted (the Neuron has been Progressing=True Retrying for
 * RETRYING_GRACE_MS), or that follows an ApplyFailed (which it does not clear), is a failure: a
 * webhook that answers 500 for good, or an apiserver down for long, needs someone after all.
 */
function escalated(input: NeuronStatusInput): NeuronStatusInput {
  if (!input.retrying || input.failure) return input;
  const conditions = input.existing?.conditions ?? [];
  const degraded = conditions.find((c) => c.type === ConditionType.Degraded);
  const lasted = retryLasted(conditions, input.now);
  // An ApplyFailed of this generation: one of an older generation says nothing of the new one's writes.
  const stillFailing =
    degraded?.status === 'True' &&
    degraded.reason === Reason.ApplyFailed &&
    degraded.observedGeneration === input.generation;
  if (!lasted && !stillFailing) return input;
  const { retrying, ...rest } = input;
  // The same words while it lasts: a message that changed would be a status write each pass.
  const why = lasted || degraded?.message?.endsWith(RETRIED_LONG) ? RETRIED_LONG : '';
  return { ...rest, failure: { reason: Reason.ApplyFailed, message: `${retrying.message}${why}` } };
}

/**
 * The part of a Neuron's status the operator owns, computed from what it saw and did.
 * Pure: equal inputs give deep-equal output, so an unchanged world means no status write.
 */
export function computeNeuronStatus(raw: NeuronStatusInput): NeuronStatus {
  const input = escalated(raw);
  const g = input.generation;
  // A paused Neuron did not act on its newest generation: its conditions describe the one it last
  // acted on, as status.observedGeneration does (only Paused speaks of the newest).
  const acted = input.paused ? (input.existing?.observedGeneration ?? 0) : g;
  const cond = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string) =>
    ({
      type,
      status,
      reason,
      message,
      observedGeneration: type === ConditionType.Paused ? g : acted,
    }) satisfies ConditionInput;
  const next: ConditionInput[] = [];
  const deployment = rollout(input.deployment, input.podProblems);

  if (!input.clusterFound) {
    // spec.cluster is immutable: "fix spec.cluster" would send the user to a change the apiserver refuses.
    // The Deployment is left as last rendered; its pods run only while it is complete (one that
    // starts meanwhile may wait, e.g. for a Secret), so otherwise it says how far it is and why.
    const name = input.deployment?.metadata?.name;
    const running = !input.deployment
      ? ''
      : deployment.complete
        ? `; Deployment ${name} keeps running as last rendered until it exists`
        : `; Deployment ${name} is left as last rendered, and not all its pods run: ${deployment.message}`;
    const msg = `Hal9Cluster "${input.clusterName}" was not found in this namespace: create it, or delete this Neuron and create it again naming another cluster (spec.cluster cannot change)${running}`;
    next.push(cond(ConditionType.Ready, 'False', Reason.ClusterNotFound, msg));
    next.push(cond(ConditionType.Progressing, 'False', Reason.ClusterNotFound, msg));
    next.push(cond(ConditionType.Degraded, 'True', Reason.ClusterNotFound, msg));
  } else {
    next.push(readyCondition(deployment, cond));
    if (input.paused) {
      next.push(
        cond(ConditionType.Progressing, 'False', Reason.Paused, 'Reconciliation is paused by hal9.ai/paused'),
      );
    } else if (input.failure) {
      next.push(cond(ConditionType.Progressing, 'False', input.failure.reason, input.failure.message));
    } else if (deployment.failure) {
      // Past the Deployment's progress deadline the rollout is no longer progressing: Degraded says why.
      next.push(
        cond(ConditionType.Progressing, 'False', deployment.failure.reason, deployment.failure.message),
      );
    } else if (input.retrying) {
      // Still on its way: the work queue applies again, and kstatus reads Reconciling, not Stalled.
      next.push(
        cond(ConditionType.Progressing, 'True', Reason.Retrying, `Retrying: ${input.retrying.message}`),
      );
    } else if (!deployment.complete) {
      next.push(cond(ConditionType.Progressing, 'True', Reason.RollingOut, deployment.message));
    } else {
      next.push(
        cond(
          ConditionType.Progressing,
          'False',
          Reason.Reconciled,
          'All children are applied and rolled out',
        ),
      );
    }
    if (input.failure) {
      next.push(cond(ConditionType.Degraded, 'True', input.failure.reason, input.failure.message));
    } else if (deployment.failure) {
      next.push(cond(ConditionType.Degraded, 'True', deployment.failure.reason, deployment.failure.message));
    } else {
      next.push(cond(ConditionType.Degraded, 'False', Reason.AsExpected, 'No failures observed'));
    }
  }
  next.push(
    input.paused
      ? cond(
          ConditionType.Paused,
          'True',
          Reason.Paused,
          'Annotation hal9.ai/paused is set; no changes are made (remove it, or set it to "false", to resume)',
        )
      : cond(ConditionType.Paused, 'False', Reason.NotPaused, 'Reconciling normally'),
  );
  // Paused, the render was not applied: its warnings (and the checks of the HPA it would have) speak
  // of a spec the pause holds back. The Warning stays as the last pass that acted left it.
  // One never acted on (created paused) has no such pass: its render's warnings are all there is.
  const hasActed = (input.existing?.observedGeneration ?? 0) > 0;
  const kept =
    input.paused && hasActed
      ? input.existing?.conditions?.find((c) => c.type === ConditionType.Warning)
      : undefined;
  next.push(
    kept
      ? cond(
          ConditionType.Warning,
          kept.status,
          kept.reason ?? (kept.status === 'True' ? Reason.RenderWarnings : Reason.NoWarnings),
          kept.message ?? '',
        )
      : warningCondition(input.rendered, input.warnings, cond),
  );
  next.push(...kstatusConditions(next));

  // A paused Neuron did not act on its newest generation, so it keeps the old ones. A pass that
  // failed did act on it, as a Deployment's controller does: the generations advance, and Degraded
  // (with Ready and Progressing) says why, for that generation, so kstatus, `kubectl wait` and Argo
  // CD read a failure, not a reconcile still to come.
  const behind = input.paused;
  const status: NeuronStatus = {
    observedGeneration: behind ? (input.existing?.observedGeneration ?? 0) : g,
    conditions: retryingSince(
      setConditions(ownConditions(input.existing), next, input.now),
      input.existing?.conditions,
      input.now,
    ),
    replicas: input.deployment?.status?.replicas ?? 0,
    readyReplicas: input.deployment?.status?.readyReplicas ?? 0,
  };
  // The Hal9Cluster's summary waits until this reaches the cluster's generation (cluster-status.ts).
  // Written with the rest of the status, so it costs a write only when the cluster's generation moved.
  const clusterGeneration = behind ? input.existing?.clusterGeneration : input.clusterGeneration;
  if (clusterGeneration !== undefined) status.clusterGeneration = clusterGeneration;
  const selector = selectorOf(input.rendered) ?? selectorOf(input.deployment ? [input.deployment] : []);
  if (selector) status.selector = selector;
  if (input.parallelism !== undefined) status.parallelism = { current: input.parallelism };
  return status;
}

const ownTypes = new Set<string>(Object.values(ConditionType));

/** Keeps only condition types this function manages, so comparisons ignore other writers. */
function ownConditions(existing: LiveStatus | undefined) {
  return existing?.conditions?.filter((c) => ownTypes.has(c.type));
}

interface Rollout {
  readonly exists: boolean;
  readonly complete: boolean;
  /** The Deployment has its minimum availability (its Available condition): the Neuron serves. */
  readonly serving: boolean;
  readonly desired: number;
  readonly available: number;
  readonly message: string;
  readonly failure?: { reason: string; message: string };
}

function rollout(d: V1Deployment | undefined, podProblems: string | undefined): Rollout {
  const why = podProblems ? `; ${podProblems}` : '';
  if (!d) {
    return {
      exists: false,
      complete: false,
      serving: false,
      desired: 0,
      available: 0,
      message: 'Deployment not created yet',
    };
  }
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const total = s.replicas ?? 0;
  const complete = observed && updated >= desired && available >= desired && total <= desired;
  // The Deployment controller's own judgement (available ≥ replicas − maxUnavailable), so old pods
  // that still serve during a rollout keep the Neuron Ready; before it has one, all must be available.
  const availableCondition = s.conditions?.find((c) => c.type === 'Available');
  const serving = availableCondition ? availableCondition.status === 'True' : available >= desired;
  const message = !observed
    ? 'Waiting for the Deployment controller to observe the new spec'
    : `${updated}/${desired} replicas updated, ${available} available${complete ? '' : why}`;
  const failed = d.status?.conditions?.find(
    (c) =>
      (c.type === 'ReplicaFailure' && c.status === 'True') ||
      (c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded'),
  );
  const r: Rollout = { exists: true, complete, serving, desired, available, message };
  if (!failed) return r;
  const reason = failed.type === 'ReplicaFailure' ? Reason.ReplicaFailure : Reason.ProgressDeadlineExceeded;
  return { ...r, failure: { reason, message: `${failed.message ?? reason}${why}` } };
}

type Cond = (
  type: string,
  status: 'True' | 'False' | 'Unknown',
  reason: string,
  message: string,
) => ConditionInput;

function readyCondition(r: Rollout, cond: Cond): ConditionInput {
  if (!r.exists) return cond(ConditionType.Ready, 'False', Reason.WaitingForDeployment, r.message);
  if (r.complete && r.desired === 0) {
    return cond(ConditionType.Ready, 'True', Reason.ScaledToZero, 'Scaled to zero replicas');
  }
  if (r.complete) {
    return cond(
      ConditionType.Ready,
      'True',
      Reason.Available,
      `${r.available}/${r.desired} replicas available`,
    );
  }
  if (r.serving && r.desired > 0) {
    return cond(
      ConditionType.Ready,
      'True',
      Reason.Available,
      `${r.available} replicas available; rolling out: ${r.message}`,
    );
  }
  return cond(ConditionType.Ready, 'False', Reason.RollingOut, r.message);
}

function warningCondition(rendered: readonly KubernetesObject[], warnings: readonly string[], cond: Cond) {
  const privileged = privilegedInitContainers(rendered);
  if (privileged.length > 0) {
    const msg = `Privileged init containers run on the node: ${privileged.join(', ')}`;
    return cond(
      ConditionType.Warning,
      'True',
      Reason.PrivilegedInitContainers,
      joinWarnings([msg, ...warnings]),
    );
  }
  if (warnings.length > 0)
    return cond(ConditionType.Warning, 'True', Reason.RenderWarnings, joinWarnings(warnings));
  return cond(ConditionType.Warning, 'False', Reason.NoWarnings, 'No warnings');
}

/** The longest Warning message: `kubectl describe` stays readable, the rest are counted. */
export const WARNING_MESSAGE_MAX = 4096;

/**
 * Warnings joined by "; ", whole ones only, up to WARNING_MESSAGE_MAX characters, then how many
 * were left out (64 missing connections with long names made a 24,000-character message).
 */
export function joinWarnings(warnings: readonly string[]): string {
  const all = warnings.join('; ');
  if (all.length <= WARNING_MESSAGE_MAX) return all;
  const budget = WARNING_MESSAGE_MAX - 40; // room for "; and N more warnings"
  const kept: string[] = [];
  let length = 0;
  for (const w of warnings) {
    const added = (kept.length > 0 ? 2 : 0) + w.length;
    if (length + added > budget) break;
    kept.push(w);
    length += added;
  }
  if (kept.length === 0) kept.push(`${warnings[0]!.slice(0, budget - 1)}…`);
  return `${kept.join('; ')}; and ${warnings.length - kept.length} more warnings`;
}

interface PodTemplateHolder {
  spec?: {
    template?: { spec?: { initContainers?: { name: string; securityContext?: { privileged?: boolean } }[] } };
  };
}

function privilegedInitContainers(rendered: readonly KubernetesObject[]): string[] {
  const d = rendered.find((o) => o.kind === 'Deployment') as PodTemplateHolder | undefined;
  return (d?.spec?.template?.spec?.initContainers ?? [])
    .filter((c) => c.securityContext?.privileged === true)
    .map((c) => c.name);
}

/** The Deployment's label selector as the string the scale subresource needs. */
function selectorOf(objects: readonly KubernetesObject[]): string | undefined {
  const d = objects.find((o) => o.kind === 'Deployment' || !o.kind) as
    | { spec?: { selector?: { matchLabels?: Record<string, string> } } }
    | undefined;
  const labels = d?.spec?.selector?.matchLabels;
  if (!labels) return undefined;
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
