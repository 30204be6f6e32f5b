import { keyOf } from '../controller/object-reader.ts';
import { errorMessage } from '../errors.ts';
import type { ConditionInput } from '../status/parallelism-status.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import { fanOutSnapshot } from './fan-out-snapshot.ts';
import { neuronFlow } from './neuron-flow.ts';
import { holdsReplicas, type NeuronMemory, releaseReplicas, seedMemory } from './neuron-memory.ts';
import {
  decideParallelism,
  podParallelismInput,
  prometheusParallelismInput,
} from './parallelism-decision.ts';
import { urlAllowed } from './pod-cidrs.ts';
import { createPodLoadReader } from './pod-load-reader.ts';
import type { PodView } from './pod-view.ts';
import { pool } from './pool.ts';
import { type NeuronFlow, type Prediction, predict } from './prescale.ts';
import { collect, type PrometheusClient } from './prometheus.ts';
import { type PrometheusRead, type PrometheusSource, prometheusSource } from './prometheus-source.ts';
import { podReplicaSignals, prometheusReplicaSignals } from './replica-signals.ts';
import { type RuntimePod, readyPodsByNeuron } from './runtime-pods.ts';
import { decideScale, replicaOwnership } from './scale-decision.ts';
import type { TunerDeps } from './tuner-deps.ts';
import { type ScaleStatus, statusWriteNeeded, tunerStatusOf } from './tuner-status.ts';
import { type TuningTarget, tuningTargets } from './tuning-targets.ts';

// The autoscaler loop (a thin shell around pure laws), on the leader only. Every interval:
//  1. gather: list the runtime pods once; read every Ready pod's load report (GET /v1/admin/load)
//     for Neurons whose metricsSource is pods, or query Prometheus for the others;
//  2. decide: windows over the reports (load-windows.ts) → parallelism (decide.ts) → predicted
//     intake from the graph (prescale.ts) → replicas (replicas.ts);
//  3. apply: the limit to running pods (PUT /v1/admin/performance), the replica count to the
//     Neuron's scale subresource, and the decisions to status (the next render carries them into
//     the ConfigMap and the Deployment).
// State per Neuron lives in memory (neuron-memory.ts), seeded from its status, so a new leader
// keeps the windows. This file holds the timers, reads and writes (pod loads: pod-load-reader.ts);
// each decision is a pure function in its own file.

export interface RunningTuner {
  /** One pass over every autoscaled Neuron (the loop calls it; tests may too). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** One Neuron's decision inputs this pass. */
interface Step {
  readonly t: TuningTarget;
  readonly mem: NeuronMemory;
  readonly view: PodView | undefined;
  readonly prediction: Prediction | undefined;
  readonly now: number;
}

export function startTuner(deps: TunerDeps): RunningTuner {
  const { clock, logger, options, observer } = deps;
  const memory = new Map<string, NeuronMemory>();
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

  /** One read of a Neuron's Prometheus; undefined when no URL is set. */
  const readPrometheus = async (s: PrometheusSource): Promise<PrometheusRead | undefined> => {
    if (!s.url) return undefined;
    try {
      return { collected: await collect(promFor(s.url), s.series, s.window) };
    } catch (err) {
      return { error: errorMessage(err) };
    }
  };

  const tokenFor = async (t: TuningTarget): Promise<string | undefined> =>
    deps.authToken?.(t.neuron, t.cluster);

  const readPods = createPodLoadReader({ ...deps, tokenFor });

  /** Parallelism for one Neuron: decide, remember, say why; returns its condition. */
  const tuneParallelism = async ({ t, mem, view, prediction, now }: Step) => {
    const source = t.fromPods ? undefined : prometheusSource(t, options);
    const input = source
      ? prometheusParallelismInput(t, source, await readPrometheus(source), mem.state.current)
      : podParallelismInput(t, view, prediction, mem.state.current, mem.written);
    const { decision: d, counted, next, condition } = decideParallelism(mem.state, input, now);
    observer?.decided(counted);
    if (next) {
      const from = mem.state.current;
      mem.state = next.state;
      mem.lastDecision = next.lastDecision;
      mem.pending = true;
      const message = `Set max_concurrent_signals from ${from} to ${d.value}: ${d.message}`;
      deps.events.record(t.neuron, 'Normal', d.reason, message);
      const detail = { neuron: t.key, from, to: d.value, reason: d.reason, detail: d.message };
      logger.info(detail, 'Tuned Neuron parallelism');
    }
    observer?.parallelism(
      t.neuron.metadata?.namespace ?? '',
      t.neuron.metadata?.name ?? '',
      mem.state.current,
    );
    return condition;
  };

  /** Replicas for one Neuron (operator mode): decide, write the scale subresource, say why. */
  const scale = async ({ t, mem, view, prediction, now }: Step): Promise<ScaleStatus> => {
    const namespace = t.neuron.metadata?.namespace ?? '';
    const name = t.neuron.metadata?.name ?? '';
    const owner = replicaOwnership(t, mem, now);
    const source = t.fromPods ? undefined : prometheusSource(t, options);
    const signals = source
      ? prometheusReplicaSignals(t, source, await readPrometheus(source), owner.base)
      : podReplicaSignals(t, view, owner.base);
    observer?.concurrency?.(namespace, name, 'stable', signals.stable);
    observer?.concurrency?.(namespace, name, 'panic', signals.panic);
    observer?.predicted?.(namespace, name, prediction?.concurrency);
    const slotsPerPod = t.tuneParallelism ? mem.state.current : t.spec.performance.maxConcurrentSignals;
    const o = decideScale({ target: t, mem, owner, signals, prediction, slotsPerPod, now });
    observer?.replicaDecided?.(o.decision.reason);
    mem.replicas = o.replicas;
    const w = o.write;
    if (w) {
      try {
        await deps.scaleNeuron?.(namespace, name, w.target);
        mem.before = owner.live;
        mem.written = w.target;
        mem.writtenAt = now;
        deps.events.record(t.neuron, w.event.type, w.event.reason, w.event.message);
        const detail = { neuron: t.key, from: owner.live, to: w.target, reason: o.reason, detail: w.message };
        logger.info(detail, 'Scaled Neuron');
        mem.replicaDecision = w.status;
      } catch (err) {
        logger.warn({ neuron: t.key, err: errorMessage(err) }, 'Failed to scale Neuron');
      }
    } else if (o.settled) {
      mem.written = o.decision.value;
    }
    observer?.replicas?.(namespace, name, mem.written ?? owner.live);
    for (const [target, v] of Object.entries(mem.fanOut)) observer?.fanOut?.(namespace, name, target, v);
    const decidedNow = mem.replicaDecision?.time === rfc3339(now);
    mem.fanOutStatus = fanOutSnapshot(mem.fanOut, mem.fanOutStatus, decidedNow);
    return {
      status: {
        desiredReplicas: mem.written ?? owner.live,
        ...(mem.replicaDecision ? { lastDecision: mem.replicaDecision } : {}),
        ...(Object.keys(mem.fanOutStatus).length > 0 ? { fanOut: { ...mem.fanOutStatus } } : {}),
      },
      condition: signals.condition,
    };
  };

  /** PUTs in flight, by pod uid: a pod gets one at a time. */
  const inFlight = new Map<string, Promise<void>>();

  /**
   * Puts the current value on every Ready pod of each Neuron that does not have it yet. The PUTs
   * run beside the pass, not within it: one pod that does not answer (its deadline is 3 s, longer
   * than an interval) held every Neuron's status, scale writes and next pass until it gave up, at
   * every pass while it kept failing. A Neuron stays pending until a pass finds every pod with the
   * value and nothing in flight.
   */
  const deliver = async (list: readonly TuningTarget[], pods: Map<string, RuntimePod[]>) => {
    await pool(list, concurrency, async (t) => {
      const mem = memory.get(t.key);
      if (!mem || !t.tuneParallelism) return;
      const running = (pods.get(t.key) ?? []).filter((p) => urlAllowed(p.url, options.podCidrs));
      const value = mem.state.current;
      let token: string | undefined;
      try {
        token = await tokenFor(t);
      } catch (err) {
        // Without the token the pods would refuse the value: retry on the next pass. Logged when
        // the failure starts or changes, not at every pass.
        mem.pending = true;
        const failure = errorMessage(err);
        if (mem.tokenFailure !== failure) {
          mem.tokenFailure = failure;
          logger.warn({ neuron: t.key, err: failure }, 'Cannot read the runtime admin token');
        }
        return;
      }
      if (mem.tokenFailure !== undefined) {
        mem.tokenFailure = undefined;
        logger.info({ neuron: t.key }, 'Read the runtime admin token again');
      }
      for (const uid of mem.delivered.keys())
        if (!running.some((p) => p.uid === uid)) mem.delivered.delete(uid);
      let unsettled = 0;
      for (const pod of running) {
        if (mem.delivered.get(pod.uid) === value) continue;
        unsettled++;
        if (inFlight.has(pod.uid)) continue;
        // Started after it is registered, so even a PUT that fails at once is seen in flight until done.
        const put = Promise.resolve().then(async () => {
          try {
            const applied = await deps.setPodLimit(pod.url, value, token);
            mem.delivered.set(pod.uid, applied);
            observer?.delivered(true);
            logger.debug({ neuron: t.key, pod: pod.name, value: applied }, 'Set pod parallelism');
          } catch (err) {
            observer?.delivered(false);
            const detail = { neuron: t.key, pod: pod.name, err: errorMessage(err) };
            logger.warn(detail, 'Failed to set pod parallelism');
          } finally {
            inFlight.delete(pod.uid);
          }
        });
        inFlight.set(pod.uid, put);
      }
      mem.pending = unsettled > 0;
    });
  };

  const tick = async () => {
    const now = clock.now();
    ticks++;
    const { tune: list, retire } = tuningTargets(deps.neurons.list(), deps.clusters);
    const keys = new Set(list.map((t) => t.key));
    for (const [k, mem] of memory) {
      if (keys.has(k)) continue;
      memory.delete(k);
      const [namespace = '', name = ''] = k.split('/');
      observer?.forget?.(namespace, name, Object.keys(mem.fanOut));
    }
    // Autoscaling turned off: an empty apply under the tuner's manager removes the fields only it
    // owns (lastDecision, autoscaling, the conditions); `current` stays with the reconciler.
    await pool(retire, concurrency, async (n) => {
      const { namespace = '', name = '' } = n.metadata ?? {};
      const neuron = keyOf(n);
      try {
        await deps.writeStatus(namespace, name, {});
        logger.info({ neuron }, 'Cleared Neuron autoscaling status');
      } catch (err) {
        logger.warn({ neuron, err: errorMessage(err) }, 'Failed to clear Neuron autoscaling status');
      }
    });
    if (list.length === 0) return;
    for (const t of list) {
      if (memory.get(t.key)?.uid !== (t.neuron.metadata?.uid ?? '')) memory.set(t.key, seedMemory(t));
      const mem = memory.get(t.key)!;
      if (!t.scaleReplicas && holdsReplicas(mem)) {
        const targets = Object.keys(mem.fanOut);
        releaseReplicas(mem);
        observer?.replicasReleased?.(
          t.neuron.metadata?.namespace ?? '',
          t.neuron.metadata?.name ?? '',
          targets,
        );
      }
    }
    const memOf = (t: TuningTarget) => memory.get(t.key)!;
    const resync = ticks % resyncTicks === 0;

    // Gather: one pod list per tick, then every pod-sourced Neuron's pods in parallel.
    let pods = new Map<string, RuntimePod[]>();
    let listed = false;
    if (list.some((t) => t.fromPods) || list.some((t) => memOf(t).pending) || resync) {
      try {
        pods = readyPodsByNeuron(await deps.listPods(), deps.podURL);
        listed = true;
      } catch (err) {
        logger.warn({ err: errorMessage(err) }, 'Failed to list runtime pods');
      }
    }
    const views = listed ? await readPods(list, pods) : new Map<string, PodView>();

    const flows = new Map<string, NeuronFlow>();
    for (const t of list) {
      const v = views.get(t.key);
      const mem = memOf(t);
      if (v?.stable?.meanLatencySeconds !== undefined) mem.latency = v.stable.meanLatencySeconds;
      if (v?.stable && Object.keys(v.stable.fanOut).length > 0) mem.fanOut = { ...v.stable.fanOut };
      flows.set(t.key, neuronFlow(t.neuron.metadata?.namespace ?? '', v, mem.fanOut, mem.latency));
    }
    const predictions = predict(flows);
    const step = (t: TuningTarget): Step => {
      return { t, mem: memOf(t), view: views.get(t.key), prediction: predictions.get(t.key), now };
    };
    // Decide: parallelism first (replicas size pods by the limit just decided), both with the
    // graph's predictions.
    const conditions = new Map<string, ConditionInput>();
    await pool(list, concurrency, async (t) => {
      if (t.tuneParallelism) conditions.set(t.key, await tuneParallelism(step(t)));
    });
    const scales = new Map<string, ScaleStatus>();
    await pool(list, concurrency, async (t) => {
      if (t.scaleReplicas) scales.set(t.key, await scale(step(t)));
    });

    // Apply: start the PUTs to running pods, then status (the reconciler renders new pods from it).
    const due = list.filter((t) => memOf(t).pending || resync);
    if (listed && due.length > 0) await deliver(due, pods);
    await pool(list, concurrency, async (t) => {
      const parts = { condition: conditions.get(t.key), scale: scales.get(t.key) };
      const status = tunerStatusOf(t, memOf(t), parts, now);
      if (!statusWriteNeeded(status, t.neuron)) return;
      const { namespace = '', name = '' } = t.neuron.metadata ?? {};
      try {
        await deps.writeStatus(namespace, name, status);
      } catch (err) {
        logger.warn({ neuron: t.key, err: errorMessage(err) }, 'Failed to update Neuron autoscaling status');
      }
    });
  };

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'Autoscaling pass failed'))
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
      await Promise.all(inFlight.values());
    },
  };
}
