import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';
import { keyOf, type ObjectReader } from '../controller/object-reader.ts';
import type { EventRecorder } from '../events/recorder.ts';
import type { Logger } from '../logger.ts';
import { startingParallelism } from '../render/render-neuron.ts';
import { effectiveSpec } from '../spec/effective-spec.ts';
import {
  type AutoscalingStatus,
  type ConditionInput,
  computeTunerStatus,
  type LastDecision,
  ParallelismCondition,
  ParallelismReason,
  type ReplicaDecisionStatus,
  ReplicasCondition,
  ReplicasReason,
  type TunerStatus,
} from '../status/parallelism-status.ts';
import { statusUpToDate } from '../status/up-to-date.ts';
import {
  advance,
  type DecisionReason,
  decide,
  type Observation,
  type TunerState,
  type TuningBounds,
} from './decide.ts';
import type { LoadReport } from './load-report.ts';
import { appendReport, type WindowStats, windowStats } from './load-windows.ts';
import { type Cidr, urlAllowed } from './pod-cidrs.ts';
import { intakeOf, type NeuronFlow, type Prediction, predict } from './prescale.ts';
import { collect, type PrometheusClient } from './prometheus.ts';
import { decideReplicas, type ReplicaBounds, type ReplicaDecision, type ReplicaState } from './replicas.ts';
import { type PodLister, type PodURL, type RuntimePod, readyPodsByNeuron } from './runtime-pods.ts';
import type { NeuronScaler } from './scale-writer.ts';
import type { TunerStatusWriter } from './status-writer.ts';

// The autoscaler loop (a thin shell around pure laws), on the leader only. Every interval:
//  1. gather: list the runtime pods once; read every Ready pod's load report (GET /v1/admin/load)
//     for Neurons whose metricsSource is pods, or query Prometheus for the others;
//  2. decide: windows over the reports (load-windows.ts) → parallelism (decide.ts) → predicted
//     intake from the graph (prescale.ts) → replicas (replicas.ts);
//  3. apply: the limit to running pods (PUT /v1/admin/performance), the replica count to the
//     Neuron's scale subresource, and the decisions to status (the next render carries them into
//     the ConfigMap and the Deployment).
// State per Neuron lives in memory, seeded from its status, so a new leader keeps the windows.

export interface TunerOptions {
  readonly intervalMs: number;
  /** Prometheus query window in seconds; default four scrape intervals of the Neuron's monitoring spec. */
  readonly windowSeconds?: number;
  /** Prometheus for Neurons whose spec names none. */
  readonly defaultPrometheusURL?: string;
  /** Every this many ticks the limit is delivered to every pod even without a change. */
  readonly resyncTicks?: number;
  /** Neurons decided at once. */
  readonly concurrency?: number;
  /** Pod reads in flight at once (default 16). */
  readonly readConcurrency?: number;
  /** Deadline of one pod read (default 1 s). */
  readonly readTimeoutMs?: number;
  /** --pod-cidrs: addresses the operator may send to; undefined allows any. */
  readonly podCidrs?: readonly Cidr[];
}

export interface TunerObserver {
  decided(reason: string): void;
  parallelism(namespace: string, neuron: string, value: number): void;
  delivered(ok: boolean): void;
  replicaDecided?(reason: string): void;
  replicas?(namespace: string, neuron: string, value: number): void;
  loadRead?(result: 'ok' | 'error' | 'refused'): void;
  concurrency?(
    namespace: string,
    neuron: string,
    window: 'stable' | 'panic',
    value: number | undefined,
  ): void;
  predicted?(namespace: string, neuron: string, value: number | undefined): void;
  fanOut?(namespace: string, source: string, target: string, value: number): void;
  forget?(namespace: string, neuron: string): void;
}

export interface TunerDeps {
  readonly neurons: ObjectReader<Neuron>;
  readonly clusters: ObjectReader<Hal9Cluster>;
  readonly listPods: PodLister;
  readonly podURL: PodURL;
  /** A client for a Prometheus base URL (the tuner keeps one per URL). */
  readonly prometheus: (url: string) => PrometheusClient;
  /** PUT /v1/admin/performance on one pod; resolves with the value the runtime reports. */
  readonly setPodLimit: (url: string, value: number, token: string | undefined) => Promise<number>;
  /** GET /v1/admin/load on one pod. */
  readonly readLoad?: (url: string, token: string | undefined) => Promise<LoadReport>;
  /** Writes a Neuron's spec.replicas through its scale subresource. */
  readonly scaleNeuron?: NeuronScaler;
  /** Bearer token of a Neuron's runtime admin API, when its pods require one. */
  readonly authToken?: (
    neuron: Neuron,
    cluster: Hal9Cluster,
  ) => Promise<string | undefined> | string | undefined;
  readonly writeStatus: TunerStatusWriter;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly observer?: TunerObserver;
  readonly options: TunerOptions;
}

interface Memory {
  uid: string;
  state: TunerState;
  lastDecision: LastDecision | undefined;
  /** Pod uid → the value that pod last accepted. */
  delivered: Map<string, number>;
  /** A pod may not have the current value yet: deliver next tick. */
  pending: boolean;
  replicas: ReplicaState | undefined;
  replicaDecision: ReplicaDecisionStatus | undefined;
  /** The count this operator last wrote to spec.replicas, and when. */
  written: number | undefined;
  writtenAt: number;
  /** spec.replicas as the cache showed it when the operator last wrote (a cache lagging still shows it). */
  before: number | undefined;
  /** Last mean latency seen (seconds), for Little's law when the window has none. */
  latency: number | undefined;
  /** Learned fan-out per target neuron (stable window), and its snapshot in status. */
  fanOut: Record<string, number>;
  fanOutStatus: Record<string, string>;
}

type Spec = ReturnType<typeof effectiveSpec>;

interface Target {
  readonly key: string;
  readonly neuron: Neuron;
  readonly cluster: Hal9Cluster;
  readonly spec: Spec;
  readonly tuneParallelism: boolean;
  readonly scaleReplicas: boolean;
  readonly fromPods: boolean;
}

/** What the pods of one Neuron reported this tick. */
interface PodView {
  readonly ready: number;
  readonly reporting: number;
  /** Ready pods that answered before but not now: their share is extrapolated from the others. */
  readonly silent: number;
  readonly refused: number;
  readonly errors: readonly string[];
  readonly stable: WindowStats | undefined;
  readonly panic: WindowStats | undefined;
  /** The newest interval between two reads (graph pre-scaling's intake). */
  readonly latest: WindowStats | undefined;
}

export interface RunningTuner {
  /** One pass over every autoscaled Neuron (the loop calls it; tests may too). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const dec = (n: number) => String(Math.round(n * 100) / 100);

const directionOf = (reason: string | undefined): TunerState['lastDirection'] =>
  reason === 'Saturated' || reason === 'PreScaled'
    ? 'up'
    : reason === 'LatencyAboveSLO'
      ? 'down'
      : reason === 'UpstreamThrottling'
        ? 'trim'
        : 'none';

/** Scrape interval like "15s", "1m", "500ms" in seconds; undefined when it is not one. */
export function durationSeconds(s: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s ?? '');
  if (!m) return undefined;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** In flight the window's arrivals need: arrival rate × time a signal holds a slot (Little's law). */
const demandOf = (s: WindowStats | undefined, silent: number) =>
  s === undefined || !(s.completionRate > 0)
    ? undefined
    : (s.arrivalRate * (s.active / s.completionRate) * (s.pods + silent)) / s.pods;

/** A per-window sum over all Ready pods, from the pods that reported (Knative extrapolates the same way). */
const overAllPods = (s: WindowStats | undefined, silent: number, value: (s: WindowStats) => number) =>
  s === undefined ? undefined : (value(s) * (s.pods + silent)) / s.pods;

/** Concurrency over all Ready pods. */
const scaled = (s: WindowStats | undefined, silent: number) => overAllPods(s, silent, (w) => w.concurrency);

export function startTuner(deps: TunerDeps): RunningTuner {
  const { clock, logger, options } = deps;
  const memory = new Map<string, Memory>();
  const clients = new Map<string, PrometheusClient>();
  /** Pod uid → its Neuron, its recent load reports and when it last answered (operator clock). */
  const histories = new Map<
    string,
    { neuron: string; reports: LoadReport[]; okAt: number; keepMs: number }
  >();
  const refusedLogged = new Set<string>();
  const resyncTicks = options.resyncTicks ?? 6;
  const concurrency = options.concurrency ?? 4;
  let ticks = 0;
  let stopped = false;
  let running: Promise<void> | undefined;
  let cancel: (() => void) | undefined;

  const promFor = (url: string) => {
    let c = clients.get(url);
    if (!c) {
      c = deps.prometheus(url);
      clients.set(url, c);
    }
    return c;
  };

  /** Neurons to autoscale, and Neurons whose autoscaling was turned off but still carry its status. */
  const targets = (): { tune: Target[]; retire: Neuron[] } => {
    const tune: Target[] = [];
    const retire: Neuron[] = [];
    for (const neuron of deps.neurons.list()) {
      const m = neuron.metadata;
      if (!m?.name || m.deletionTimestamp || m.annotations?.['hal9.ai/paused'] === 'true') continue;
      const cluster = deps.clusters.get(neuron.spec?.cluster ?? '', m.namespace);
      let enabled = false;
      if (cluster) {
        try {
          const spec = effectiveSpec(cluster, neuron);
          const a = spec.autoscaling;
          const tuneParallelism = a.parallelism.enabled;
          const scaleReplicas = a.enabled && a.mode === 'operator';
          enabled = tuneParallelism || scaleReplicas;
          if (enabled) {
            tune.push({
              key: keyOf(neuron),
              neuron,
              cluster,
              spec,
              tuneParallelism,
              scaleReplicas,
              fromPods: a.metricsSource !== 'prometheus',
            });
          }
        } catch {
          // A spec render cannot use is reported by the reconciler; nothing to tune.
        }
      }
      const s = neuron.status as (Neuron['status'] & { autoscaling?: unknown }) | undefined;
      if (
        !enabled &&
        (s?.parallelism?.lastDecision ||
          s?.autoscaling ||
          s?.conditions?.some((c) => c.type === ParallelismCondition || c.type === ReplicasCondition))
      ) {
        retire.push(neuron);
      }
    }
    return { tune, retire };
  };

  const remember = (t: Target): Memory => {
    const uid = t.neuron.metadata?.uid ?? '';
    const known = memory.get(t.key);
    if (known && known.uid === uid) return known;
    const p = t.neuron.status?.parallelism;
    const last = p?.lastDecision as (LastDecision & { message?: string }) | undefined;
    const lastDecision =
      last?.value !== undefined && last.reason && last.time
        ? {
            value: last.value,
            reason: last.reason,
            time: last.time,
            ...(last.message ? { message: last.message } : {}),
          }
        : undefined;
    const lastChangeAt = lastDecision ? Date.parse(lastDecision.time) : Number.NaN;
    const a = t.neuron.status?.autoscaling as AutoscalingStatus | undefined;
    const m: Memory = {
      uid,
      state: {
        current: p?.current ?? startingParallelism(t.spec, t.neuron),
        lastChangeAt: Number.isFinite(lastChangeAt) ? lastChangeAt : 0,
        lastDirection: directionOf(lastDecision?.reason),
      },
      lastDecision,
      delivered: new Map(),
      // After a restart or a leader change the pods' values are unknown: deliver once.
      pending: true,
      replicas: undefined,
      replicaDecision: a?.lastDecision ? { ...a.lastDecision } : undefined,
      written: a?.desiredReplicas,
      writtenAt: 0,
      before: undefined,
      latency: undefined,
      fanOut: {},
      fanOutStatus: { ...(a?.fanOut ?? {}) },
    };
    memory.set(t.key, m);
    return m;
  };

  const tokenFor = async (t: Target): Promise<string | undefined> => deps.authToken?.(t.neuron, t.cluster);

  /** Reads the load of every Ready pod of the pod-sourced Neurons; returns each Neuron's view. */
  const readPods = async (list: readonly Target[], pods: Map<string, RuntimePod[]>) => {
    const now = clock.now();
    const views = new Map<string, PodView>();
    const jobs: { t: Target; pod: RuntimePod; token: string | undefined }[] = [];
    const errors = new Map<string, string[]>();
    const refused = new Map<string, number>();
    for (const t of list) {
      if (!t.fromPods) continue;
      let token: string | undefined;
      try {
        token = await tokenFor(t);
      } catch (err) {
        errors.set(t.key, [
          `cannot read the runtime admin token: ${err instanceof Error ? err.message : String(err)}`,
        ]);
        continue;
      }
      for (const pod of pods.get(t.key) ?? []) {
        if (!urlAllowed(pod.url, options.podCidrs)) {
          refused.set(t.key, (refused.get(t.key) ?? 0) + 1);
          deps.observer?.loadRead?.('refused');
          if (!refusedLogged.has(pod.uid)) {
            refusedLogged.add(pod.uid);
            logger.warn(
              { neuron: t.key, pod: pod.name, url: pod.url },
              'Refused to reach a pod outside --pod-cidrs',
            );
          }
          continue;
        }
        jobs.push({ t, pod, token });
      }
    }
    const read = deps.readLoad;
    if (read) {
      await pool(jobs, options.readConcurrency ?? 16, async ({ t, pod, token }) => {
        try {
          const report = await read(pod.url, token);
          const h = histories.get(pod.uid);
          const keepMs = t.spec.autoscaling.stableWindowSeconds * 1000 + 10_000;
          histories.set(pod.uid, {
            neuron: t.key,
            reports: appendReport(h?.reports ?? [], report, keepMs),
            okAt: clock.now(),
            keepMs,
          });
          deps.observer?.loadRead?.('ok');
        } catch (err) {
          deps.observer?.loadRead?.('error');
          const list = errors.get(t.key) ?? [];
          list.push(err instanceof Error ? err.message : String(err));
          errors.set(t.key, list);
        }
      });
    }
    const live = new Set<string>();
    for (const t of list) {
      if (!t.fromPods) continue;
      const a = t.spec.autoscaling;
      const ready = pods.get(t.key) ?? [];
      for (const p of ready) live.add(p.uid);
      // A pod that missed two intervals is left out rather than averaged as if it were idle.
      const staleMs = Math.max(2 * options.intervalMs, 3000);
      const known = ready.map((p) => histories.get(p.uid)).filter((h) => h !== undefined);
      const fresh = known.filter((h) => now - h.okAt <= staleMs).map((h) => h.reports);
      // A new pod has no history yet and is not extrapolated: the others' windows hold the load
      // from before it started, and counting it again would overshoot.
      const reportNow = Math.max(0, ...fresh.map((h) => h.at(-1)?.at ?? 0));
      const name = t.neuron.metadata?.name ?? '';
      // Pods that left still count with the load they carried in the window (load-windows.ts).
      const uids = new Set(ready.map((p) => p.uid));
      const departed = [...histories.entries()]
        .filter(([uid, h]) => h.neuron === t.key && !uids.has(uid))
        .map(([, h]) => h.reports);
      const opts = { now: reportNow, staleMs: Number.POSITIVE_INFINITY, departed };
      const stable = windowStats(fresh, name, { ...opts, windowMs: a.stableWindowSeconds * 1000 });
      const panic = windowStats(fresh, name, { ...opts, windowMs: a.panicWindowSeconds * 1000 });
      // Three quarters of an interval back reaches the read before the newest: one interval's span.
      const latest = windowStats(fresh, name, {
        ...opts,
        windowMs: Math.min(a.panicWindowSeconds * 1000, Math.max(500, options.intervalMs * 0.75)),
      });
      views.set(t.key, {
        ready: ready.length,
        reporting: stable?.pods ?? 0,
        silent: known.length - fresh.length,
        refused: refused.get(t.key) ?? 0,
        errors: errors.get(t.key) ?? [],
        stable,
        panic,
        latest,
      });
    }
    for (const [uid, h] of histories) if (!live.has(uid) && now - h.okAt > h.keepMs) histories.delete(uid);
    return views;
  };

  /**
   * The parallelism observation of a pod-sourced Neuron: the panic window when enough finished.
   * `pods`: what the predicted load is shared by: the ready pods, or the count the replicas are
   * scaled to when more (pods already decided take it from the slots once they run; sizing the
   * slots of the ready ones for all of it counts the same headroom twice, and the pods the slots
   * made unneeded go a stable window later).
   */
  const podObservation = (
    v: PodView,
    prediction: Prediction | undefined,
    pods: number,
  ): Observation | undefined => {
    const w = v.panic && v.panic.completed >= 20 ? v.panic : v.stable;
    if (!w || w.p95Seconds === undefined || !v.panic) return undefined;
    return {
      p95Ms: w.p95Seconds * 1000,
      utilization: v.panic.utilization,
      queueDepth: v.panic.queue,
      throttledPerSecond: v.panic.throttledRate,
      throughput: w.completionRate,
      demandPerPod: v.panic.concurrency / v.panic.pods,
      ...(w.completionRate > 0 ? { serviceMs: (w.active / w.completionRate) * 1000 } : {}),
      ...(prediction ? { predictedPerPod: prediction.concurrency / Math.max(1, v.ready, pods) } : {}),
    };
  };

  const podCondition = (
    v: PodView | undefined,
    what: string,
    holding: string,
  ): ConditionInput | undefined => {
    if (!v)
      return {
        status: 'False',
        reason: ReplicasReason.PodsUnreachable,
        message: `The runtime pods could not be listed; holding ${holding}`,
      };
    if (v.stable) return undefined;
    if (v.ready === 0)
      return {
        status: 'False',
        reason: ReplicasReason.NoData,
        message: `No Ready pod with an address to read; holding ${holding}`,
      };
    if (v.refused === v.ready)
      return {
        status: 'False',
        reason: ReplicasReason.PodsUnreachable,
        message: `Every Ready pod's address is outside --pod-cidrs; holding ${holding}`,
      };
    if (v.errors.length > 0)
      return {
        status: 'False',
        reason: ReplicasReason.PodsUnreachable,
        message: `No pod answered GET /v1/admin/load (${v.errors[0]}); holding ${holding}`,
      };
    return {
      status: 'False',
      reason: ReplicasReason.NoData,
      message: `Pods answer, but not yet over a whole window (${what}); holding ${holding}`,
    };
  };

  /** Parallelism for one Neuron; returns its status inputs. */
  const decideParallelism = async (
    t: Target,
    mem: Memory,
    view: PodView | undefined,
    prediction: Prediction | undefined,
    now: number,
  ) => {
    const p = t.spec.autoscaling.parallelism;
    const a = t.spec.autoscaling;
    const namespace = t.neuron.metadata?.namespace ?? '';
    const name = t.neuron.metadata?.name ?? '';
    let bounds: TuningBounds;
    let unavailable: string | undefined;
    let noData: string | undefined;
    let observation: Observation | undefined;
    let source: string;
    if (t.fromPods) {
      bounds = {
        min: p.min,
        max: Math.max(p.min, p.max),
        sloMs: p.latencySLOMs,
        stableWindowSeconds: a.stableWindowSeconds,
        panicWindowSeconds: a.panicWindowSeconds,
        raiseAfterRaiseSeconds: a.panicWindowSeconds,
      };
      source = `the pods' load reports (windows ${a.panicWindowSeconds}s/${a.stableWindowSeconds}s)`;
      const scaledTo = t.scaleReplicas ? (mem.written ?? t.neuron.spec?.replicas ?? 1) : 0;
      observation = view ? podObservation(view, prediction, scaledTo) : undefined;
      const c = podCondition(view, 'no latency yet', `${mem.state.current}`);
      if (c?.reason === ReplicasReason.PodsUnreachable) unavailable = c.message;
      else if (!observation)
        noData =
          c?.message ??
          `No signal finished over the last ${a.stableWindowSeconds}s (no traffic); holding ${mem.state.current}`;
    } else {
      const scrape = durationSeconds(t.spec.monitoring.scrapeInterval) ?? 15;
      const window = options.windowSeconds ?? 4 * scrape;
      bounds = {
        min: p.min,
        max: Math.max(p.min, p.max),
        sloMs: p.latencySLOMs,
        // Before another move, the window must hold only data from after the last one.
        stableWindowSeconds: Math.max(30, window),
        panicWindowSeconds: window,
      };
      const url = p.prometheusURL || options.defaultPrometheusURL;
      source = `${url} over ${window}s windows`;
      if (!url) {
        unavailable =
          'no Prometheus URL: set spec.autoscaling.parallelism.prometheusURL on the Hal9Cluster or the Neuron, or start the operator with --prometheus-url';
      } else {
        try {
          const c = await collect(
            promFor(url),
            { namespace, neuron: name, cluster: t.cluster.metadata?.name ?? t.spec.cluster },
            window,
          );
          observation = c.observation;
          if (!observation)
            noData = `Prometheus returned no data for ${c.missing.join(', ') || 'the neuron'} over the last ${window}s (no traffic, or its pods are not scraped); holding ${mem.state.current}`;
        } catch (err) {
          unavailable = err instanceof Error ? err.message : String(err);
        }
      }
    }
    // Decided even without metrics: new bounds still move the value into them.
    const d = decide(mem.state, observation, bounds, now);
    const counted: DecisionReason | 'MetricsUnavailable' =
      d.reason === 'NoData' && unavailable ? 'MetricsUnavailable' : d.reason;
    deps.observer?.decided(counted);
    if (d.changed) {
      const from = mem.state.current;
      mem.state = advance(mem.state, d, now);
      mem.lastDecision = {
        value: d.value,
        reason: d.reason,
        time: rfc3339(now),
        message: d.message.slice(0, 1024),
      };
      mem.pending = true;
      deps.events.record(
        t.neuron,
        'Normal',
        d.reason,
        `Set max_concurrent_signals from ${from} to ${d.value}: ${d.message}`,
      );
      logger.info(
        { neuron: t.key, from, to: d.value, reason: d.reason, detail: d.message },
        'Tuned Neuron parallelism',
      );
    }
    deps.observer?.parallelism(namespace, name, mem.state.current);
    const condition: ConditionInput = unavailable
      ? { status: 'False', reason: ParallelismReason.MetricsUnavailable, message: unavailable }
      : d.reason === 'NoData'
        ? { status: 'False', reason: ParallelismReason.NoData, message: noData ?? 'no data' }
        : {
            status: 'True',
            reason: ParallelismReason.MetricsAvailable,
            message: `Tuned from ${source} within [${bounds.min}, ${bounds.max}], caller-visible p95 SLO ${bounds.sloMs} ms`,
          };
    return condition;
  };

  /** Replicas for one Neuron (operator mode): decide, write the scale subresource, say why. */
  const decideScale = async (
    t: Target,
    mem: Memory,
    view: PodView | undefined,
    prediction: Prediction | undefined,
    now: number,
  ): Promise<{ status: AutoscalingStatus; condition: ConditionInput }> => {
    const a = t.spec.autoscaling;
    const namespace = t.neuron.metadata?.namespace ?? '';
    const name = t.neuron.metadata?.name ?? '';
    const min = a.minReplicas;
    const max = Math.max(a.minReplicas, a.maxReplicas);
    const live = t.neuron.spec?.replicas ?? 1;
    // Another writer changed spec.replicas (kubectl scale, a GitOps sync): in operator mode the
    // operator owns it, so it is set back, and said so. The informer may still show the value from
    // before the operator's own last write for a moment: that one value, right after a write, is
    // not another writer.
    let overridden: number | undefined;
    const lagging = live === mem.before && now - mem.writtenAt < 10_000;
    if (mem.written !== undefined && live !== mem.written && !lagging) overridden = live;
    const base = mem.written ?? live;
    mem.replicas ??= { current: base, panicUntil: 0, recent: [] };
    mem.replicas = { ...mem.replicas, current: base };
    const bounds: ReplicaBounds = {
      min,
      max,
      targetPerPod: a.targetConcurrencyPerPod,
      targetUtilization: a.targetUtilizationPercentage / 100,
      panicThreshold: a.panicThresholdPercentage / 100,
      stableWindowMs: a.stableWindowSeconds * 1000,
      scaleDownDelayMs: a.scaleDownDelaySeconds * 1000,
      // Two panic windows: the pods it asked for are ready and the Neuron's own panic window has
      // the load that arrived (replicas.ts).
      prescaleHoldMs: Math.min(a.stableWindowSeconds, 2 * a.panicWindowSeconds) * 1000,
    };
    let stable: number | undefined;
    let panic: number | undefined;
    let demand: number | undefined;
    let ready: number;
    let throttled = false;
    let condition: ConditionInput;
    if (t.fromPods) {
      ready = view?.ready ?? 0;
      stable = scaled(view?.stable, view?.silent ?? 0);
      panic = scaled(view?.panic, view?.silent ?? 0);
      demand = demandOf(view?.panic, view?.silent ?? 0);
      throttled = (view?.panic?.throttledRate ?? 0) > 0;
      condition = podCondition(view, 'the first reports', `${base} replicas`) ?? {
        status: 'True',
        reason: ReplicasReason.MetricsAvailable,
        message: `Replicas from the pods' load reports: concurrency ÷ per-pod target over ${a.stableWindowSeconds}s (panic ${a.panicWindowSeconds}s) within [${min}, ${max}]`,
      };
    } else {
      ready = t.neuron.status?.readyReplicas ?? 0;
      const url = a.parallelism.prometheusURL || options.defaultPrometheusURL;
      const scrape = durationSeconds(t.spec.monitoring.scrapeInterval) ?? 15;
      const window = options.windowSeconds ?? 4 * scrape;
      condition = {
        status: 'False',
        reason: ReplicasReason.MetricsUnavailable,
        message: `no Prometheus URL: set spec.autoscaling.parallelism.prometheusURL or start the operator with --prometheus-url; holding ${base} replicas`,
      };
      if (url) {
        try {
          const c = await collect(
            promFor(url),
            { namespace, neuron: name, cluster: t.cluster.metadata?.name ?? t.spec.cluster },
            window,
          );
          stable = c.concurrency;
          panic = c.concurrency;
          throttled = (c.observation?.throttledPerSecond ?? 0) > 0;
          condition =
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
                };
        } catch (err) {
          condition = {
            status: 'False',
            reason: ReplicasReason.MetricsUnavailable,
            message: `${err instanceof Error ? err.message : String(err)}; holding ${base} replicas`,
          };
        }
      }
    }
    deps.observer?.concurrency?.(namespace, name, 'stable', stable);
    deps.observer?.concurrency?.(namespace, name, 'panic', panic);
    deps.observer?.predicted?.(namespace, name, prediction?.concurrency);
    const slots = t.tuneParallelism ? mem.state.current : t.spec.performance.maxConcurrentSignals;
    const d: ReplicaDecision = decideReplicas(
      mem.replicas,
      {
        readyPods: ready,
        stableConcurrency: stable,
        panicConcurrency: panic,
        panicDemand: demand,
        slotsPerPod: slots,
        throttled,
        predictedConcurrency: prediction?.concurrency,
        predictedDemand: prediction?.sustained,
      },
      bounds,
      now,
    );
    deps.observer?.replicaDecided?.(d.reason);
    mem.replicas = d.state;
    const reason = overridden !== undefined ? 'ManualScaleOverridden' : d.reason;
    const target = d.value;
    if (d.changed || overridden !== undefined || mem.written === undefined || live !== target) {
      if (live !== target && !(lagging && target === mem.written)) {
        const upstream = prediction?.from
          .map(
            (f) =>
              `${f.source} ${dec(f.intake)}/s × ${dec(f.fanOut)}${f.backlog > 0 ? ` (+ ${dec(f.backlog)} queued)` : ''}`,
          )
          .join(', ');
        const message = `${d.message}${upstream ? `; upstream ${upstream}` : ''}`.slice(0, 1024);
        try {
          await deps.scaleNeuron?.(namespace, name, target);
          mem.before = live;
          mem.written = target;
          mem.writtenAt = now;
          if (overridden !== undefined) {
            deps.events.record(
              t.neuron,
              'Warning',
              'ManualScaleOverridden',
              `spec.replicas was set to ${overridden} by another writer; in autoscaling mode operator the operator owns it and set it to ${target}. Change autoscaling.minReplicas/maxReplicas, or turn autoscaling off to scale by hand`,
            );
          } else {
            deps.events.record(
              t.neuron,
              'Normal',
              d.reason,
              `Scaled from ${live} to ${target} replicas: ${message}`,
            );
          }
          logger.info({ neuron: t.key, from: live, to: target, reason, detail: message }, 'Scaled Neuron');
          mem.replicaDecision = {
            value: target,
            reason,
            time: rfc3339(now),
            message,
            ...(stable === undefined ? {} : { observedConcurrency: dec(stable) }),
            ...(prediction ? { predictedConcurrency: dec(prediction.concurrency) } : {}),
            perPodTarget: dec(d.perPodTarget),
            panic: d.panic,
          };
        } catch (err) {
          logger.warn(
            { neuron: t.key, err: err instanceof Error ? err.message : String(err) },
            'Failed to scale Neuron',
          );
        }
      } else if (live === target) {
        mem.written = target;
      }
    }
    deps.observer?.replicas?.(namespace, name, mem.written ?? live);
    for (const [target, v] of Object.entries(mem.fanOut)) deps.observer?.fanOut?.(namespace, name, target, v);
    // The fan-out in status is a snapshot taken at decisions (and when an edge first shows), so a
    // number that wobbles every pass does not write status every pass; the metric is live.
    const edges = Object.keys(mem.fanOut).sort().join(',');
    if (
      mem.replicaDecision?.time === rfc3339(now) ||
      edges !== Object.keys(mem.fanOutStatus).sort().join(',')
    ) {
      mem.fanOutStatus = Object.fromEntries(
        Object.entries(mem.fanOut)
          .sort(([x], [y]) => (x < y ? -1 : 1))
          .slice(0, 64)
          .map(([k, v]) => [k, dec(v)]),
      );
    }
    return {
      status: {
        desiredReplicas: mem.written ?? live,
        ...(mem.replicaDecision ? { lastDecision: mem.replicaDecision } : {}),
        ...(Object.keys(mem.fanOutStatus).length > 0 ? { fanOut: { ...mem.fanOutStatus } } : {}),
      },
      condition,
    };
  };

  /** Puts the current value on every Ready pod of each Neuron that does not have it yet. */
  const deliver = async (list: readonly Target[], pods: Map<string, RuntimePod[]>) => {
    await pool(list, concurrency, async (t) => {
      const mem = memory.get(t.key);
      if (!mem || !t.tuneParallelism) return;
      const running = (pods.get(t.key) ?? []).filter((p) => urlAllowed(p.url, options.podCidrs));
      const value = mem.state.current;
      let token: string | undefined;
      try {
        token = await tokenFor(t);
      } catch (err) {
        // Without the token the pods would refuse the value: retry on the next pass.
        mem.pending = true;
        logger.warn(
          { neuron: t.key, err: err instanceof Error ? err.message : String(err) },
          'Cannot read the runtime admin token',
        );
        return;
      }
      let failed = 0;
      for (const uid of mem.delivered.keys()) {
        if (!running.some((p) => p.uid === uid)) mem.delivered.delete(uid);
      }
      await Promise.all(
        running
          .filter((pod) => mem.delivered.get(pod.uid) !== value)
          .map(async (pod) => {
            try {
              const applied = await deps.setPodLimit(pod.url, value, token);
              mem.delivered.set(pod.uid, applied);
              deps.observer?.delivered(true);
              logger.debug({ neuron: t.key, pod: pod.name, value: applied }, 'Set pod parallelism');
            } catch (err) {
              failed++;
              deps.observer?.delivered(false);
              logger.warn(
                { neuron: t.key, pod: pod.name, err: err instanceof Error ? err.message : String(err) },
                'Failed to set pod parallelism',
              );
            }
          }),
      );
      mem.pending = failed > 0;
    });
  };

  const tick = async () => {
    const now = clock.now();
    ticks++;
    const { tune: list, retire } = targets();
    const keys = new Set(list.map((t) => t.key));
    for (const k of memory.keys()) {
      if (keys.has(k)) continue;
      memory.delete(k);
      const [namespace = '', name = ''] = k.split('/');
      deps.observer?.forget?.(namespace, name);
    }
    // Autoscaling turned off: an empty apply under the tuner's manager removes the fields only it
    // owns (lastDecision, autoscaling, the conditions); `current` stays with the reconciler.
    await pool(retire, concurrency, async (n) => {
      const { namespace = '', name = '' } = n.metadata ?? {};
      try {
        await deps.writeStatus(namespace, name, {});
        logger.info({ neuron: keyOf(n) }, 'Cleared Neuron autoscaling status');
      } catch (err) {
        logger.warn(
          { neuron: keyOf(n), err: err instanceof Error ? err.message : String(err) },
          'Failed to clear Neuron autoscaling status',
        );
      }
    });
    if (list.length === 0) return;
    for (const t of list) remember(t);

    // Gather: one pod list per tick, then every pod-sourced Neuron's pods in parallel.
    let pods = new Map<string, RuntimePod[]>();
    let listed = false;
    const needPods =
      list.some((t) => t.fromPods) ||
      list.some((t) => memory.get(t.key)?.pending) ||
      ticks % resyncTicks === 0;
    if (needPods) {
      try {
        pods = readyPodsByNeuron(await deps.listPods(), deps.podURL);
        listed = true;
      } catch (err) {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'Failed to list runtime pods');
      }
    }
    const views = listed ? await readPods(list, pods) : new Map<string, PodView>();

    const flows = new Map<string, NeuronFlow>();
    for (const t of list) {
      const v = views.get(t.key);
      const mem = memory.get(t.key)!;
      if (v?.stable?.meanLatencySeconds !== undefined) mem.latency = v.stable.meanLatencySeconds;
      const namespace = t.neuron.metadata?.namespace ?? '';
      if (v?.stable && Object.keys(v.stable.fanOut).length > 0) mem.fanOut = { ...v.stable.fanOut };
      const fan = mem.fanOut;
      flows.set(t.key, {
        intake: intakeOf(v?.panic, v?.latest, v?.silent ?? 0),
        backlog: overAllPods(v?.latest, v?.silent ?? 0, (w) => w.queue),
        fanOut: Object.fromEntries(Object.entries(fan).map(([target, f]) => [`${namespace}/${target}`, f])),
        latencySeconds: mem.latency,
      });
    }
    const predictions = predict(flows);
    // Decide: parallelism first (replicas size pods by the limit just decided), both with the
    // graph's predictions.
    const conditions = new Map<string, ConditionInput>();
    await pool(list, concurrency, async (t) => {
      const mem = memory.get(t.key)!;
      if (t.tuneParallelism)
        conditions.set(t.key, await decideParallelism(t, mem, views.get(t.key), predictions.get(t.key), now));
    });
    const scales = new Map<string, { status: AutoscalingStatus; condition: ConditionInput }>();
    await pool(list, concurrency, async (t) => {
      if (!t.scaleReplicas) return;
      scales.set(
        t.key,
        await decideScale(t, memory.get(t.key)!, views.get(t.key), predictions.get(t.key), now),
      );
    });

    // Apply: running pods first, then status (the reconciler renders new pods from it).
    if (listed && list.some((t) => memory.get(t.key)?.pending || ticks % resyncTicks === 0)) {
      await deliver(
        list.filter((t) => memory.get(t.key)?.pending || ticks % resyncTicks === 0),
        pods,
      );
    }
    await pool(list, concurrency, async (t) => {
      const mem = memory.get(t.key)!;
      const scale = scales.get(t.key);
      const cond = conditions.get(t.key);
      const status: TunerStatus = computeTunerStatus({
        generation: t.neuron.metadata?.generation ?? 0,
        existing: t.neuron.status,
        ...(t.tuneParallelism ? { current: mem.state.current, lastDecision: mem.lastDecision } : {}),
        ...(cond ? { condition: cond } : {}),
        ...(scale ? { autoscaling: scale.status, replicasCondition: scale.condition } : {}),
        now: rfc3339(now),
      });
      // A part turned off (replicas in hpa mode, parallelism tuning off) is released by applying
      // the rest without it: the live status still carrying it is not up to date.
      const live = t.neuron.status as (Neuron['status'] & { autoscaling?: unknown }) | undefined;
      const released =
        (!status.autoscaling &&
          (live?.autoscaling !== undefined || live?.conditions?.some((c) => c.type === ReplicasCondition))) ||
        (!status.parallelism &&
          (live?.parallelism?.lastDecision !== undefined ||
            live?.conditions?.some((c) => c.type === ParallelismCondition)));
      if (!released && statusUpToDate(status, t.neuron.status)) return;
      const { namespace = '', name = '' } = t.neuron.metadata ?? {};
      try {
        await deps.writeStatus(namespace, name, status);
      } catch (err) {
        logger.warn(
          { neuron: t.key, err: err instanceof Error ? err.message : String(err) },
          'Failed to update Neuron autoscaling status',
        );
      }
    });
  };

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((err: unknown) =>
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'Autoscaling pass failed'),
      )
      .finally(() => {
        running = undefined;
        if (!stopped) cancel = clock.setTimer(loop, options.intervalMs);
      });
  };
  cancel = clock.setTimer(loop, options.intervalMs);

  return {
    tick,
    async stop() {
      stopped = true;
      cancel?.();
      await running;
    },
  };
}

/** Runs `fn` over `items`, at most `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
