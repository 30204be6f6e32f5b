import { limitBounds } from '../render/autoscaling.ts';
import { networkPolicyNames } from '../render/network-policy.ts';
import {
  type ConditionInput,
  type LastDecision,
  ParallelismReason,
  ReplicasReason,
} from '../status/parallelism-status.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import {
  advance,
  type Decision,
  type DecisionReason,
  decide,
  type Observation,
  type TunerState,
  type TuningBounds,
} from './decide.ts';
import { podCondition } from './pod-condition.ts';
import { podObservation } from './pod-observation.ts';
import type { PodView } from './pod-view.ts';
import type { Prediction } from './prescale.ts';
import type { PrometheusRead, PrometheusSource } from './prometheus-source.ts';
import type { TuningTarget } from './tuning-targets.ts';

// Parallelism for one Neuron: its inputs come from the pods' load reports or from Prometheus
// (the two builders below), then one decision and the condition that says why.

/** What the parallelism law decides from, and what the condition says about it. */
export interface ParallelismInput {
  readonly bounds: TuningBounds;
  /** Where the figures came from, for the condition's message. */
  readonly source: string;
  readonly observation: Observation | undefined;
  /** Why the metrics could not be read (MetricsUnavailable). */
  readonly unavailable?: string | undefined;
  /** Why the metrics hold no observation (NoData). */
  readonly noData?: string | undefined;
  /**
   * Which Ready pods have not taken the current value, and why (DeliveryFailed). The pods' own
   * figures then describe the old limit: a raise on them would climb on a value nobody applied.
   */
  readonly undelivered?: string | undefined;
}

/**
 * From the pods' load reports. `written`: the replica count the operator last wrote, which the
 * predicted load is shared by when replicas are scaled here too.
 */
export function podParallelismInput(
  t: TuningTarget,
  view: PodView | undefined,
  prediction: Prediction | undefined,
  current: number,
  written: number | undefined,
): ParallelismInput {
  const p = t.spec.autoscaling.parallelism;
  const a = t.spec.autoscaling;
  const scaledTo = t.scaleReplicas ? (written ?? t.neuron.spec?.replicas ?? 1) : 0;
  const windows = { panicMs: a.panicWindowSeconds * 1000, stableMs: a.stableWindowSeconds * 1000 };
  const observation = view ? podObservation(view, prediction, scaledTo, windows) : undefined;
  const c = podCondition(view, 'no latency yet', `${current}`);
  const unreachable = c?.reason === ReplicasReason.PodsUnreachable;
  return {
    bounds: {
      ...limitBounds(t.spec),
      sloMs: p.latencySLOMs,
      stableWindowSeconds: a.stableWindowSeconds,
      panicWindowSeconds: a.panicWindowSeconds,
      raiseAfterRaiseSeconds: a.panicWindowSeconds,
    },
    source: `the pods' load reports (windows ${a.panicWindowSeconds}s/${a.stableWindowSeconds}s)`,
    observation,
    ...(unreachable ? { unavailable: c.message } : {}),
    ...(!unreachable && !observation
      ? {
          noData:
            c?.message ??
            `No signal finished over the last ${a.stableWindowSeconds}s (no traffic); holding ${current}`,
        }
      : {}),
  };
}

/** How a Prometheus NoData message names the series it missed: `${NO_DATA_FOR}<series>${NO_DATA_OVER}<window>s …`. */
export const NO_DATA_FOR = 'Prometheus returned no data for ';
export const NO_DATA_OVER = ' over the last ';

/** From Prometheus; `read` is undefined when no Prometheus URL is set. */
export function prometheusParallelismInput(
  t: TuningTarget,
  source: PrometheusSource,
  read: PrometheusRead | undefined,
  current: number,
): ParallelismInput {
  const p = t.spec.autoscaling.parallelism;
  const { url, window } = source;
  const bounds: TuningBounds = {
    ...limitBounds(t.spec),
    sloMs: p.latencySLOMs,
    // Before another move, the window must hold only data from after the last one.
    stableWindowSeconds: Math.max(30, window),
    panicWindowSeconds: window,
  };
  const base = { bounds, source: `${url} over ${window}s windows` };
  if (!url || read === undefined)
    return {
      ...base,
      observation: undefined,
      unavailable:
        'no Prometheus URL: set spec.autoscaling.parallelism.prometheusURL on the Hal9Cluster or the Neuron, or start the operator with --prometheus-url',
    };
  if ('error' in read) return { ...base, observation: undefined, unavailable: read.error };
  const c = read.collected;
  return {
    ...base,
    observation: c.observation,
    ...(c.observation
      ? {}
      : {
          noData: `${NO_DATA_FOR}${c.missing.join(', ') || 'the neuron'}${NO_DATA_OVER}${window}s (no traffic, or its pods are not scraped: the NetworkPolicy ${networkPolicyNames(t.spec.cluster).runtime} admits scrapes only from the namespaces the operator's --prometheus-namespace-selector matches, by default kubernetes.io/metadata.name=monitoring); holding ${current}`,
        }),
  };
}

export interface ParallelismOutcome {
  readonly decision: Decision;
  /** The reason counted in metrics: NoData for want of metrics counts as MetricsUnavailable. */
  readonly counted: DecisionReason | 'MetricsUnavailable';
  /** The state and status record after a change; undefined when the value holds. */
  readonly next: { readonly state: TunerState; readonly lastDecision: LastDecision } | undefined;
  readonly condition: ConditionInput;
}

/** Decided even without metrics: new bounds still move the value into them. */
export function decideParallelism(
  state: TunerState,
  input: ParallelismInput,
  now: number,
): ParallelismOutcome {
  const { bounds, unavailable, undelivered } = input;
  const decided = decide(state, input.observation, bounds, now);
  const d: Decision =
    undelivered && decided.changed && decided.value > state.current
      ? {
          value: state.current,
          reason: 'Undelivered',
          changed: false,
          message: `would raise to ${decided.value} (${decided.message}), but ${undelivered}`,
        }
      : decided;
  const counted = d.reason === 'NoData' && unavailable ? 'MetricsUnavailable' : d.reason;
  const next = d.changed
    ? {
        state: advance(state, d, now),
        lastDecision: {
          value: d.value,
          previous: state.current,
          reason: d.reason,
          time: rfc3339(now),
          message: d.message.slice(0, 1024),
        },
      }
    : undefined;
  // No metrics is the cause to name when pods neither report nor take values (all unreachable).
  const condition: ConditionInput = unavailable
    ? {
        status: 'False',
        reason: ParallelismReason.MetricsUnavailable,
        message: undelivered ? `${unavailable}; ${undelivered}` : unavailable,
      }
    : undelivered
      ? {
          status: 'False',
          reason: ParallelismReason.DeliveryFailed,
          message: `${undelivered}; raises wait until they take it`,
        }
      : d.reason === 'NoData'
        ? { status: 'False', reason: ParallelismReason.NoData, message: input.noData ?? 'no data' }
        : {
            status: 'True',
            reason: ParallelismReason.MetricsAvailable,
            message: `Tuned from ${input.source} within [${bounds.min}, ${bounds.max}], caller-visible p95 SLO ${bounds.sloMs} ms${bounds.maxNote ? `; ${bounds.maxNote}` : ''}`,
          };
  return { decision: d, counted, next, condition };
}
