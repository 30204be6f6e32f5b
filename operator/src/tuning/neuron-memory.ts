import { ownsField } from '../kube/managed-fields.ts';
import { autoscalerFieldManager } from '../render/operator-replicas.ts';
import { startingParallelism } from '../render/render-neuron.ts';
import type { AutoscalingStatus, LastDecision, ReplicaDecisionStatus } from '../status/parallelism-status.ts';
import type { TunerState } from './decide.ts';
import type { ReplicaState } from './replicas.ts';
import type { TuningTarget } from './tuning-targets.ts';

/** A pod's failed PUTs of one value with one token, and when the next may go (pod-limits.ts). */
export interface RefusedDelivery {
  readonly pod: string;
  readonly error: string;
  readonly value: number;
  readonly token: string | undefined;
  /** Failures in a row of this value and token. */
  readonly failures: number;
  /** Clock milliseconds before which this value and token are not sent again. */
  readonly retryAt: number;
  /** Clock milliseconds when the refused PUT was sent: a report read later that shows the value proves it taken. */
  readonly sentAt?: number;
}

/** What the tuner keeps about one Neuron between passes (in memory, seeded from its status). */
export interface NeuronMemory {
  uid: string;
  /** Parallelism was tuned at the last pass (the Neuron may stay here, replicas autoscaled, without). */
  parallelismTuned: boolean;
  state: TunerState;
  /**
   * The value status (`current`) and the metric report as in effect: the last one every Ready pod
   * took. A value the pods refused (or have not answered yet) is decided, not in effect.
   */
  published: number;
  lastDecision: LastDecision | undefined;
  /** Pod instance (runtime-pods.ts) → the value that pod last accepted. */
  delivered: Map<string, number>;
  /** Pod instance → why its last PUT failed (pod name and error), until it takes a value. */
  refused: Map<string, RefusedDelivery>;
  /** A pod may not have the current value yet: deliver next tick. */
  pending: boolean;
  /**
   * The parallelism value the Neuron's status is known to record as decided (its lastDecision's, else
   * its current). A decided value goes to the pods only once status records it (tuner.ts): a new
   * leader seeds its value from status, and would send an older one back over a value the pods took
   * from a leader whose status write never landed (killed in between, or cut off from the apiserver
   * while it still reached the pods), with no decision or Event to say so.
   */
  recorded: number;
  /** Why the last status write failed, while a decided value waits for it (raises hold meanwhile). */
  unrecorded: string | undefined;
  /**
   * Why the value could not be sent to every Ready pod (some are outside --pod-cidrs, or the pods
   * could not be listed); undefined once it could. Raises hold meanwhile, as for a refused value.
   */
  unsent: string | undefined;
  replicas: ReplicaState | undefined;
  replicaDecision: ReplicaDecisionStatus | undefined;
  /** The count this operator last wrote to spec.replicas, and when. */
  written: number | undefined;
  writtenAt: number;
  /** spec.replicas as the cache showed it when the operator last wrote (a cache lagging still shows it). */
  before: number | undefined;
  /** The Neuron's resourceVersion the operator's last write made ('' when unknown). */
  writtenVersion: string;
  /** Last mean latency seen (seconds), for Little's law when the window has none. */
  latency: number | undefined;
  /** Learned fan-out per target neuron (stable window), and its snapshot in status. */
  fanOut: Record<string, number>;
  fanOutStatus: Record<string, string>;
  /** Why the runtime admin token could not be read, as last logged; undefined while it can be. A
   * failure is logged when it starts or changes and once when it ends, not at every pass. */
  tokenFailure: string | undefined;
  /** When this process last wrote a NoData parallelism message (warm-up.ts steadyNoData). */
  noDataNamedAt: number | undefined;
}

const directionOf = (reason: string | undefined): TunerState['lastDirection'] =>
  reason === 'Saturated' || reason === 'PreScaled'
    ? 'up'
    : reason === 'LatencyAboveSLO'
      ? 'down'
      : reason === 'UpstreamThrottling'
        ? 'trim'
        : 'none';

/**
 * A Neuron's memory as its status left it, so a new leader (or a restart) keeps the last decisions
 * and their times instead of starting over. The recommendations of the scale-down delay are not in
 * status: the count the Neuron runs (`now`) stands as one, so a new leader scales down no sooner than
 * a scale-down delay after it took over (an operator rollout would otherwise cut every Neuron the
 * delay was holding at once).
 */
export function seedMemory(t: TuningTarget, now: number): NeuronMemory {
  const p = t.neuron.status?.parallelism;
  const last = p?.lastDecision as (LastDecision & { message?: string }) | undefined;
  const lastDecision =
    last?.value !== undefined && last.reason && last.time
      ? {
          value: last.value,
          ...(last.previous !== undefined ? { previous: last.previous } : {}),
          reason: last.reason,
          time: last.time,
          ...(last.message ? { message: last.message } : {}),
        }
      : undefined;
  const lastChangeAt = lastDecision ? Date.parse(lastDecision.time) : Number.NaN;
  // The ceiling and the value before the last change, so a new leader neither probes a limit that
  // broke the SLO again nor cuts a raise that broke it by a fifth instead of going back.
  const ceilingAt = p?.ceiling?.time ? Date.parse(p.ceiling.time) : Number.NaN;
  const ceiling =
    p?.ceiling?.value !== undefined && Number.isFinite(ceilingAt)
      ? { value: p.ceiling.value, at: ceilingAt }
      : undefined;
  const a = t.neuron.status?.autoscaling as AutoscalingStatus | undefined;
  const published = p?.current ?? startingParallelism(t.spec, t.neuron);
  // The value decided, when not every Ready pod took it yet (one refused or did not answer, or the
  // leader stopped mid-delivery): status holds it in lastDecision, and the value in effect in
  // current. Seeded from current, a new leader sent the older value to every pod, undoing a cut on
  // the pods that had taken it, with no decision or Event to say so.
  const current = lastDecision?.value ?? published;
  return {
    uid: t.neuron.metadata?.uid ?? '',
    parallelismTuned: t.tuneParallelism,
    state: {
      current,
      lastChangeAt: Number.isFinite(lastChangeAt) ? lastChangeAt : 0,
      lastDirection: directionOf(lastDecision?.reason),
      ...(lastDecision?.previous !== undefined ? { previous: lastDecision.previous } : {}),
      ...(ceiling ? { ceiling } : {}),
    },
    published,
    lastDecision,
    delivered: new Map(),
    refused: new Map(),
    // After a restart or a leader change the pods' values are unknown: deliver once.
    pending: true,
    recorded: current,
    unrecorded: undefined,
    unsent: undefined,
    replicas: heldReplicas(t, now),
    replicaDecision: a?.lastDecision ? { ...a.lastDecision } : undefined,
    written: writtenBefore(t, a?.desiredReplicas),
    writtenAt: 0,
    before: undefined,
    writtenVersion: '',
    latency: undefined,
    fanOut: {},
    fanOutStatus: { ...(a?.fanOut ?? {}) },
    tokenFailure: undefined,
    noDataNamedAt: undefined,
  };
}

/**
 * The count the operator last wrote, as the Neuron shows it. Status records it after the scale
 * write, in the same pass: a leader that stopped in between left the new count in spec.replicas and
 * the old one in status, and its successor took its own predecessor's write for another writer's (a
 * ManualScaleOverridden Warning, and the count set back). spec.replicas whose last writer is the
 * autoscaler is its count, whatever status says.
 */
function writtenBefore(t: TuningTarget, recorded: number | undefined): number | undefined {
  const live = t.neuron.spec?.replicas;
  // Without a count in status the operator does not hold it (a mode switch released it, and the
  // handover from an HPA writes as the autoscaler too): nothing to take over.
  if (!t.scaleReplicas || recorded === undefined || live === undefined || live === recorded) return recorded;
  // The autoscaler writes through the scale subresource; another writer since takes the field over.
  return ownsField(t.neuron, autoscalerFieldManager, ['spec', 'replicas'], 'scale') ? live : recorded;
}

/**
 * The replica state the tuner starts a Neuron from when it begins to follow it (a new leader, a Neuron
 * created, unpaused or newly autoscaled): the running count as a recommendation made `now`.
 */
function heldReplicas(t: TuningTarget, now: number): ReplicaState | undefined {
  const live = t.neuron.spec?.replicas;
  if (!t.scaleReplicas || live === undefined) return undefined;
  return { current: live, panicUntil: 0, recent: [{ at: now, value: live }] };
}

/** The memory holds something of the replica autoscaler's: a count, a decision, edges in status.
 * (`fanOut` itself stays: downstream Neurons' pre-scaling reads it whoever owns this one's count.) */
export const holdsReplicas = (mem: NeuronMemory): boolean =>
  mem.replicas !== undefined ||
  mem.written !== undefined ||
  mem.replicaDecision !== undefined ||
  Object.keys(mem.fanOutStatus).length > 0;

/**
 * Forgets the replica count the operator wrote, and its decisions, once the count is no longer its
 * own (autoscaling off, or mode hpa; the status part is released too). Kept, they outlived the
 * switch while parallelism stayed tuned: switched back to operator mode, a count set in between
 * (kubectl scale while it was not the operator's) was taken for a manual override (a Warning
 * ManualScaleOverridden, that reason in status) and the decision started from the stale count.
 */
export function releaseReplicas(mem: NeuronMemory): void {
  mem.replicas = undefined;
  mem.replicaDecision = undefined;
  mem.written = undefined;
  mem.writtenAt = 0;
  mem.before = undefined;
  mem.writtenVersion = '';
  mem.fanOutStatus = {};
}

/**
 * Parallelism tuning turned back on while the Neuron stayed autoscaled (its replicas): the memory
 * still holds the value and the decision from before it was turned off, while the pods went back to
 * the spec's limit, which the reconciler reports as `current`. Tuning starts over from that, with
 * no decision yet: the old one would come back into status, and its value onto the pods.
 */
export function reseedParallelism(mem: NeuronMemory, t: TuningTarget): void {
  const current = startingParallelism(t.spec, t.neuron);
  mem.state = { current, lastChangeAt: 0, lastDirection: 'none' };
  mem.published = current;
  mem.lastDecision = undefined;
  mem.pending = true;
  // The spec's value needs no decision recorded before the pods get it.
  mem.recorded = current;
}
