import type { Neuron } from '../api-types.ts';
import { errorMessage, OperatorError } from '../errors.ts';
import {
  type ConditionInput,
  ParallelismCondition,
  ParallelismReason,
  ReplicasCondition,
} from '../status/parallelism-status.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import { fanOutSnapshot } from './fan-out-snapshot.ts';
import { neuronFlow } from './neuron-flow.ts';
import {
  holdsReplicas,
  type NeuronMemory,
  releaseReplicas,
  reseedParallelism,
  seedMemory,
} from './neuron-memory.ts';
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
import { decideScale, heldCondition, replicaOwnership } from './scale-decision.ts';
import type { TunerDeps } from './tuner-deps.ts';
import { type ScaleStatus, statusWriteNeeded, tunerStatusOf } from './tuner-status.ts';
import { type RetiredTarget, type TuningTarget, tuningTargets } from './tuning-targets.ts';

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
  /** This pass's Prometheus reads (one per Neuron, shared by both decisions). */
  readonly read: (s: PrometheusSource) => Promise<PrometheusRead | undefined>;
}

export function startTuner(deps: TunerDeps): RunningTuner {
  const { clock, logger, options, observer } = deps;
  const memory = new Map<string, NeuronMemory>();
  const clients = new Map<string, PrometheusClient>();
  const resyncTicks = options.resyncTicks ?? 6;
  const concurrency = options.concurrency ?? 4;
  let ticks = 0;
  // When this loop started (on becoming leader): its pod histories start empty then.
  const startedAt = clock.now();
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

  /**
   * One read of a Neuron's Prometheus; undefined when no URL is set. A server that could not be
   * reached (no HTTP answer in time) goes into `down` by its origin, for the rest of the pass: the
   * URLs are custom resources', and many paths on one server that does not answer would each cost
   * the read's whole timeout.
   */
  const readPrometheus = async (
    s: PrometheusSource,
    down: Map<string, string>,
  ): Promise<PrometheusRead | undefined> => {
    if (!s.url) return undefined;
    try {
      return { collected: await collect(promFor(s.url), s.series, s.window) };
    } catch (err) {
      const error = errorMessage(err);
      if (err instanceof OperatorError && err.status === undefined) down.set(originOf(s.url), error);
      return { error };
    }
  };

  const tokenFor = async (t: TuningTarget): Promise<string | undefined> =>
    deps.authToken?.(t.neuron, t.cluster);

  const readPods = createPodLoadReader({ ...deps, tokenFor });

  /** Parallelism for one Neuron: decide, remember, say why; returns its condition. */
  const tuneParallelism = async ({ t, mem, view, prediction, now, read }: Step) => {
    const source = t.fromPods ? undefined : prometheusSource(t, options);
    const input = {
      ...(source
        ? prometheusParallelismInput(t, source, await read(source), mem.state.current)
        : podParallelismInput(t, view, prediction, mem.state.current, mem.written)),
      undelivered: undelivered(mem),
    };
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
    return condition;
  };

  /** Replicas for one Neuron (operator mode): decide, write the scale subresource, say why. */
  const scale = async ({ t, mem, view, prediction, now, read }: Step): Promise<ScaleStatus> => {
    const namespace = t.neuron.metadata?.namespace ?? '';
    const name = t.neuron.metadata?.name ?? '';
    const owner = replicaOwnership(t, mem, now);
    const source = t.fromPods ? undefined : prometheusSource(t, options);
    const signals = source
      ? prometheusReplicaSignals(t, source, await read(source), owner.base)
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
      condition: heldCondition(signals.condition, o.decision, owner.base),
    };
  };

  /** PUTs in flight, by pod instance: a pod gets one at a time. */
  const inFlight = new Map<string, Promise<boolean>>();

  /**
   * One PUT of `value` to one pod, registered in flight before it starts (so even one that fails at
   * once is seen until done). A failure is kept in `refused` and logged when it starts or changes,
   * not at every pass; the pod taking a value again is logged once.
   */
  const put = (
    key: string,
    mem: Pick<NeuronMemory, 'delivered' | 'refused'>,
    pod: RuntimePod,
    value: number,
    token: string | undefined,
  ) => {
    const p = Promise.resolve().then(async () => {
      try {
        const applied = await deps.setPodLimit(pod.url, value, token);
        mem.delivered.set(pod.instance, applied);
        observer?.delivered(true);
        if (mem.refused.delete(pod.instance))
          logger.info({ neuron: key, pod: pod.name, value: applied }, 'Pod took the parallelism value again');
        else logger.debug({ neuron: key, pod: pod.name, value: applied }, 'Set pod parallelism');
        return true;
      } catch (err) {
        observer?.delivered(false);
        const error = errorMessage(err);
        if (mem.refused.get(pod.instance)?.error !== error)
          logger.warn({ neuron: key, pod: pod.name, err: error }, 'Failed to set pod parallelism');
        mem.refused.set(pod.instance, { pod: pod.name, error });
        return false;
      } finally {
        inFlight.delete(pod.instance);
      }
    });
    inFlight.set(pod.instance, p);
    return p;
  };

  /** The token for a Neuron's pods; undefined when it cannot be read (logged when that starts or changes). */
  const tokenOrFailure = async (
    key: string,
    mem: Pick<NeuronMemory, 'tokenFailure'>,
    read: () => Promise<string | undefined>,
  ) => {
    try {
      const token = await read();
      if (mem.tokenFailure !== undefined) {
        mem.tokenFailure = undefined;
        logger.info({ neuron: key }, 'Read the runtime admin token again');
      }
      return { token };
    } catch (err) {
      const failure = errorMessage(err);
      if (mem.tokenFailure !== failure) {
        mem.tokenFailure = failure;
        logger.warn({ neuron: key, err: failure }, 'Cannot read the runtime admin token');
      }
      return undefined;
    }
  };

  /** The value a Neuron's pods should run: the tuned one, else the spec's (tuning switched off). */
  const valueFor = (t: TuningTarget, mem: NeuronMemory) =>
    t.tuneParallelism ? mem.state.current : t.spec.performance.maxConcurrentSignals;

  /**
   * Puts the value on every Ready pod of one Neuron that does not have it yet. The PUTs run beside
   * the pass, not within it: one pod that does not answer (its deadline is 3 s, longer than an
   * interval) held every Neuron's status, scale writes and next pass until it gave up, at every pass
   * while it kept failing. A Neuron stays pending until a pass finds every pod with the value and
   * nothing in flight.
   */
  const deliver = async (t: TuningTarget, mem: NeuronMemory, pods: Map<string, RuntimePod[]>) => {
    const running = (pods.get(t.key) ?? []).filter((p) => urlAllowed(p.url, options.podCidrs));
    const value = valueFor(t, mem);
    const auth = await tokenOrFailure(t.key, mem, () => tokenFor(t));
    // Without the token the pods would refuse the value: retry on the next pass.
    if (!auth) {
      mem.pending = true;
      return;
    }
    const live = new Set(running.map((p) => p.instance));
    for (const k of mem.delivered.keys()) if (!live.has(k)) mem.delivered.delete(k);
    for (const k of mem.refused.keys()) if (!live.has(k)) mem.refused.delete(k);
    let unsettled = 0;
    for (const pod of running) {
      if (mem.delivered.get(pod.instance) === value) continue;
      unsettled++;
      if (!inFlight.has(pod.instance)) void put(t.key, mem, pod, value, auth.token);
    }
    mem.pending = unsettled > 0;
    // In effect: the value every Ready pod took (one decided since may still be on its way).
    const taken = new Set(running.map((p) => mem.delivered.get(p.instance)));
    const [only] = taken;
    if (running.length === 0) mem.published = value;
    else if (taken.size === 1 && only !== undefined) mem.published = only;
  };

  /** Which Ready pods have not taken the current value, for the condition; undefined when none refused. */
  const undelivered = (mem: NeuronMemory): string | undefined => {
    if (mem.refused.size === 0) return undefined;
    // The first pod by name, so the message (and the status) does not change with completion order.
    const [first] = [...mem.refused.values()].sort((a, b) => a.pod.localeCompare(b.pod));
    const n = mem.refused.size;
    return `${n} pod${n === 1 ? '' : 's'} did not take max_concurrent_signals ${mem.state.current} (${first!.pod}: ${first!.error})`;
  };

  /**
   * Autoscaling turned off: the pods go back to the spec's limit (a tuned one would otherwise stay
   * until they restart), then an empty apply under the tuner's manager removes the fields only it
   * owns (lastDecision, autoscaling, the conditions); `current` stays with the reconciler. Until
   * every Ready pod has taken the value, the status stays, so the next pass tries again.
   */
  const retiring = new Map<string, Pick<NeuronMemory, 'delivered' | 'refused' | 'tokenFailure'>>();
  const retireOne = async (r: RetiredTarget, pods: Map<string, RuntimePod[]> | undefined) => {
    const { namespace = '', name = '' } = r.neuron.metadata ?? {};
    if (r.restore !== undefined && r.cluster) {
      if (!pods) return; // the pod list failed: try again next pass
      const mem = retiring.get(r.key) ?? {
        delivered: new Map(),
        refused: new Map(),
        tokenFailure: undefined,
      };
      retiring.set(r.key, mem);
      const cluster = r.cluster;
      const auth = await tokenOrFailure(r.key, mem, async () => deps.authToken?.(r.neuron, cluster));
      if (!auth) return;
      const running = (pods.get(r.key) ?? []).filter((p) => urlAllowed(p.url, options.podCidrs));
      const value = r.restore;
      const results = await Promise.all(
        running
          .filter((p) => mem.delivered.get(p.instance) !== value)
          .map((p) => inFlight.get(p.instance)?.then(() => false) ?? put(r.key, mem, p, value, auth.token)),
      );
      if (results.includes(false)) return;
    }
    try {
      await deps.writeStatus(namespace, name, {});
      retiring.delete(r.key);
      logger.info({ neuron: r.key }, 'Cleared Neuron autoscaling status');
    } catch (err) {
      logger.warn({ neuron: r.key, err: errorMessage(err) }, 'Failed to clear Neuron autoscaling status');
    }
  };

  /** One read of a Prometheus URL per pass that could not reach it: the other Neurons on it are told the same at once. */
  const passReads = () => {
    const reads = new Map<string, Promise<PrometheusRead | undefined>>();
    const down = new Map<string, string>();
    return (s: PrometheusSource): Promise<PrometheusRead | undefined> => {
      const key = JSON.stringify([s.url, s.series, s.window]);
      let r = reads.get(key);
      if (!r) {
        const known = s.url ? down.get(originOf(s.url)) : undefined;
        r = known !== undefined ? Promise.resolve({ error: known }) : readPrometheus(s, down);
        reads.set(key, r);
      }
      return r;
    };
  };

  /** The Prometheus-sourced Neurons of a pass still deciding (their reads wait on servers). */
  let prometheusPart: Promise<void> | undefined;

  /**
   * One pass: gathers, then decides the pod-sourced Neurons. Resolves once those are done, with the
   * Prometheus-sourced Neurons' part, which goes on beside: a Prometheus that does not answer (each
   * read waits up to its timeout) must not stretch the pod-sourced Neurons' cadence. While an
   * earlier pass's part still runs, a pass leaves those Neurons to it.
   */
  const passOnce = async (): Promise<{ readonly prometheus: Promise<void> }> => {
    const now = clock.now();
    ticks++;
    const { tune: list, retire } = tuningTargets(deps.neurons.list(), deps.clusters);
    const keys = new Set(list.map((t) => t.key));
    for (const [k, mem] of memory) {
      if (keys.has(k)) continue;
      memory.delete(k);
      const [namespace = '', name = ''] = k.split('/');
      const deleted = deps.neurons.get(name, namespace) === undefined;
      observer?.forget?.(namespace, name, Object.keys(mem.fanOut), deleted);
    }
    for (const k of retiring.keys()) if (!retire.some((r) => r.key === k)) retiring.delete(k);
    for (const t of list) {
      if (memory.get(t.key)?.uid !== (t.neuron.metadata?.uid ?? '')) memory.set(t.key, seedMemory(t));
      const mem = memory.get(t.key)!;
      if (t.tuneParallelism && !mem.parallelismTuned) reseedParallelism(mem, t);
      // Turned off, replicas still autoscaled: the spec's limit goes back to the pods now.
      if (!t.tuneParallelism && mem.parallelismTuned) mem.pending = true;
      mem.parallelismTuned = t.tuneParallelism;
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
    if (
      list.some((t) => t.fromPods || memOf(t).pending) ||
      retire.some((r) => r.restore !== undefined) ||
      (resync && list.length > 0)
    ) {
      try {
        pods = readyPodsByNeuron(await deps.listPods(), deps.podURL);
        listed = true;
      } catch (err) {
        logger.warn({ err: errorMessage(err) }, 'Failed to list runtime pods');
      }
    }
    await pool(retire, concurrency, (r) => retireOne(r, listed ? pods : undefined));
    if (list.length === 0) return { prometheus: prometheusPart ?? Promise.resolve() };
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
    const read = passReads();

    // Each Neuron: decide parallelism first (replicas size pods by the limit just decided), then
    // replicas, both with the graph's predictions; then start the PUTs to its running pods, then
    // write its status (the reconciler renders new pods from it). Pod-sourced Neurons run beside the
    // Prometheus-sourced ones, so a Prometheus that does not answer holds only the Neurons reading it
    // (within the pass, and, as the next pass does not wait for them, across passes).
    const pass = async (t: TuningTarget) => {
      const mem = memOf(t);
      const s: Step = { t, mem, view: views.get(t.key), prediction: predictions.get(t.key), now, read };
      const condition = t.tuneParallelism ? await tuneParallelism(s) : undefined;
      const scaled = t.scaleReplicas ? await scale(s) : undefined;
      if (listed && (mem.pending || resync)) await deliver(t, mem, pods);
      // The value in effect: the last one every Ready pod took (status says the same).
      if (t.tuneParallelism)
        observer?.parallelism(
          t.neuron.metadata?.namespace ?? '',
          t.neuron.metadata?.name ?? '',
          mem.published,
        );
      // Over its first stable window a new leader has no window of its own, whatever the pods'
      // age: "no data yet" then is about this process, not the Neuron, so the live condition stands
      // (a failover used to flip every pod-sourced Neuron's conditions to NoData and back: two
      // status writes each, at 1,000 Neurons 2,000, for nothing that changed).
      const warming = t.fromPods && now - startedAt < t.spec.autoscaling.stableWindowSeconds * 1000;
      const keep = (type: string, c: ConditionInput | undefined) =>
        warming && c?.reason === ParallelismReason.NoData ? (liveCondition(t.neuron, type) ?? c) : c;
      const status = tunerStatusOf(
        t,
        mem,
        {
          condition: keep(ParallelismCondition, condition),
          scale: scaled && { ...scaled, condition: keep(ReplicasCondition, scaled.condition)! },
        },
        now,
      );
      if (!statusWriteNeeded(status, t.neuron)) return;
      const { namespace = '', name = '' } = t.neuron.metadata ?? {};
      try {
        await deps.writeStatus(namespace, name, status);
      } catch (err) {
        logger.warn({ neuron: t.key, err: errorMessage(err) }, 'Failed to update Neuron autoscaling status');
      }
    };
    let prometheus = prometheusPart;
    if (!prometheus) {
      // Wider: a Prometheus read waits on a server (up to its timeout), not on this process.
      const part: Promise<void> = pool(
        list.filter((t) => !t.fromPods),
        concurrency * 4,
        pass,
      ).finally(() => {
        if (prometheusPart === part) prometheusPart = undefined;
      });
      // Handled where awaited; this keeps a failure unhandled nowhere when the pass fails first.
      part.catch(() => undefined);
      prometheusPart = part;
      prometheus = part;
    }
    await pool(
      list.filter((t) => t.fromPods),
      concurrency,
      pass,
    );
    return { prometheus };
  };

  const failed = (err: unknown) => logger.error({ err: errorMessage(err) }, 'Autoscaling pass failed');

  const tick = async () => {
    const { prometheus } = await passOnce();
    await prometheus;
  };

  const loop = () => {
    if (stopped) return;
    running = passOnce()
      .then(({ prometheus }) => void prometheus.catch(failed), failed)
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
      await prometheusPart?.catch(() => undefined);
      await Promise.all(inFlight.values());
    },
  };
}

/** A URL's scheme, host and port (the URL itself when it does not parse: it is then its own server). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** A condition of the Neuron's live status, as the tuner would write it. */
function liveCondition(neuron: Neuron, type: string): ConditionInput | undefined {
  const c = neuron.status?.conditions?.find((x) => x.type === type);
  return c && { status: c.status === 'True' ? 'True' : 'False', reason: c.reason, message: c.message };
}
