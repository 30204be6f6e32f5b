import type { V1Service } from '@kubernetes/client-node';
import type { Hal9ClusterStatus, LiveStatus, Neuron } from '../api-types.ts';
import { pickEntryNeuron } from '../spec/entry-neuron.ts';
import { type ConditionInput, findCondition, setConditions } from './conditions.ts';
import { kstatusConditions } from './kstatus.ts';
import { ConditionType, Reason } from './reasons.ts';
import { RETRYING_GRACE_MS, retryingSince, retryLasted } from './retrying.ts';

export interface ClusterStatusInput {
  readonly generation: number;
  readonly namespace: string;
  readonly existing: LiveStatus | undefined;
  /** Neurons whose spec.cluster names this cluster. */
  readonly neurons: readonly Neuron[];
  /** spec.entryNeuron: where requests enter, when it names one of the neurons. */
  readonly entryNeuron?: string;
  /** The Service of a neuron, by neuron name (from the cache). */
  readonly serviceOf: (neuron: string) => V1Service | undefined;
  /**
   * Set when the cluster's own objects (peer-token Secret, NetworkPolicies) could not be written
   * (access-failure.ts). `transient`: for the apiserver's moment, so the cluster is Retrying until
   * that has lasted RETRYING_GRACE_MS, as a Neuron is; then, or at once otherwise, Degraded.
   */
  readonly accessFailure?: {
    readonly reason: string;
    readonly message: string;
    readonly transient?: boolean;
  };
  /** The cluster carries hal9.ai/paused, which pauses nothing: pausing is per Neuron. */
  readonly pausedAnnotation?: boolean;
  /**
   * spec.adminTokenSecretRef is not set and the operator makes no token of its own (it has no
   * namespace for its key): the pods' admin API takes only their peer token, which it cannot read.
   */
  readonly noAdminToken?: boolean;
  readonly now: string;
}

/** Summary of a Hal9Cluster's neurons; pure like computeNeuronStatus. */
export function computeClusterStatus(input: ClusterStatusInput): Hal9ClusterStatus {
  const g = input.generation;
  const { failure, retrying } = accessOutcome(input);
  const cond = (type: string, status: 'True' | 'False', reason: string, message: string) =>
    ({ type, status, reason, message, observedGeneration: g }) satisfies ConditionInput;
  const isTrue = (n: Neuron, type: string) => findCondition(n.status?.conditions, type)?.status === 'True';
  const total = input.neurons.length;
  // Sets, not lists: each is asked of every Neuron (quadratic in a cluster of thousands).
  const ready = new Set(input.neurons.filter((n) => isTrue(n, ConditionType.Ready)));
  const degraded = input.neurons
    .filter((n) => isTrue(n, ConditionType.Degraded))
    .map(nameOf)
    .sort();
  // A Neuron stays Ready while old pods serve during its rollout: the cluster is rolled out only
  // when none of its Neurons is still progressing.
  const rollingOut = input.neurons
    .filter((n) => ready.has(n) && isTrue(n, ConditionType.Progressing))
    .map(nameOf)
    .sort();
  // A Neuron's conditions describe the cluster generation its last reconcile rendered from. Right
  // after a change of the cluster's spec they still describe the old one (rolled out), so without
  // this the new generation would look rolled out before any Deployment changed. A paused Neuron
  // renders nothing until it is resumed: waiting for it would never end.
  const paused = input.neurons
    .filter((n) => isTrue(n, ConditionType.Paused))
    .map(nameOf)
    .sort();
  const notReady = input.neurons
    .filter((n) => !ready.has(n))
    .map(nameOf)
    .sort();
  // A paused Neuron that is not Ready stays so until it is resumed (nothing is applied to it): the
  // cluster is not Ready, since that Neuron does not serve, but nothing under way will change it,
  // so it is not waited for and does not keep the cluster Progressing.
  const pausedSet = new Set(paused);
  const waiting = notReady.filter((n) => !pausedSet.has(n));
  const pausedNotReady = notReady.filter((n) => pausedSet.has(n));
  const pending = input.neurons
    .filter((n) => n.status?.clusterGeneration !== g && !pausedSet.has(nameOf(n)))
    .map(nameOf)
    .sort();
  // Not waited for, but named: a paused Neuron may run an older spec (its own, or this cluster's).
  const pausedNote =
    paused.length > 0
      ? `; paused (changes wait until its hal9.ai/paused annotation is removed): ${list(paused)}`
      : '';
  const progressing = (summary: string) => {
    const rolling = rollingOut.length > 0 ? `; rolling out ${list(rollingOut)}` : '';
    if (pending.length > 0) {
      const behind = `; not yet reconciled for cluster generation ${g}: ${list(pending)}`;
      return cond(
        ConditionType.Progressing,
        'True',
        Reason.NeuronsPending,
        `${summary}${rolling}${behind}${pausedNote}`,
      );
    }
    if (waiting.length > 0 || rollingOut.length > 0) {
      return cond(ConditionType.Progressing, 'True', Reason.RollingOut, `${summary}${rolling}${pausedNote}`);
    }
    const done =
      paused.length > 0 ? 'All neurons but paused ones are rolled out' : 'All neurons are rolled out';
    return cond(ConditionType.Progressing, 'False', Reason.Reconciled, `${done}${pausedNote}`);
  };

  const next: ConditionInput[] = [];
  if (total === 0) {
    // Every Neuron of it is Ready, vacuously: False would keep kstatus (Flux's wait, a Kustomization
    // whose Neurons come in another that depends on this one) waiting for Neurons that are not there.
    next.push(cond(ConditionType.Ready, 'True', Reason.NoNeurons, 'No Neuron refers to this cluster'));
    next.push(cond(ConditionType.Progressing, 'False', Reason.NoNeurons, 'No Neuron refers to this cluster'));
  } else if (notReady.length === 0) {
    const msg = `${total}/${total} neurons ready`;
    next.push(cond(ConditionType.Ready, 'True', Reason.AllNeuronsReady, msg));
    next.push(progressing(msg));
  } else {
    const held =
      pausedNotReady.length > 0
        ? `${neuronCount(pausedNotReady.length)} paused and not ready: ${list(pausedNotReady)}`
        : '';
    const msg =
      waiting.length > 0
        ? `${ready.size}/${total} neurons ready; waiting for ${list(waiting)}${held ? `; ${held}` : ''}`
        : `${ready.size}/${total} neurons ready; ${held}`;
    const reason = waiting.length > 0 ? Reason.NeuronsNotReady : Reason.NeuronsPaused;
    next.push(cond(ConditionType.Ready, 'False', reason, msg));
    next.push(progressing(msg));
  }
  if (retrying) {
    // Still on its way, whatever the Neurons do: the work queue writes again, and kstatus reads
    // Reconciling, not Stalled.
    const i = next.findIndex((c) => c.type === ConditionType.Progressing);
    next[i] = cond(ConditionType.Progressing, 'True', Reason.Retrying, `Retrying: ${retrying.message}`);
  }
  if (failure) {
    // The cluster's own failure first: a Neuron's may follow from it (pods without the peer token).
    const also = degraded.length > 0 ? ` Degraded neurons: ${list(degraded)}` : '';
    next.push(cond(ConditionType.Degraded, 'True', failure.reason, `${failure.message}${also}`));
  } else {
    next.push(
      degraded.length > 0
        ? cond(ConditionType.Degraded, 'True', Reason.NeuronsDegraded, `Degraded neurons: ${list(degraded)}`)
        : cond(ConditionType.Degraded, 'False', Reason.AsExpected, 'No degraded neurons'),
    );
  }

  next.push(warningCondition(input, cond));
  next.push(...kstatusConditions(next));

  // Only the types written here: another writer's, or one an older operator wrote (Paused), would
  // otherwise be applied back by this manager on every write and never go.
  const own = new Set(next.map((c) => c.type));
  const status: Hal9ClusterStatus = {
    observedGeneration: g,
    conditions: retryingSince(
      setConditions(
        input.existing?.conditions?.filter((c) => own.has(c.type)),
        next,
        input.now,
      ),
      input.existing?.conditions,
      input.now,
    ),
    neurons: total,
    readyNeurons: ready.size,
  };
  const endpoint = entryEndpoint(input);
  if (endpoint) status.entryEndpoint = endpoint;
  return status;
}

const LASTED = ` Failing for over ${RETRYING_GRACE_MS / 60_000} minutes.`;

/**
 * The cluster's own failure for Degraded, or what it is retrying. A transient one (the apiserver's
 * moment) is only retried, as a Neuron's write is (neuron-status.ts), until the cluster has been
 * Progressing=True Retrying for RETRYING_GRACE_MS, or when it follows a failure of the cluster's own
 * for this generation, which it does not clear: a webhook that answers 500 for good, or an apiserver
 * down for long, needs someone after all.
 */
function accessOutcome(input: ClusterStatusInput): {
  failure?: { reason: string; message: string };
  retrying?: { message: string };
} {
  const f = input.accessFailure;
  if (!f) return {};
  if (!f.transient) return { failure: f };
  const conditions = input.existing?.conditions;
  const degraded = findCondition(conditions, ConditionType.Degraded);
  const lasted = retryLasted(conditions, input.now);
  // Degraded for the cluster's own objects (not its Neurons'), for this generation.
  const stillFailing =
    degraded?.status === 'True' &&
    degraded.reason !== Reason.NeuronsDegraded &&
    degraded.observedGeneration === input.generation;
  if (!lasted && !stillFailing) return { retrying: { message: f.message } };
  // The same words while it lasts: a message that changed would be a status write each pass.
  const why = lasted || degraded?.message?.includes(LASTED) ? LASTED : '';
  return { failure: { reason: f.reason, message: `${f.message}${why}` } };
}

/** The cluster's Warning: each thing below that applies, the first one's reason. */
function warningCondition(
  input: ClusterStatusInput,
  cond: (type: string, status: 'True' | 'False', reason: string, message: string) => ConditionInput,
): ConditionInput {
  const warnings = [entryWarning(input), pauseWarning(input), adminWarning(input)].filter(
    (w) => w !== undefined,
  );
  const first = warnings[0];
  if (!first) return cond(ConditionType.Warning, 'False', Reason.NoWarnings, 'No warnings');
  return cond(ConditionType.Warning, 'True', first.reason, warnings.map((w) => w.message).join('; '));
}

/**
 * A spec.entryNeuron that names no Neuron of the cluster (a typo, a Neuron not applied yet): requests
 * then enter by the highest layer, which is documented but must not pass unseen.
 */
function entryWarning(input: ClusterStatusInput): { reason: string; message: string } | undefined {
  const named = input.entryNeuron;
  if (!named || input.neurons.some((n) => nameOf(n) === named)) return undefined;
  const fallback = pickEntryNeuron(undefined, input.neurons);
  const instead = fallback
    ? `requests enter by ${nameOf(fallback)} (the highest layer) instead`
    : 'no Neuron refers to this cluster yet';
  return {
    reason: Reason.EntryNeuronNotFound,
    message: `spec.entryNeuron names ${named}, which is not a Neuron of this cluster: ${instead}`,
  };
}

/** hal9.ai/paused on a Hal9Cluster pauses nothing: the annotation must not look as if it did. */
function pauseWarning(input: ClusterStatusInput): { reason: string; message: string } | undefined {
  if (!input.pausedAnnotation) return undefined;
  return {
    reason: Reason.ClusterPauseIgnored,
    message:
      'hal9.ai/paused has no effect on a Hal9Cluster: its Neurons are reconciled as usual. Pausing is per Neuron: annotate each Neuron to pause (kubectl annotate nrn <name> hal9.ai/paused=true)',
  };
}

/**
 * No admin token: the runtime pods' admin API then takes their peer token (it is never open), which
 * the operator does not read, so it can neither deliver tuned limits nor read their load.
 */
function adminWarning(input: ClusterStatusInput): { reason: string; message: string } | undefined {
  if (!input.noAdminToken || input.neurons.length === 0) return undefined;
  return {
    reason: Reason.NoAdminToken,
    message:
      'spec.adminTokenSecretRef is not set and the operator makes no admin token (it runs without a namespace for its key: set --leader-election-namespace or POD_NAMESPACE): the runtime pods take their admin API calls with the peer token only, which the operator does not read, so it cannot deliver tuned limits or read their load. Name a Secret holding a token (and let the operator read it: chart value rbac.adminTokenSecrets)',
  };
}

/** The Service of the entry neuron (spec.entryNeuron, else the highest layer), as an in-cluster URL. */
function entryEndpoint(input: ClusterStatusInput): string | undefined {
  const entry = pickEntryNeuron(input.entryNeuron, input.neurons);
  if (!entry) return undefined;
  const svc = input.serviceOf(nameOf(entry));
  const name = svc?.metadata?.name;
  if (!name) return undefined;
  const port = svc.spec?.ports?.[0]?.port ?? 8080;
  return `http://${name}.${input.namespace}.svc:${port}`;
}

function nameOf(n: Neuron): string {
  return n.metadata?.name ?? '';
}

function neuronCount(n: number): string {
  return n === 1 ? '1 neuron' : `${n} neurons`;
}

function list(names: readonly string[]): string {
  return names.length <= 5
    ? names.join(', ')
    : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}
