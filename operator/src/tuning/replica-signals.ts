import { type ConditionInput, ReplicasReason } from '../status/parallelism-status.ts';
import { concurrencyOverAllPods, demandOverAllPods } from './over-all-pods.ts';
import { podCondition } from './pod-condition.ts';
import type { PodView } from './pod-view.ts';
import type { PrometheusRead, PrometheusSource } from './prometheus-source.ts';
import { upstreamPushesBack } from './throttled.ts';
import type { TuningTarget } from './tuning-targets.ts';

/** What the replica law sizes one Neuron from this pass, and the condition that says where it came from. */
export interface ReplicaSignals {
  readonly ready: number;
  /** Concurrency over all Ready pods, stable and panic window; undefined: no data. */
  readonly stable: number | undefined;
  readonly panic: number | undefined;
  /** How much of the stable window the pods' reports cover (ms); undefined: all of it (Prometheus). */
  readonly stableCoveredMs?: number | undefined;
  /** In flight the panic window's arrivals need (pods only). */
  readonly demand: number | undefined;
  readonly throttled: boolean;
  readonly condition: ConditionInput;
}

const replicaRange = (t: TuningTarget) => {
  const a = t.spec.autoscaling;
  return { min: a.minReplicas, max: Math.max(a.minReplicas, a.maxReplicas) };
};

/** From the pods' load reports; `base`: the count held when they give nothing. */
export function podReplicaSignals(t: TuningTarget, view: PodView | undefined, base: number): ReplicaSignals {
  const a = t.spec.autoscaling;
  const { min, max } = replicaRange(t);
  const silent = view?.silent ?? 0;
  return {
    ready: view?.ready ?? 0,
    stable: concurrencyOverAllPods(view?.stable, silent),
    panic: concurrencyOverAllPods(view?.panic, silent),
    stableCoveredMs: view?.stable?.coveredMs,
    demand: demandOverAllPods(view?.panic, silent),
    throttled: upstreamPushesBack(view?.panic?.throttledRate ?? 0, view?.panic?.completionRate ?? 0),
    condition: podCondition(view, 'the first reports', `${base} replicas`) ?? {
      status: 'True',
      reason: ReplicasReason.MetricsAvailable,
      message: `Replicas from the pods' load reports: concurrency ÷ per-pod target over ${a.stableWindowSeconds}s (panic ${a.panicWindowSeconds}s) within [${min}, ${max}]${unreadNote(view)}`,
    },
  };
}

/** From Prometheus; `read` is undefined when no Prometheus URL is set. */
export function prometheusReplicaSignals(
  t: TuningTarget,
  source: PrometheusSource,
  read: PrometheusRead | undefined,
  base: number,
): ReplicaSignals {
  const { min, max } = replicaRange(t);
  const { url, window } = source;
  const none = {
    ready: t.neuron.status?.readyReplicas ?? 0,
    stable: undefined,
    panic: undefined,
    demand: undefined,
    throttled: false,
  };
  if (!url || read === undefined)
    return {
      ...none,
      condition: {
        status: 'False',
        reason: ReplicasReason.MetricsUnavailable,
        message: `no Prometheus URL: set spec.autoscaling.parallelism.prometheusURL or start the operator with --prometheus-url; holding ${base} replicas`,
      },
    };
  if ('error' in read)
    return {
      ...none,
      condition: {
        status: 'False',
        reason: ReplicasReason.MetricsUnavailable,
        message: `${read.error}; holding ${base} replicas`,
      },
    };
  const c = read.collected;
  const stable = c.concurrency;
  return {
    ...none,
    stable,
    panic: stable,
    throttled: upstreamPushesBack(c.observation?.throttledPerSecond ?? 0, c.observation?.throughput ?? 0),
    condition:
      stable === undefined
        ? {
            status: 'False',
            reason: ReplicasReason.NoData,
            message: `Prometheus returned no concurrency over the last ${window}s; holding ${base} replicas`,
          }
        : {
            status: 'True',
            reason: ReplicasReason.MetricsAvailable,
            message: `Replicas from ${url} over ${window}s windows within [${min}, ${max}]`,
          },
  };
}

/** Says which Ready pods the figures stand in for, when some could not be read this pass. */
function unreadNote(view: PodView | undefined): string {
  if (!view || view.silent === 0) return '';
  const why =
    view.refused > 0
      ? ` (${view.refused} outside --pod-cidrs)`
      : view.errors[0]
        ? ` (${view.errors[0]})`
        : '';
  return `; ${view.silent} of ${view.ready} Ready pods not read${why}, their share extrapolated from the others`;
}
