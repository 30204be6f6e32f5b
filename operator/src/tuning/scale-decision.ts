import type { EventType } from '../events/recorder.ts';
import { modelCallCap } from '../spec/model-call-cap.ts';
import type { ConditionInput, ReplicaDecisionStatus } from '../status/parallelism-status.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import type { NeuronMemory } from './neuron-memory.ts';
import type { Prediction } from './prescale.ts';
import type { ReplicaSignals } from './replica-signals.ts';
import { decideReplicas, type ReplicaBounds, type ReplicaDecision, type ReplicaState } from './replicas.ts';
import { dec } from './status-format.ts';
import type { TuningTarget } from './tuning-targets.ts';

// Replicas for one Neuron (operator mode): who set spec.replicas last, the replica law's decision,
// and whether (and with what words) the operator writes the scale subresource.

/** The operator's own writes to spec.replicas, as the tuner remembers them. */
export type ScaleMemory = Pick<
  NeuronMemory,
  'replicas' | 'written' | 'writtenAt' | 'before' | 'writtenVersion'
>;

export interface ReplicaOwnership {
  /** spec.replicas as the cache shows it. */
  readonly live: number;
  /** What another writer set spec.replicas to; undefined when nobody else did. */
  readonly overridden: number | undefined;
  /** The cache may still show the count from before the operator's own last write. */
  readonly lagging: boolean;
  /** The count the decision starts from: the one the operator last wrote, else the live one. */
  readonly base: number;
}

/**
 * Another writer changed spec.replicas (kubectl scale, a GitOps sync): in operator mode the
 * operator owns it, so it is set back, and said so. The informer may still show the value from
 * before the operator's own last write for a moment: that one value, while the cached Neuron is
 * older than the write (its resourceVersion, an etcd revision, is lower), is not another writer.
 * Once the cache holds the write, the same value is a writer that set it back (kubectl scale to
 * the count before): judged by time alone, such a scale was obeyed for up to 10 s. Where the
 * versions cannot be compared, the value right after a write (10 s) is taken for a lagging cache.
 */
export function replicaOwnership(t: TuningTarget, mem: ScaleMemory, now: number): ReplicaOwnership {
  const live = t.neuron.spec?.replicas ?? 1;
  const older = olderThan(t.neuron.metadata?.resourceVersion, mem.writtenVersion);
  const lagging = live === mem.before && (older ?? now - mem.writtenAt < 10_000);
  const overridden = mem.written !== undefined && live !== mem.written && !lagging ? live : undefined;
  return { live, overridden, lagging, base: mem.written ?? live };
}

/** Whether resourceVersion `seen` is older than `written`; undefined when either is not a revision number. */
function olderThan(seen: string | undefined, written: string): boolean | undefined {
  if (!seen || !/^[0-9]{1,30}$/.test(seen) || !/^[0-9]{1,30}$/.test(written)) return undefined;
  return BigInt(seen) < BigInt(written);
}

export interface ScaleInput {
  readonly target: TuningTarget;
  readonly mem: ScaleMemory;
  readonly owner: ReplicaOwnership;
  readonly signals: ReplicaSignals;
  readonly prediction: Prediction | undefined;
  /** Slots of one pod: the limit just decided, or the spec's when parallelism is not tuned. */
  readonly slotsPerPod: number;
  readonly now: number;
}

/** The count to write to spec.replicas, the event that says so, and the status record once written. */
export interface ScaleWrite {
  readonly target: number;
  readonly message: string;
  readonly event: { readonly type: EventType; readonly reason: string; readonly message: string };
  readonly status: ReplicaDecisionStatus;
}

export interface ScaleOutcome {
  readonly decision: ReplicaDecision;
  /** ManualScaleOverridden when another writer is set back, else the decision's reason. */
  readonly reason: string;
  /** The replica law's state from here on. */
  readonly replicas: ReplicaState;
  /** What to write; undefined when spec.replicas is left as it is. */
  readonly write: ScaleWrite | undefined;
  /** spec.replicas already shows the decided count: it counts as written. */
  readonly settled: boolean;
}

const boundsOf = (t: TuningTarget): ReplicaBounds => {
  const a = t.spec.autoscaling;
  return {
    min: a.minReplicas,
    max: Math.max(a.minReplicas, a.maxReplicas),
    targetPerPod: a.targetConcurrencyPerPod,
    targetUtilization: a.targetUtilizationPercentage / 100,
    callsPerPod: modelCallCap(t.spec).value,
    panicThreshold: a.panicThresholdPercentage / 100,
    stableWindowMs: a.stableWindowSeconds * 1000,
    scaleDownDelayMs: a.scaleDownDelaySeconds * 1000,
    // Two panic windows: the pods it asked for are ready and the Neuron's own panic window has
    // the load that arrived (replicas.ts).
    prescaleHoldMs: Math.min(a.stableWindowSeconds, 2 * a.panicWindowSeconds) * 1000,
  };
};

/** Decides the replica count and whether to write it; the caller writes and remembers. */
export function decideScale(i: ScaleInput): ScaleOutcome {
  const { mem, owner, signals: s, prediction, now } = i;
  const { live, overridden, lagging, base } = owner;
  const start: ReplicaState = {
    ...(mem.replicas ?? { current: base, panicUntil: 0, recent: [] }),
    current: base,
  };
  const d = decideReplicas(
    start,
    {
      readyPods: s.ready,
      stableConcurrency: s.stable,
      panicConcurrency: s.panic,
      stableCoveredMs: s.stableCoveredMs,
      panicDemand: s.demand,
      slotsPerPod: i.slotsPerPod,
      throttled: s.throttled,
      predictedConcurrency: prediction?.concurrency,
      predictedDemand: prediction?.sustained,
    },
    boundsOf(i.target),
    now,
  );
  const reason = overridden !== undefined ? 'ManualScaleOverridden' : d.reason;
  const target = d.value;
  const due = d.changed || overridden !== undefined || mem.written === undefined || live !== target;
  const writes = due && live !== target && !(lagging && target === mem.written);
  return {
    decision: d,
    reason,
    replicas: d.state,
    write: writes ? scaleWrite(d, reason, owner, s.stable, prediction, now) : undefined,
    // Only a count decided on data is claimed: one held for want of data would make the next
    // change by its rightful owner (the count an HPA left, carried into spec.replicas when the
    // mode switches to operator) look like a manual override, and set it back.
    settled: due && live === target && s.stable !== undefined,
  };
}

function scaleWrite(
  d: ReplicaDecision,
  reason: string,
  { live, overridden }: ReplicaOwnership,
  stable: number | undefined,
  prediction: Prediction | undefined,
  now: number,
): ScaleWrite {
  const target = d.value;
  const upstream = prediction?.from
    .map(
      (f) =>
        `${f.source} ${dec(f.intake)}/s × ${dec(f.fanOut)}${f.backlog > 0 ? ` (+ ${dec(f.backlog)} queued)` : ''}`,
    )
    .join(', ');
  const message = `${d.message}${upstream ? `; upstream ${upstream}` : ''}`.slice(0, 1024);
  return {
    target,
    message,
    event:
      overridden !== undefined
        ? {
            type: 'Warning',
            reason: 'ManualScaleOverridden',
            message: `spec.replicas was set to ${overridden} by another writer; in autoscaling mode operator the operator owns it and set it to ${target}. Change autoscaling.minReplicas/maxReplicas, or turn autoscaling off to scale by hand`,
          }
        : {
            type: 'Normal',
            reason: d.reason,
            message: `Scaled from ${live} to ${target} replicas: ${message}`,
          },
    status: {
      value: target,
      reason,
      time: rfc3339(now),
      message,
      ...(stable === undefined ? {} : { observedConcurrency: dec(stable) }),
      ...(prediction ? { predictedConcurrency: dec(prediction.concurrency) } : {}),
      perPodTarget: dec(d.perPodTarget),
      panic: d.panic,
    },
  };
}

/**
 * The replica condition, saying so while the upstream's push-back holds a raise: that hold writes
 * no Event and no decision, and with MetricsAvailable alone a growing queue looked unexplained. The
 * words stay the same through the hold, so it costs a status write when it starts and when it ends.
 */
export function heldCondition(c: ConditionInput, d: ReplicaDecision, base: number): ConditionInput {
  if (d.reason !== 'UpstreamThrottling' || c.status !== 'True') return c;
  return {
    ...c,
    message: `${c.message}; holding ${base} replicas: the upstream answers 429/529, and more pods would only send more into the same limit`,
  };
}
