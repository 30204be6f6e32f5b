import { errorMessage } from '../errors.ts';
import { ParallelismCondition, ReplicasCondition } from '../status/parallelism-status.ts';
import { syncMemory } from './memory-sync.ts';
import { learnFanOut, neuronFlow } from './neuron-flow.ts';
import type { NeuronMemory } from './neuron-memory.ts';
import type { NeuronStep } from './neuron-step.ts';
import { tuneParallelism } from './parallelism-step.ts';
import { createPodLimits, readPodToken } from './pod-limits.ts';
import { createPodLoadReader } from './pod-load-reader.ts';
import type { PodView } from './pod-view.ts';
import { pool } from './pool.ts';
import { type NeuronFlow, predict } from './prescale.ts';
import { createPrometheusReads } from './prometheus-reads.ts';
import { scaleReplicas } from './replica-step.ts';
import { createRetirement } from './retirement.ts';
import { type RuntimePod, readyPodsByNeuron } from './runtime-pods.ts';
import { targetAfterRead } from './target-after-read.ts';
import type { TunerDeps } from './tuner-deps.ts';
import { statusWriteNeeded, tunerStatusOf } from './tuner-status.ts';
import { type TuningTarget, tuningTargets } from './tuning-targets.ts';
import { answeredCondition, steadyNoData, warmCondition, warmingUp } from './warm-up.ts';

// The autoscaler loop (a thin shell around pure laws), on the leader only. Every interval:
//  1. gather: list the runtime pods once; read every Ready pod's load report (GET /v1/admin/load)
//     for Neurons whose metricsSource is pods, or query Prometheus for the others;
//  2. decide: windows over the reports (load-windows.ts) → parallelism (decide.ts) → predicted
//     intake from the graph (prescale.ts) → replicas (replicas.ts);
//  3. apply: the limit to running pods (PUT /v1/admin/performance), the replica count to the
//     Neuron's scale subresource, and the decisions to status (the next render carries them into
//     the ConfigMap and the Deployment).
// State per Neuron lives in memory (neuron-memory.ts), seeded from its status, so a new leader
// keeps the windows. This file holds the timers and composes the steps: the reads (pod loads:
// pod-load-reader.ts; Prometheus: prometheus-reads.ts), each Neuron's decisions (parallelism-step.ts,
// replica-step.ts, around pure laws in their own files), the writes (pod limits: pod-limits.ts;
// autoscaling turned off: retirement.ts) and the status write.

export interface RunningTuner {
  /** One pass over every autoscaled Neuron (the loop calls it; tests may too). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function startTuner(deps: TunerDeps): RunningTuner {
  const { clock, logger, options, observer } = deps;
  const memory = new Map<string, NeuronMemory>();
  const resyncTicks = options.resyncTicks ?? 6;
  const concurrency = options.concurrency ?? 4;
  let ticks = 0;
  // When this loop started (on becoming leader): its pod histories start empty then.
  const startedAt = clock.now();
  let stopped = false;
  let running: Promise<void> | undefined;
  let cancel: (() => void) | undefined;

  const tokenFor = async (t: TuningTarget): Promise<string | undefined> =>
    deps.authToken?.(t.neuron, t.cluster);

  const readPods = createPodLoadReader({ ...deps, tokenFor });
  const passReads = createPrometheusReads(deps.prometheus);
  const podLimits = createPodLimits({ ...deps, podCidrs: options.podCidrs });
  const retirement = createRetirement({ ...deps, podLimits });

  /** The value a Neuron's pods should run: the tuned one, else the spec's (tuning switched off). */
  const valueFor = (t: TuningTarget, mem: NeuronMemory) =>
    t.tuneParallelism ? mem.state.current : t.spec.performance.maxConcurrentSignals;

  /** Starts the PUTs of the Neuron's value to its Ready pods (pod-limits.ts). */
  const deliver = async (t: TuningTarget, mem: NeuronMemory, pods: Map<string, RuntimePod[]>) => {
    const auth = await readPodToken(logger, t.key, mem, () => tokenFor(t));
    // Without the token the pods would refuse the value: retry on the next pass.
    if (!auth) {
      mem.pending = true;
      return;
    }
    podLimits.deliver(t.key, mem, pods.get(t.key) ?? [], valueFor(t, mem), auth.token);
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
    const passNow = clock.now();
    ticks++;
    const { tune: list, retire } = tuningTargets(deps.neurons.list(), deps.clusters);
    syncMemory(memory, list, deps);
    retirement.keepOnly(retire);
    const memOf = (t: TuningTarget) => memory.get(t.key)!;
    const resync = ticks % resyncTicks === 0;

    // Gather: one pod list per tick, then every pod-sourced Neuron's pods in parallel.
    let pods = new Map<string, RuntimePod[]>();
    let listed = false;
    let listFailure: string | undefined;
    if (
      list.some((t) => t.fromPods || memOf(t).pending) ||
      retire.some((r) => r.restore !== undefined) ||
      (resync && list.length > 0)
    ) {
      try {
        pods = readyPodsByNeuron(await deps.listPods(), deps.podURL);
        listed = true;
        podLimits.prune(pods);
      } catch (err) {
        listFailure = errorMessage(err);
        logger.warn({ err: listFailure }, 'Failed to list runtime pods');
      }
    }
    await pool(retire, concurrency, (r) => retirement.retire(r, listed ? pods : undefined));
    if (list.length === 0) return { prometheus: prometheusPart ?? Promise.resolve() };
    const views = listed ? await readPods(list, pods) : new Map<string, PodView>();

    const flows = new Map<string, NeuronFlow>();
    for (const t of list) {
      const v = views.get(t.key);
      const mem = memOf(t);
      if (v?.stable?.meanLatencySeconds !== undefined) mem.latency = v.stable.meanLatencySeconds;
      const learned = learnFanOut(mem.fanOut, v?.stable?.fanOut, t.spec.forwardConnections);
      mem.fanOut = learned.fanOut;
      if (learned.gone.length > 0)
        observer?.fanOutGone?.(
          t.neuron.metadata?.namespace ?? '',
          t.neuron.metadata?.name ?? '',
          learned.gone,
        );
      flows.set(
        t.key,
        neuronFlow(t.neuron.metadata?.namespace ?? '', v, mem.fanOut, mem.latency, t.spec.forwardConnections),
      );
    }
    const predictions = predict(flows);
    const read = passReads();

    // Each Neuron: decide parallelism first (replicas size pods by the limit just decided), then
    // replicas, both with the graph's predictions; then start the PUTs to its running pods, then
    // write its status (the reconciler renders new pods from it). Pod-sourced Neurons run beside the
    // Prometheus-sourced ones, so a Prometheus that does not answer holds only the Neurons reading it
    // (within the pass, and, as the next pass does not wait for them, across passes).
    const pass = async (found: TuningTarget) => {
      const mem = memory.get(found.key);
      // The Prometheus part may outlive this pass: a later one may have forgotten the Neuron (deleted,
      // paused, autoscaling off) or seeded a new one of the same name, or switched tuning since.
      if (mem?.uid !== (found.neuron.metadata?.uid ?? '') || mem.parallelismTuned !== found.tuneParallelism)
        return;
      // A Prometheus-sourced Neuron decides on what it is once its read is in (target-after-read.ts).
      const t = found.fromPods ? found : await targetAfterRead(found, read, deps);
      if (!t || memory.get(t.key) !== mem || mem.parallelismTuned !== t.tuneParallelism) return;
      // Its Neurons wait their turn on Prometheus: each decides, and is stamped, when its turn comes.
      const now = t.fromPods ? passNow : clock.now();
      // Decided with what stops a raise known now: a value that could not reach every Ready pod.
      if (listFailure !== undefined && mem.pending)
        mem.unsent = `the runtime pods could not be listed (${listFailure})`;
      else if (listed) mem.unsent = podLimits.unsent(pods.get(t.key) ?? [], valueFor(t, mem));
      const s: NeuronStep = { t, mem, view: views.get(t.key), prediction: predictions.get(t.key), now, read };
      const condition = t.tuneParallelism ? await tuneParallelism(deps, s) : undefined;
      // Its read may have outlasted the Neuron, or its tuning (see above): nothing to do for it then.
      if (memory.get(t.key) !== mem || mem.parallelismTuned !== t.tuneParallelism) return;
      const scaled = t.scaleReplicas ? await scaleReplicas(deps, s) : undefined;
      if (s.view && podLimits.forgetDrifted(t.key, mem, pods.get(t.key) ?? [], s.view.limits))
        mem.pending = true;
      // A value decided goes to the pods once status records it (below): if the write fails, or this
      // process stops before it, a new leader seeded from status sends nothing older back over it.
      const recorded = () => !t.tuneParallelism || mem.recorded === mem.state.current;
      const delivering = listed && (mem.pending || resync);
      const held = delivering && !recorded();
      if (delivering && !held) await deliver(t, mem, pods);
      // Held back, the value in effect is still read from what the pods took, for this status.
      else if (delivering) podLimits.publish(mem, pods.get(t.key) ?? [], mem.recorded);
      // The value in effect: the last one every Ready pod took (status says the same).
      if (t.tuneParallelism)
        observer?.parallelism(
          t.neuron.metadata?.namespace ?? '',
          t.neuron.metadata?.name ?? '',
          mem.published,
        );
      // A new leader's first stable window: NoData is about this process, the live condition stands.
      const warming = warmingUp(t, startedAt, now);
      const keep = (type: string, c: Parameters<typeof warmCondition>[2]) =>
        warmCondition(t.neuron, type, c, warming);
      // Nor does it know yet which pods refuse the value while its first PUTs are unanswered, or
      // not sent yet (its first value held until status records it).
      const unknown = held && mem.delivered.size === 0 && mem.refused.size === 0;
      const awaiting = unknown || podLimits.awaiting(mem, pods.get(t.key) ?? []);
      const steady = steadyNoData(
        t.neuron,
        ParallelismCondition,
        keep(ParallelismCondition, condition),
        mem.noDataNamedAt,
        now,
      );
      mem.noDataNamedAt = steady.namedAt;
      const status = tunerStatusOf(
        t,
        mem,
        {
          condition: answeredCondition(t.neuron, ParallelismCondition, steady.condition, awaiting),
          scale: scaled && { ...scaled, condition: keep(ReplicasCondition, scaled.condition)! },
        },
        now,
      );
      if (statusWriteNeeded(status, t.neuron)) {
        const { namespace = '', name = '' } = t.neuron.metadata ?? {};
        try {
          await deps.writeStatus(namespace, name, status);
        } catch (err) {
          const message = errorMessage(err);
          logger.warn({ neuron: t.key, err: message }, 'Failed to update Neuron autoscaling status');
          mem.unrecorded = `its status write failed: ${message}`;
          return;
        }
      }
      mem.unrecorded = undefined;
      // Status holds this pass's decision now (its lastDecision is the value decided).
      if (recorded()) return;
      mem.recorded = mem.state.current;
      if (delivering && memory.get(t.key) === mem) await deliver(t, mem, pods);
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
      await podLimits.settled();
    },
  };
}
