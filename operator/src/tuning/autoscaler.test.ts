import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import type { Hal9ClusterSpec } from '../generated/hal9cluster.gen.ts';
import type { NeuronStatus } from '../generated/neuron.gen.ts';
import { createMetrics, tunerObserver } from '../metrics/metrics.ts';
import { aHal9Cluster, aNeuron, testNamespace } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { aLivePod, type LiveLoad, type LivePod } from '../testing/load-reports.ts';
import { parseCidrs } from './pod-cidrs.ts';
import { startTuner } from './tuner.ts';
import type { TunerDeps, TunerObserver } from './tuner-deps.ts';

// The autoscaler loop on the pods' load reports, with its edges replaced by plain objects: Neurons
// and pods as data, pods whose load the test sets (read at the fake clock's time), a scale
// subresource and a status writer that store what they get as the apiserver would. One tick = 2 s.

type Spec = NonNullable<Hal9ClusterSpec['autoscaling']>;

const reader = <T extends Neuron | Hal9Cluster>(items: T[]): ObjectReader<T> => ({
  get: (name, namespace) =>
    items.find((i) => i.metadata?.name === name && (!namespace || i.metadata?.namespace === namespace)),
  list: () => items,
});

const aPod = (name: string, neuron: string, ip: string): V1Pod => ({
  metadata: { name, namespace: testNamespace, uid: `uid-${name}`, labels: { 'hal9.ai/neuron': neuron } },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
});

// 64 model calls a pod: the tuner's max (32) is not held to the cap (10 by default; model-call-cap.ts).
const cluster = (a: Spec = {}) =>
  aHal9Cluster({
    performance: { maxConcurrentSignals: 8, maxConcurrentNeurons: 64 },
    autoscaling: {
      enabled: true,
      minReplicas: 1,
      maxReplicas: 20,
      parallelism: { enabled: true, min: 2, max: 32, latencySLOMs: 500 },
      ...a,
    },
  });

/**
 * Changes a cluster's autoscaling as an update does, with a new spec object: the tuner remembers
 * merged specs by their spec objects, which the informer cache never edits in place.
 */
const setAutoscaling = (c: Hal9Cluster, a: Spec) => {
  Object.assign(c, { spec: { ...c.spec, autoscaling: { ...c.spec?.autoscaling, ...a } } });
};

function harness(
  o: {
    cluster?: Hal9Cluster;
    neurons?: Neuron[];
    cidrs?: string;
    observer?: TunerObserver;
    /** Neurons whose scale subresource answers 404 (deleted between the read and the write). */
    gone?: ReadonlySet<string>;
    authToken?: TunerDeps['authToken'];
  } = {},
) {
  const clock = new FakeClock();
  const neurons = o.neurons ?? [aNeuron('impl-1', { replicas: 2 })];
  const pods: V1Pod[] = [];
  const live = new Map<string, LivePod>();
  const down = new Set<string>();
  const reads: string[] = [];
  const scales: { name: string; replicas: number }[] = [];
  const puts: { url: string; value: number }[] = [];
  const events: { type: string; reason: string; message: string }[] = [];
  const writes: string[] = [];
  const logs: { msg: string }[] = [];
  const tuner = startTuner({
    neurons: reader(neurons),
    clusters: reader([o.cluster ?? cluster()]),
    listPods: async () => pods,
    podURL: (pod) => `http://${pod.status?.podIP}:8080`,
    prometheus: () => {
      throw new Error('no Prometheus in these tests');
    },
    ...(o.authToken ? { authToken: o.authToken } : {}),
    readLoad: async (url) => {
      reads.push(url);
      if (down.has(url)) throw new Error(`${url}: ECONNREFUSED`);
      return live.get(url)!.report(clock.now());
    },
    setPodLimit: async (url, value) => {
      puts.push({ url, value });
      live.get(url)?.put(value);
      return value;
    },
    scaleNeuron: async (_ns, name, replicas) => {
      if (o.gone?.has(name)) return false;
      scales.push({ name, replicas });
      const n = neurons.find((x) => x.metadata?.name === name)!;
      Object.assign(n, { spec: { ...n.spec!, replicas } });
      return '';
    },
    writeStatus: async (_ns, name, status) => {
      writes.push(name);
      const n = neurons.find((x) => x.metadata?.name === name)!;
      const s = status as NeuronStatus & { autoscaling?: unknown };
      const mine = ['ParallelismTuned', 'ReplicasAutoscaled'];
      const others = (n.status?.conditions ?? []).filter((c) => !mine.includes(c.type));
      const next = {
        ...(s.parallelism ? { parallelism: s.parallelism } : {}),
        ...(s.autoscaling ? { autoscaling: s.autoscaling } : {}),
        conditions: [...others, ...(s.conditions ?? [])],
      };
      Object.assign(n, { status: next });
      return true;
    },
    events: { record: (_obj, type, reason, message) => events.push({ type, reason, message }) },
    clock,
    ...(o.observer ? { observer: o.observer } : {}),
    logger: pino({ level: 'warn' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
    options: { intervalMs: 2000, ...(o.cidrs ? { podCidrs: parseCidrs(o.cidrs).cidrs } : {}) },
  });
  let n = 0;
  return {
    clock,
    neurons,
    logs,
    /** Removes the pods of `neuron` (deleted, or no longer Ready). */
    removePods(neuron: string) {
      for (let i = pods.length - 1; i >= 0; i--)
        if (pods[i]!.metadata?.labels?.['hal9.ai/neuron'] === neuron) pods.splice(i, 1);
    },
    /** Puts back `pod` (as V1Pod) after removePods. */
    pods,
    reads,
    scales,
    puts,
    events,
    writes,
    down,
    /** Adds a Ready pod of `neuron` at `ip` whose load the test sets. */
    pod(neuron: string, ip: string, load: LiveLoad = { active: 0 }, ageMs = 0) {
      const name = `${neuron}-7d9f8-${n++}`;
      pods.push(aPod(name, neuron, ip));
      const p = aLivePod(neuron, clock.now() - ageMs, load);
      live.set(`http://${ip}:8080`, p);
      return p;
    },
    /** `count` ticks, 2 s apart. */
    /** `count` ticks, 2 s apart; `before` runs ahead of each (a load model's step). */
    async run(count: number, before?: () => void) {
      for (let i = 0; i < count; i++) {
        before?.();
        clock.advance(2000);
        await tuner.tick();
      }
    },
    status: (name = 'impl-1') =>
      neurons.find((x) => x.metadata?.name === name)?.status as
        | (NeuronStatus & { autoscaling?: Record<string, unknown> })
        | undefined,
    condition: (type: string, name = 'impl-1') =>
      neurons.find((x) => x.metadata?.name === name)?.status?.conditions?.find((c) => c.type === type),
  };
}

/**
 * A Neuron under a closed-loop demand of `demand` signals in flight + queued, shared by its pods;
 * each pod serves `min(share, limit)` at once, 100 ms per signal. Pods follow spec.replicas one
 * pass later, at the limit last delivered (or 8).
 */
function model(h: ReturnType<typeof harness>, demand: () => number) {
  const pods: { url: string; pod: LivePod }[] = [];
  let ip = 10;
  const limitOf = (url: string) => h.puts.filter((p) => p.url === url).at(-1)?.value ?? 8;
  return () => {
    const want = h.neurons[0]!.spec?.replicas ?? 1;
    while (pods.length < want) {
      const address = `127.0.0.${ip++}`;
      pods.push({ url: `http://${address}:8080`, pod: h.pod('impl-1', address) });
    }
    const share = demand() / pods.length;
    for (const { url, pod } of pods) {
      const limit = limitOf(url);
      const active = Math.min(share, limit);
      pod.set({
        active,
        queued: share - active,
        limit,
        rate: active / 0.1,
        latency: 0.1 * (share / Math.max(active, 1e-9)),
      });
    }
  };
}

/** The executor limits delivered to the pod at `ip`, in order. */
const limitsTo = (h: ReturnType<typeof harness>, ip: string): number[] =>
  h.puts.filter((p) => p.url.includes(ip)).map((p) => p.value);

describe('the autoscaler on the pods’ load reports', () => {
  it('asks for every Neuron’s admin token at once, not one after the other ahead of every pod read', async () => {
    // Five Neurons; their token reads answer only once all five are asked (one at a time never would).
    const names = ['a', 'b', 'c', 'd', 'e'];
    let asked = 0;
    let open = () => {};
    const all = new Promise<void>((r) => (open = r));
    const h = harness({
      neurons: names.map((n) => aNeuron(n, { replicas: 1 })),
      authToken: async () => {
        if (++asked === names.length) open();
        await all;
        return 'token-0123456789';
      },
    });
    for (const [i, n] of names.entries()) h.pod(n, `127.0.0.${10 + i}`, { active: 1 });
    const pass = h.run(1);
    await vi.waitFor(() => expect(asked).toBeGreaterThanOrEqual(names.length), { timeout: 2_000 });
    await pass;
    expect(new Set(h.reads)).toEqual(new Set(names.map((_, i) => `http://127.0.0.${10 + i}:8080`)));
  });

  it('reacts to a step within 10 s and settles within 60 s at the shipped defaults', async () => {
    const h = harness({
      neurons: [aNeuron('impl-1', { replicas: 1 })],
      cluster: aHal9Cluster({
        autoscaling: {
          enabled: true,
          maxReplicas: 20,
          parallelism: { enabled: true, max: 64, latencySLOMs: 2000 },
        },
      }),
    });
    let demand = 4;
    const step = model(h, () => demand);
    await h.run(40, step);
    const replicas0 = h.neurons[0]!.spec?.replicas;
    const limit0 = h.status()?.parallelism?.current;
    // Demand steps from 4 to 60 signals in flight.
    demand = 60;
    const timeline: { replicas: number | undefined; limit: number | undefined }[] = [];
    for (let i = 0; i < 60; i++) {
      await h.run(1, step);
      timeline.push({ replicas: h.neurons[0]!.spec?.replicas, limit: h.status()?.parallelism?.current });
    }
    const changedAt = (f: (s: (typeof timeline)[number]) => number | undefined, v0: number | undefined) =>
      timeline.findIndex((s) => f(s) !== v0);
    const lastChange = (f: (s: (typeof timeline)[number]) => number | undefined) => {
      let last = -1;
      for (let i = 1; i < timeline.length; i++) if (f(timeline[i]!) !== f(timeline[i - 1]!)) last = i;
      return last;
    };
    // Ticks are 2 s apart: index 4 is 10 s after the step, index 29 is 60 s.
    expect(changedAt((s) => s.replicas, replicas0)).toBeGreaterThanOrEqual(0);
    expect(changedAt((s) => s.replicas, replicas0)).toBeLessThanOrEqual(4);
    expect(changedAt((s) => s.limit, limit0)).toBeLessThanOrEqual(4);
    expect(lastChange((s) => s.replicas)).toBeLessThanOrEqual(29);
    expect(lastChange((s) => s.limit)).toBeLessThanOrEqual(29);
    // More capacity than before, on both axes.
    expect(timeline.at(-1)!.replicas).toBeGreaterThan(replicas0!);
    expect(timeline.at(-1)!.limit).toBeGreaterThan(limit0!);
  });

  it('raises parallelism and replicas under load, and lowers replicas after it', async () => {
    const h = harness();
    const quiet: LiveLoad = { active: 1, rate: 10, latency: 0.1, limit: 8 };
    const a = h.pod('impl-1', '127.0.0.2', quiet);
    const b = h.pod('impl-1', '127.0.0.3', quiet);
    await h.run(5);
    expect(h.condition('ReplicasAutoscaled')).toMatchObject({ status: 'True', reason: 'MetricsAvailable' });
    const before = h.scales.length;

    // A step: every slot busy and a queue of 12 per pod, answers still well within the SLO.
    const busy: LiveLoad = { active: 8, queued: 12, rate: 80, latency: 0.2, limit: 8 };
    a.set(busy);
    b.set(busy);
    await h.run(5); // 10 s
    const up = h.scales.slice(before);
    expect(up.length).toBeGreaterThan(0);
    expect(Math.max(...up.map((s) => s.replicas))).toBeGreaterThan(2);
    // The burst panicked the count up at once; the slots raised meanwhile let it come down again.
    expect(h.events.some((e) => e.reason === 'Panic' && e.message.includes('per-pod target'))).toBe(true);
    expect(h.status()?.autoscaling?.lastDecision).toMatchObject({
      message: expect.stringContaining('per-pod target'),
    });
    // Slots first within a pod: the limit went up on both running pods.
    expect(h.status()?.parallelism?.current).toBeGreaterThan(8);
    expect(new Set(h.puts.filter((p) => p.value > 8).map((p) => p.url))).toEqual(
      new Set(['http://127.0.0.2:8080', 'http://127.0.0.3:8080']),
    );
    expect(h.status()?.parallelism?.lastDecision).toMatchObject({ reason: 'Saturated' });

    // The load goes away: once the panic has passed and the stable window averaged it out, the
    // count comes down to the minimum.
    a.set({ active: 0, limit: 8 });
    b.set({ active: 0, limit: 8 });
    await h.run(80);
    expect(h.neurons[0]!.spec?.replicas).toBe(1);
    expect(h.status()?.autoscaling).toMatchObject({ desiredReplicas: 1 });
  });

  it('delivers its value again to a pod that reports running another (a hand-made PUT)', async () => {
    const h = harness();
    const quiet: LiveLoad = { active: 1, rate: 10, latency: 0.1, limit: 8 };
    const a = h.pod('impl-1', '127.0.0.2', quiet);
    h.pod('impl-1', '127.0.0.3', quiet);
    await h.run(5);
    const value = h.status()?.parallelism?.current;
    expect(limitsTo(h, '127.0.0.2').at(-1)).toBe(value);
    const before = h.puts.length;
    a.set({ ...quiet, limit: 3 }); // PUT /v1/admin/performance by hand on one pod
    await h.run(2);
    // That pod only, with the value in force; the other still runs it.
    expect(h.puts.slice(before)).toEqual([{ url: 'http://127.0.0.2:8080', value }]);
  });

  it('writes status only on decisions, not every pass, under steady load', async () => {
    const neurons = [
      aNeuron('design-1', { layer: 'L3', forwardConnections: ['impl-1'], replicas: 1 }),
      aNeuron('impl-1', { layer: 'L2', replicas: 1 }),
    ];
    const h = harness({ neurons });
    // A fan-out of 1.375 per signal, in whole signals: its windowed value wobbles around 1.37|1.38.
    h.pod('design-1', '127.0.0.2', { active: 2, rate: 7, latency: 0.1, fanOut: { 'impl-1': 1.375 } });
    h.pod('impl-1', '127.0.0.3', { active: 3, rate: 9, latency: 0.3 });
    await h.run(40);
    const settled = h.writes.length;
    await h.run(20);
    expect(h.writes.length).toBe(settled);
    expect(h.status('design-1')?.autoscaling).toMatchObject({ fanOut: { 'impl-1': expect.any(String) } });
  });

  it('keeps the live conditions through a new leader’s first window instead of flipping them to NoData', async () => {
    const neurons = [aNeuron('impl-1', { layer: 'L2', replicas: 1 })];
    const first = harness({ neurons });
    first.pod('impl-1', '127.0.0.3', { active: 3, rate: 9, latency: 0.3 });
    await first.run(40);
    expect(first.condition('ParallelismTuned')?.status).toBe('True');
    expect(first.condition('ReplicasAutoscaled')?.status).toBe('True');
    const before = structuredClone(first.status());
    // A failover: a new loop over the same Neurons and pods, with no history of its own.
    const next = harness({ neurons });
    next.pod('impl-1', '127.0.0.3', { active: 3, rate: 9, latency: 0.3 }, 600_000);
    await next.run(5);
    expect(next.writes).toEqual([]);
    expect(next.status()).toEqual(before);
  });

  it('takes no pod away on a new leader’s first seconds of reports, only once its stable window is full', async () => {
    // A failover at 4 pods, in a lull of a load that needed them: the new leader has read the pods
    // for a few seconds only, and its 'stable window' is those seconds.
    const neurons = [aNeuron('impl-1', { layer: 'L2', replicas: 4 })];
    const h = harness({ neurons });
    for (let i = 0; i < 4; i++) h.pod('impl-1', `127.0.0.${10 + i}`, { active: 0.25, limit: 8 }, 600_000);
    await h.run(10); // 20 s
    expect(h.scales).toEqual([]);
    expect(h.neurons[0]!.spec?.replicas).toBe(4);
    await h.run(25); // 70 s: the window is full, and the lull has lasted all of it
    expect(h.neurons[0]!.spec?.replicas).toBeLessThan(4);
    expect(h.events.find((e) => e.reason === 'Concurrency')?.message).toContain('Scaled from 4 to 2');
  });

  it('says in its condition that the upstream’s push-back holds a raise, and when it ends', async () => {
    const h = harness();
    const p = h.pod('impl-1', '127.0.0.2', {
      active: 8,
      queued: 40,
      rate: 40,
      latency: 1,
      limit: 8,
      throttledPerSecond: 2,
    });
    await h.run(10);
    expect(h.scales).toEqual([]);
    expect(h.condition('ReplicasAutoscaled')).toMatchObject({
      status: 'True',
      reason: 'MetricsAvailable',
      message: expect.stringContaining('holding 2 replicas: the upstream answers 429/529'),
    });
    p.set({ active: 8, queued: 40, rate: 40, latency: 1, limit: 8 });
    await h.run(5);
    expect(h.scales.length).toBeGreaterThan(0);
    expect(h.condition('ReplicasAutoscaled')?.message).not.toContain('429');
  });

  it('takes over the count the last leader wrote before it could record it in status', async () => {
    // The old leader scaled 2 → 4 and lost its lease before the status write: status still says 2,
    // and spec.replicas, written through the scale subresource, is the autoscaler's.
    const n = aNeuron(
      'impl-1',
      { layer: 'L2', replicas: 4 },
      { status: { autoscaling: { desiredReplicas: 2 } } as NeuronStatus },
    );
    n.metadata!.managedFields = [
      {
        manager: 'hal9-operator-autoscaler',
        operation: 'Update',
        subresource: 'scale',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      },
    ];
    const h = harness({ neurons: [n] });
    for (let i = 0; i < 4; i++) h.pod('impl-1', `127.0.0.${10 + i}`, { active: 4, limit: 8 }, 600_000);
    await h.run(3);
    expect(h.scales).toEqual([]);
    expect(h.events.filter((e) => e.reason === 'ManualScaleOverridden')).toEqual([]);
    expect(h.status()?.autoscaling).toMatchObject({ desiredReplicas: 4 });
  });

  it('holds replicas and parallelism when the pods stop answering, and says why', async () => {
    const h = harness();
    h.pod('impl-1', '127.0.0.2', { active: 4, queued: 4, rate: 20, latency: 0.1 });
    await h.run(5);
    h.down.add('http://127.0.0.2:8080');
    // Reports stay usable for two intervals; after that nothing may move (the next pass only finds
    // the pods took the last value decided, which status then reports as in effect).
    await h.run(3);
    const replicas = h.neurons[0]!.spec?.replicas;
    const limit = h.status()?.parallelism?.current;
    const scales = h.scales.length;
    await h.run(40);
    expect(h.scales.length).toBe(scales);
    expect(h.neurons[0]!.spec?.replicas).toBe(replicas);
    expect(h.status()?.parallelism?.current).toBe(limit);
    expect(h.condition('ReplicasAutoscaled')).toMatchObject({ status: 'False', reason: 'PodsUnreachable' });
    expect(h.condition('ReplicasAutoscaled')?.message).toContain('ECONNREFUSED');
    expect(h.condition('ParallelismTuned')).toMatchObject({ status: 'False', reason: 'MetricsUnavailable' });
  });

  it('owns spec.replicas in operator mode: a manual scale is set back, with a warning event', async () => {
    const h = harness();
    h.pod('impl-1', '127.0.0.2', { active: 1, rate: 5, latency: 0.1 });
    await h.run(5);
    const decided = h.neurons[0]!.spec?.replicas;
    Object.assign(h.neurons[0]!, { spec: { ...h.neurons[0]!.spec!, replicas: 7 } }); // kubectl scale --replicas 7
    await h.run(4);
    expect(h.neurons[0]!.spec?.replicas).toBe(decided);
    expect(h.events.find((e) => e.reason === 'ManualScaleOverridden')).toMatchObject({ type: 'Warning' });
    expect(h.status()?.autoscaling?.lastDecision).toMatchObject({ reason: 'ManualScaleOverridden' });
  });

  it('records no scale or Event for a Neuron deleted before its scale was written', async () => {
    const gone = new Set<string>();
    const h = harness({ gone });
    h.pod('impl-1', '127.0.0.2', { active: 1, rate: 5, latency: 0.1 });
    await h.run(5);
    const decided = h.neurons[0]!.spec?.replicas;
    gone.add('impl-1');
    Object.assign(h.neurons[0]!, { spec: { ...h.neurons[0]!.spec!, replicas: 7 } }); // kubectl scale --replicas 7
    await h.run(4);
    expect(h.neurons[0]!.spec?.replicas).toBe(7);
    expect(decided).not.toBe(7);
    expect(h.events.filter((e) => e.reason === 'ManualScaleOverridden')).toEqual([]);
    expect(h.status()?.autoscaling?.lastDecision).not.toMatchObject({ reason: 'ManualScaleOverridden' });
  });

  it('never writes replicas in hpa mode or with autoscaling off', async () => {
    for (const a of [{ mode: 'hpa' as const }, { enabled: false }]) {
      const h = harness({ cluster: cluster(a) });
      h.pod('impl-1', '127.0.0.2', { active: 8, queued: 40, rate: 80, latency: 0.1 });
      await h.run(10);
      expect(h.scales).toEqual([]);
      expect(h.status()?.autoscaling).toBeUndefined();
      // Parallelism is still tuned.
      expect(h.status()?.parallelism?.current).toBeGreaterThan(8);
    }
  });

  it('takes the count over from whoever held it when switched back to operator mode', async () => {
    for (const away of [{ enabled: false }, { mode: 'hpa' as const }]) {
      const c = cluster();
      const h = harness({ cluster: c });
      h.pod('impl-1', '127.0.0.2', { active: 1, rate: 5, latency: 0.1 });
      await h.run(5);
      expect(h.neurons[0]!.spec?.replicas).toBe(1);
      // Replicas handed over (parallelism stays tuned); meanwhile the count is set to 6 by its
      // owner then (kubectl scale with autoscaling off; with an HPA, whoever mirrors its count).
      setAutoscaling(c, away);
      await h.run(2);
      Object.assign(h.neurons[0]!, { spec: { ...h.neurons[0]!.spec!, replicas: 6 } });
      await h.run(2);
      setAutoscaling(c, { enabled: true, mode: 'operator' });
      const scales = h.scales.length;
      await h.run(1);
      // Not another writer overriding the operator: the count was not the operator's.
      expect(h.events.filter((e) => e.reason === 'ManualScaleOverridden')).toEqual([]);
      expect(h.status()?.autoscaling?.lastDecision).toMatchObject({ reason: 'Concurrency' });
      // And the decision starts from the 6 it found, at most halving per pass.
      expect(h.scales[scales]).toEqual({ name: 'impl-1', replicas: 3 });
    }
  });

  it('drops the replica series of a Neuron whose count is no longer its own or that is no longer tuned, and every series of a deleted one', async () => {
    const registry = new Registry();
    const c = cluster();
    const h = harness({ cluster: c, observer: tunerObserver(createMetrics(registry)) });
    h.pod('impl-1', '127.0.0.2', { active: 8, queued: 40, rate: 80, latency: 0.1 });
    const series = async (name: string) =>
      ((await registry.getSingleMetric(name)?.get())?.values ?? []).filter(
        (v) => v.labels.neuron === 'impl-1',
      );
    await h.run(5);
    expect(await series('hal9_operator_neuron_desired_replicas')).toHaveLength(1);
    expect(await series('hal9_operator_neuron_concurrency')).toHaveLength(2);
    expect(await series('hal9_operator_neuron_parallelism')).toHaveLength(1);
    // An HPA owns the count now: its last value would read as the operator's wish in Grafana.
    setAutoscaling(c, { mode: 'hpa' });
    await h.run(2);
    expect(await series('hal9_operator_neuron_desired_replicas')).toEqual([]);
    expect(await series('hal9_operator_neuron_concurrency')).toEqual([]);
    expect(await series('hal9_operator_neuron_predicted_concurrency')).toEqual([]);
    expect(await series('hal9_operator_neuron_parallelism')).toHaveLength(1);
    // Back to operator mode: the series come back.
    setAutoscaling(c, { mode: 'operator' });
    await h.run(1);
    expect(await series('hal9_operator_neuron_desired_replicas')).toHaveLength(1);
    // Autoscaling off: the tuner's series go; the limit in effect stays (the reconciler reports it
    // for every Neuron, and a tuner pass after the reconcile must not take it away).
    setAutoscaling(c, { enabled: false, parallelism: { enabled: false } });
    await h.run(2);
    expect(await series('hal9_operator_neuron_desired_replicas')).toEqual([]);
    expect(await series('hal9_operator_neuron_concurrency')).toEqual([]);
    expect(await series('hal9_operator_neuron_parallelism')).toHaveLength(1);
    setAutoscaling(c, { enabled: true, parallelism: { enabled: true } });
    await h.run(1);
    // Deleted: nothing of it is left.
    h.neurons.length = 0;
    await h.run(1);
    for (const name of [
      'hal9_operator_neuron_desired_replicas',
      'hal9_operator_neuron_concurrency',
      'hal9_operator_neuron_parallelism',
    ])
      expect(await series(name), name).toEqual([]);
  });

  it("keeps a pod's made-up fan-out targets out of status and metrics, and drops an edge no longer connected", async () => {
    const registry = new Registry();
    const neurons = [
      aNeuron('design-1', { layer: 'L3', forwardConnections: ['impl-1', 'impl-2'], replicas: 1 }),
      aNeuron('impl-1', { layer: 'L2', replicas: 1 }),
      aNeuron('impl-2', { layer: 'L2', replicas: 1 }),
    ];
    const h = harness({ neurons, observer: tunerObserver(createMetrics(registry)) });
    const made = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`made-up-${i}`, 1]));
    h.pod('design-1', '127.0.0.2', {
      active: 2,
      rate: 8,
      latency: 0.1,
      fanOut: { 'impl-1': 2, 'impl-2': 1, ...made },
    });
    const edges = async () =>
      ((await registry.getSingleMetric('hal9_operator_edge_fanout')?.get())?.values ?? [])
        .filter((v) => v.labels.source === 'design-1')
        .map((v) => v.labels.target)
        .sort();
    await h.run(40);
    expect(await edges()).toEqual(['impl-1', 'impl-2']);
    expect(Object.keys(h.status('design-1')?.autoscaling?.fanOut ?? {}).sort()).toEqual(['impl-1', 'impl-2']);
    // impl-2 is no longer forwarded to: its series and its key in status go, though the pod reports it.
    Object.assign(neurons[0]!, { spec: { ...neurons[0]!.spec!, forwardConnections: ['impl-1'] } });
    await h.run(1);
    expect(await edges()).toEqual(['impl-1']);
    expect(Object.keys(h.status('design-1')?.autoscaling?.fanOut ?? {})).toEqual(['impl-1']);
  });

  it('claims no count it held for want of data: the count carried in from an HPA is not an override', async () => {
    const h = harness();
    // Just switched to operator mode: no pod has reported yet, and spec.replicas still holds 2.
    await h.run(1);
    expect(h.condition('ReplicasAutoscaled')).toMatchObject({ reason: 'NoData' });
    // The reconciler carries the 6 pods the HPA ran into spec.replicas.
    Object.assign(h.neurons[0]!, { spec: { ...h.neurons[0]!.spec!, replicas: 6 } });
    await h.run(2);
    expect(h.events.filter((e) => e.reason === 'ManualScaleOverridden')).toEqual([]);
    expect(h.scales).toEqual([]);
  });

  it('reads and sends nothing outside --pod-cidrs, and says so', async () => {
    const h = harness({ cidrs: '127.0.0.0/8' });
    h.pod('impl-1', '10.244.0.7', { active: 8, queued: 8, rate: 40 });
    await h.run(5);
    expect(h.reads).toEqual([]);
    expect(h.puts).toEqual([]);
    expect(h.condition('ReplicasAutoscaled')).toMatchObject({ reason: 'PodsUnreachable' });
    expect(h.condition('ReplicasAutoscaled')?.message).toContain('--pod-cidrs');
    // Warned once, not at every pass; again for the pod once it was gone and came back.
    const warned = () => h.logs.filter((l) => l.msg === 'Refused to reach a pod outside --pod-cidrs').length;
    expect(warned()).toBe(1);
    const kept = [...h.pods];
    h.removePods('impl-1');
    await h.run(1);
    h.pods.push(...kept);
    await h.run(2);
    expect(warned()).toBe(2);
  });

  it('pre-scales a downstream Neuron when its upstream intake rises, before its own load does', async () => {
    const neurons = [
      aNeuron('design-1', { layer: 'L3', forwardConnections: ['impl-1'], replicas: 1 }),
      aNeuron('impl-1', { layer: 'L2', replicas: 1 }),
    ];
    const h = harness({ neurons, cluster: cluster({ parallelism: { enabled: false } }) });
    // design-1 forwards 2 signals to impl-1 per signal it finishes; impl-1 takes 1 s per signal.
    const up = h.pod('design-1', '127.0.0.2', { active: 1, rate: 2, latency: 0.2, fanOut: { 'impl-1': 2 } });
    h.pod('impl-1', '127.0.0.3', { active: 4, rate: 4, latency: 1 });
    await h.run(35);
    expect(h.neurons[1]!.spec?.replicas).toBe(1);
    // design-1's intake quadruples; impl-1's own load has not changed (yet).
    up.set({ active: 4, rate: 8, latency: 0.2, fanOut: { 'impl-1': 2 } });
    await h.run(5);
    // 8/s × 2 × 1 s = 16 in flight predicted ÷ (8 slots × 0.7) = 3 pods.
    expect(h.neurons[1]!.spec?.replicas).toBeGreaterThanOrEqual(3);
    const d = h.status('impl-1')?.autoscaling as { lastDecision: Record<string, unknown>; fanOut?: unknown };
    expect(d.lastDecision).toMatchObject({ reason: 'PreScaled' });
    expect(String(d.lastDecision.message)).toContain(`${testNamespace}/design-1`);
    expect(h.status('design-1')?.autoscaling).toMatchObject({ fanOut: { 'impl-1': '2' } });
  });
  it("raises the downstream pods' slots ahead of a predicted intake, live, before its own load rises", async () => {
    const neurons = [
      aNeuron('design-1', { layer: 'L3', forwardConnections: ['impl-1'], replicas: 1 }),
      aNeuron('impl-1', { layer: 'L2', replicas: 1 }),
    ];
    const h = harness({ neurons, cluster: cluster() });
    const up = h.pod('design-1', '127.0.0.2', { active: 1, rate: 2, latency: 0.2, fanOut: { 'impl-1': 2 } });
    h.pod('impl-1', '127.0.0.3', { active: 1, rate: 4, latency: 0.2 });
    await h.run(35);
    const before = limitsTo(h, '127.0.0.3').length;
    up.set({ active: 8, rate: 40, latency: 0.2, fanOut: { 'impl-1': 2 } });
    await h.run(1);
    // 40/s × 2 × 0.2 s = 16 predicted in flight on impl-1's one ready pod, whose own load has not
    // changed (1 in flight): about 20 slots hold it at 80 %. The first pass after the step sees it in
    // the newest interval (the 6 s panic window still says 14.7/s, 6 in flight: no raise at all) and
    // raises at least as far as one step may (doubling); a pre-scale follows a raise at once.
    const first = limitsTo(h, '127.0.0.3').slice(before);
    expect(first.length).toBeGreaterThan(0);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(16);
    await h.run(4);
    const raised = limitsTo(h, '127.0.0.3').slice(before);
    expect(raised.at(-1)).toBeGreaterThanOrEqual(20);
    expect(h.status('impl-1')?.parallelism?.lastDecision).toMatchObject({ reason: 'PreScaled' });
  });

  it("counts an upstream's queue in the downstream's prediction: it comes down together once drained", async () => {
    const neurons = [
      aNeuron('design-1', { layer: 'L3', forwardConnections: ['impl-1'], replicas: 1 }),
      aNeuron('impl-1', { layer: 'L2', replicas: 1 }),
    ];
    const h = harness({ neurons, cluster: cluster() });
    const up = h.pod('design-1', '127.0.0.2', { active: 1, rate: 2, latency: 0.2, fanOut: { 'impl-1': 1 } });
    h.pod('impl-1', '127.0.0.3', { active: 1, rate: 2, latency: 0.2 });
    await h.run(35);
    const before = limitsTo(h, '127.0.0.3').length;
    // design-1's intake rises a little, and 20 signals wait for its slots: 10/s × 0.2 s = 2 in
    // flight would not raise impl-1's 8 slots; the 20 that reach it when design-1 drains do.
    up.set({ active: 8, queued: 20, rate: 10, latency: 0.2, fanOut: { 'impl-1': 1 } });
    await h.run(1);
    const raised = limitsTo(h, '127.0.0.3').slice(before);
    expect(raised.length).toBeGreaterThan(0);
    expect(Math.min(...raised)).toBeGreaterThanOrEqual(16);
    const d = h.status('impl-1')?.autoscaling as { lastDecision: Record<string, unknown> };
    expect(d.lastDecision).toMatchObject({ reason: 'PreScaled' });
    expect(String(d.lastDecision.message)).toContain('queued');
  });

  it('sizes the slot pre-scale for the pods already decided, not only the ready ones', async () => {
    const neurons = [
      aNeuron('design-1', { layer: 'L3', forwardConnections: ['impl-1'], replicas: 1 }),
      aNeuron('impl-1', { layer: 'L2', replicas: 2 }),
    ];
    const h = harness({ neurons, cluster: cluster({ minReplicas: 2 }) });
    const up = h.pod('design-1', '127.0.0.2', { active: 1, rate: 2, latency: 0.2, fanOut: { 'impl-1': 2 } });
    // impl-1 is scaled to 2; one of them runs yet.
    h.pod('impl-1', '127.0.0.3', { active: 1, rate: 4, latency: 0.2 });
    await h.run(35);
    const before = limitsTo(h, '127.0.0.3').length;
    // 40/s × 2 × 0.2 s = 16 predicted in flight on impl-1, shared by the 2 pods it is scaled to:
    // 8 each, 10–11 slots at 80 %. Sizing the one ready pod for all 16 (20 slots) would count the
    // headroom twice, and the pods the slots made unneeded would go a stable window later.
    up.set({ active: 8, rate: 40, latency: 0.2, fanOut: { 'impl-1': 2 } });
    await h.run(3);
    const raised = limitsTo(h, '127.0.0.3').slice(before);
    expect(raised.length).toBeGreaterThan(0);
    expect(Math.min(...raised)).toBeGreaterThan(8);
    expect(Math.max(...raised)).toBeLessThanOrEqual(11);
  });
});
