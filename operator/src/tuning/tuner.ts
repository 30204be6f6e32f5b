import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';
import { keyOf, type ObjectReader } from '../controller/object-reader.ts';
import type { EventRecorder } from '../events/recorder.ts';
import type { Logger } from '../logger.ts';
import { startingParallelism } from '../render/render-neuron.ts';
import { effectiveSpec } from '../spec/effective-spec.ts';
import {
  computeTunerStatus,
  type LastDecision,
  ParallelismCondition,
  ParallelismReason,
  type TunerStatus,
} from '../status/parallelism-status.ts';
import { statusUpToDate } from '../status/up-to-date.ts';
import { advance, type DecisionReason, decide, type TunerState, type TuningBounds } from './decide.ts';
import { collect, type PrometheusClient } from './prometheus.ts';
import { type PodLister, type PodURL, readyPodsByNeuron } from './runtime-pods.ts';
import type { TunerStatusWriter } from './status-writer.ts';

// The parallelism tuner: every interval, for each Neuron whose effective spec enables parallelism
// tuning, observe (Prometheus) → decide (pure) → deliver the value to the running pods live →
// write the tuner's status part, which the next render puts into the ConfigMap for new pods.
// Runs only on the leader. State per Neuron lives in memory, seeded from status.lastDecision.

export interface TunerOptions {
  readonly intervalMs: number;
  /** Observation window in seconds; default four scrape intervals of the Neuron's monitoring spec. */
  readonly windowSeconds?: number;
  /** Prometheus for Neurons whose spec names none. */
  readonly defaultPrometheusURL?: string;
  /** Every this many ticks the pods are listed even without a change, to reach pods that missed one. */
  readonly resyncTicks?: number;
  /** Neurons observed at once. */
  readonly concurrency?: number;
}

export interface TunerObserver {
  decided(reason: string): void;
  parallelism(namespace: string, neuron: string, value: number): void;
  delivered(ok: boolean): void;
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
  /** A pod may not have the current value yet: list pods next tick. */
  pending: boolean;
}

interface Target {
  readonly key: string;
  readonly neuron: Neuron;
  readonly cluster: Hal9Cluster;
  readonly spec: ReturnType<typeof effectiveSpec>;
}

export interface RunningTuner {
  /** One pass over every tuned Neuron (the loop calls it; tests may too). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const directionOf = (reason: string | undefined): TunerState['lastDirection'] =>
  reason === 'Saturated'
    ? 'up'
    : reason === 'LatencyAboveSLO' || reason === 'UpstreamThrottling'
      ? 'down'
      : 'none';

/** Scrape interval like "15s", "1m", "500ms" in seconds; undefined when it is not one. */
export function durationSeconds(s: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s ?? '');
  if (!m) return undefined;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

export function startTuner(deps: TunerDeps): RunningTuner {
  const { clock, logger, options } = deps;
  const memory = new Map<string, Memory>();
  const clients = new Map<string, PrometheusClient>();
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

  /** Neurons to tune, and Neurons whose tuning was turned off but still carry the tuner's status. */
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
          enabled = spec.autoscaling.parallelism.enabled;
          if (enabled) tune.push({ key: keyOf(neuron), neuron, cluster, spec });
        } catch {
          // A spec render cannot use is reported by the reconciler; nothing to tune.
        }
      }
      const s = neuron.status;
      if (
        !enabled &&
        (s?.parallelism?.lastDecision || s?.conditions?.some((c) => c.type === ParallelismCondition))
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
    const last = p?.lastDecision;
    const lastDecision =
      last?.value !== undefined && last.reason && last.time
        ? { value: last.value, reason: last.reason, time: last.time }
        : undefined;
    const lastChangeAt = lastDecision ? Date.parse(lastDecision.time) : Number.NaN;
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
    };
    memory.set(t.key, m);
    return m;
  };

  /** Observe and decide for one Neuron; returns its status part. */
  const decideFor = async (t: Target, mem: Memory, now: number): Promise<TunerStatus> => {
    const p = t.spec.autoscaling.parallelism;
    const namespace = t.neuron.metadata?.namespace ?? '';
    const name = t.neuron.metadata?.name ?? '';
    const scrape = durationSeconds(t.spec.monitoring.scrapeInterval) ?? 15;
    const window = options.windowSeconds ?? 4 * scrape;
    const bounds: TuningBounds = {
      min: p.min,
      max: Math.max(p.min, p.max),
      sloMs: p.latencySLOMs,
      // Before another move, the window must hold only data from after the last one.
      stableWindowSeconds: Math.max(30, window),
      panicWindowSeconds: window,
    };
    const url = p.prometheusURL || options.defaultPrometheusURL;
    let unavailable: string | undefined;
    let missing: readonly string[] = [];
    let observation: Parameters<typeof decide>[1];
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
        missing = c.missing;
      } catch (err) {
        unavailable = err instanceof Error ? err.message : String(err);
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
      mem.lastDecision = { value: d.value, reason: d.reason, time: rfc3339(now) };
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
    } else {
      logger.debug(
        { neuron: t.key, value: d.value, reason: counted, detail: d.message },
        'Held Neuron parallelism',
      );
    }
    deps.observer?.parallelism(namespace, name, mem.state.current);

    const condition = unavailable
      ? { status: 'False' as const, reason: ParallelismReason.MetricsUnavailable, message: unavailable }
      : d.reason === 'NoData'
        ? {
            status: 'False' as const,
            reason: ParallelismReason.NoData,
            message: `Prometheus returned no data for ${missing.join(', ') || 'the neuron'} over the last ${window}s (no traffic, or its pods are not scraped); holding ${mem.state.current}`,
          }
        : {
            status: 'True' as const,
            reason: ParallelismReason.MetricsAvailable,
            message: `Tuned from ${url} over ${window}s windows within [${bounds.min}, ${bounds.max}], p95 SLO ${bounds.sloMs} ms`,
          };
    return computeTunerStatus({
      generation: t.neuron.metadata?.generation ?? 0,
      existing: t.neuron.status,
      current: mem.state.current,
      lastDecision: mem.lastDecision,
      condition,
      now: rfc3339(now),
    });
  };

  /** Puts the current value on every Ready pod of each Neuron that does not have it yet. */
  const deliver = async (list: readonly Target[]) => {
    const pods = readyPodsByNeuron(await deps.listPods(), deps.podURL);
    await pool(list, concurrency, async (t) => {
      const mem = memory.get(t.key);
      if (!mem) return;
      const running = pods.get(t.key) ?? [];
      const value = mem.state.current;
      let token: string | undefined;
      try {
        token = await deps.authToken?.(t.neuron, t.cluster);
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
    for (const k of memory.keys()) if (!keys.has(k)) memory.delete(k);
    // Tuning turned off: an empty apply under the tuner's manager removes the fields only it owns
    // (lastDecision, the condition); `current` stays with the reconciler, which renders the spec's value.
    await pool(retire, concurrency, async (n) => {
      const { namespace = '', name = '' } = n.metadata ?? {};
      try {
        await deps.writeStatus(namespace, name, {});
        logger.info({ neuron: keyOf(n) }, 'Cleared Neuron parallelism tuning status');
      } catch (err) {
        logger.warn(
          { neuron: keyOf(n), err: err instanceof Error ? err.message : String(err) },
          'Failed to clear Neuron parallelism tuning status',
        );
      }
    });
    if (list.length === 0) return;

    const statuses = new Map<string, TunerStatus>();
    await pool(list, concurrency, async (t) => {
      statuses.set(t.key, await decideFor(t, remember(t), now));
    });

    const pending = list.some((t) => memory.get(t.key)?.pending);
    if (pending || ticks % resyncTicks === 0) {
      try {
        await deliver(list);
      } catch (err) {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'Failed to list runtime pods');
      }
    }

    // Status last: running pods first, then the ConfigMap (through the reconciler) for new ones.
    await pool(list, concurrency, async (t) => {
      const status = statuses.get(t.key);
      if (!status || statusUpToDate(status, t.neuron.status)) return;
      const { namespace = '', name = '' } = t.neuron.metadata ?? {};
      try {
        await deps.writeStatus(namespace, name, status);
      } catch (err) {
        logger.warn(
          { neuron: t.key, err: err instanceof Error ? err.message : String(err) },
          'Failed to update Neuron parallelism status',
        );
      }
    });
  };

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((err: unknown) =>
        logger.error(
          { err: err instanceof Error ? err.message : String(err) },
          'Parallelism tuning pass failed',
        ),
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
