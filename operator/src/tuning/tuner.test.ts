import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import type { NeuronStatus } from '../generated/neuron.gen.ts';
import { aHal9Cluster, aNeuron, testNamespace } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { aLivePod } from '../testing/load-reports.ts';
import { REFUSED_BACKOFF_MAX_MS } from './pod-limits.ts';
import type { PrometheusClient, Sample } from './prometheus.ts';
import { startTuner } from './tuner.ts';
import type { TunerDeps } from './tuner-deps.ts';

// The loop with its edges replaced: readers over plain objects, a Prometheus whose answers the
// test sets, pods as data, and a status writer that stores what it is given (as the apiserver and
// the informer cache would), so each tick sees the previous tick's status.

interface Metrics {
  p95?: number;
  util?: number;
  queue?: number;
  throttled?: number;
  throughput?: number;
}
const saturated: Metrics = { p95: 0.03, util: 1, queue: 6, throughput: 200 };

const reader = <T extends Neuron | Hal9Cluster>(items: T[]): ObjectReader<T> => ({
  get: (name, namespace) =>
    items.find((i) => i.metadata?.name === name && (!namespace || i.metadata?.namespace === namespace)),
  list: () => items,
});

const aPod = (
  name: string,
  neuron: string,
  o: { ready?: boolean; uid?: string; restarts?: number } = {},
): V1Pod => ({
  metadata: {
    name,
    namespace: testNamespace,
    uid: o.uid ?? `uid-${name}`,
    labels: { 'hal9.ai/neuron': neuron },
  },
  status: {
    podIP: `10.0.0.${name.length}`,
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    containerStatuses: [
      { name: 'runtime', image: 'hal9', imageID: '', ready: true, restartCount: o.restarts ?? 0 },
    ],
  },
});

// 64 model calls a pod: the tuner's max (32) is not held to the cap (10 by default; model-call-cap.ts).
const tuned = (o: { min?: number; max?: number; url?: string } = {}) =>
  aHal9Cluster({
    performance: { maxConcurrentSignals: 8, maxConcurrentNeurons: 64 },
    monitoring: { scrapeInterval: '5s' },
    autoscaling: {
      metricsSource: 'prometheus',
      parallelism: {
        enabled: true,
        min: o.min ?? 2,
        max: o.max ?? 32,
        latencySLOMs: 50,
        prometheusURL: o.url ?? 'http://prometheus:9090',
      },
    },
  });

interface LogLine {
  level: number;
  msg: string;
  neuron?: string;
  err?: string;
}

function harness(
  opts: {
    cluster?: Hal9Cluster;
    neurons?: Neuron[];
    pods?: V1Pod[];
    authToken?: TunerDeps['authToken'];
    readLoad?: TunerDeps['readLoad'];
    intervalMs?: number;
    /** Record the replica counts written through the scale subresource. */
    recordScales?: boolean;
  } = {},
) {
  const clock = new FakeClock();
  const clusters = [opts.cluster ?? tuned()];
  const neurons = opts.neurons ?? [aNeuron('impl-1', {}, { status: { parallelism: { current: 8 } } })];
  let metrics: Metrics | Error = saturated;
  const queries: string[] = [];
  let gate: Promise<void> | undefined;
  const prom: PrometheusClient = {
    url: 'http://prometheus:9090',
    async query(expr) {
      queries.push(expr);
      await gate;
      if (metrics instanceof Error) throw metrics;
      const m = metrics;
      const v = expr.startsWith('histogram_quantile')
        ? m.p95
        : expr.includes('tasks_active')
          ? m.util
          : expr.includes('queue_depth')
            ? m.queue
            : expr.includes('upstream_requests')
              ? m.throttled
              : m.throughput;
      return v === undefined ? [] : ([{ labels: {}, value: v }] satisfies Sample[]);
    },
  };
  const puts: { url: string; value: number }[] = [];
  const scales: { name: string; replicas: number }[] = [];
  const failing = new Set<string>();
  const hanging = new Set<string>();
  const held: (() => void)[] = [];
  const writes: { name: string; status: NeuronStatus }[] = [];
  /** Set: every status write fails with it (an apiserver out of reach). */
  const statusWrite: { failure?: Error } = {};
  const events: { reason: string; message: string }[] = [];
  const decisions: string[] = [];
  /** hal9_operator_neuron_parallelism as the observer last set it, by Neuron. */
  const parallelism = new Map<string, number>();
  const logs: LogLine[] = [];
  const pods: { list: V1Pod[]; failure?: Error } = {
    list: opts.pods ?? [aPod('impl-1-a-1', 'impl-1'), aPod('impl-1-a-2', 'impl-1')],
  };
  const tuner = startTuner({
    neurons: reader(neurons),
    clusters: reader(clusters),
    listPods: async () => {
      if (pods.failure) throw pods.failure;
      return pods.list;
    },
    podURL: (pod) => `http://${pod.metadata?.name}:8080`,
    prometheus: () => prom,
    setPodLimit: async (url, value) => {
      if (failing.has(url)) throw new OperatorError(OperatorErrorCode.PodTuningFailed, `${url} refused`);
      puts.push({ url, value });
      // A pod that takes the request and does not answer until the test lets it.
      if (hanging.has(url)) await new Promise<void>((r) => held.push(r));
      return value;
    },
    writeStatus: async (_namespace, name, status) => {
      if (statusWrite.failure) throw statusWrite.failure;
      writes.push({ name, status: structuredClone(status) as NeuronStatus });
      const n = neurons.find((x) => x.metadata?.name === name)!;
      const others = (n.status?.conditions ?? []).filter((c) => c.type !== 'ParallelismTuned');
      // As server-side apply does with fields only this manager owned: an empty part removes them.
      const parallelism =
        'parallelism' in status ? status.parallelism : { current: n.status?.parallelism?.current };
      const conditions = 'conditions' in status ? status.conditions : [];
      Object.assign(n, { status: { ...n.status, parallelism, conditions: [...others, ...conditions] } });
      return true;
    },
    events: { record: (_obj, _type, reason, message) => events.push({ reason, message }) },
    ...(opts.authToken ? { authToken: opts.authToken } : {}),
    ...(opts.readLoad ? { readLoad: opts.readLoad } : {}),
    ...(opts.recordScales
      ? {
          scaleNeuron: async (_namespace: string, name: string, replicas: number) => {
            scales.push({ name, replicas });
            return '';
          },
        }
      : {}),
    clock,
    logger: pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
    observer: {
      decided: (r) => decisions.push(r),
      parallelism: (_namespace, neuron, value) => parallelism.set(neuron, value),
      delivered: () => undefined,
    },
    // The loop's own timer stays out of the way unless a test asks for it: the tests call tick().
    options: { intervalMs: opts.intervalMs ?? 3_600_000 },
  });
  return {
    clock,
    tuner,
    neurons,
    clusters,
    pods,
    puts,
    scales,
    failing,
    hanging,
    /** The pods in `hanging` answer the PUTs they hold. */
    answer: () => {
      hanging.clear();
      for (const r of held.splice(0)) r();
    },
    writes,
    statusWrite,
    events,
    decisions,
    parallelism,
    logs,
    queries,
    setMetrics: (m: Metrics | Error) => {
      metrics = m;
    },
    /** Prometheus holds every query until the returned function is called. */
    holdPrometheus: () => {
      let open = () => {};
      gate = new Promise<void>((r) => (open = r));
      return () => {
        gate = undefined;
        open();
      };
    },
    status: (name = 'impl-1') => neurons.find((n) => n.metadata?.name === name)?.status,
  };
}

const tunedCondition = (s: NeuronStatus | undefined) =>
  s?.conditions?.find((c) => c.type === 'ParallelismTuned');

describe('the parallelism tuner', () => {
  it('raises a saturated Neuron, delivers the value to its Ready pods and records the decision', async () => {
    const h = harness({
      pods: [
        aPod('impl-1-a-1', 'impl-1'),
        aPod('impl-1-a-2', 'impl-1', { ready: false }),
        aPod('other-a-1', 'other'),
      ],
    });
    await h.tuner.tick();
    expect(h.puts).toEqual([{ url: 'http://impl-1-a-1:8080', value: 9 }]);
    // Decided; in effect (`current`) once the next pass finds every Ready pod took it.
    expect(h.status()?.parallelism).toEqual({
      current: 8,
      lastDecision: {
        value: 9,
        previous: 8,
        reason: 'Saturated',
        time: new Date(h.clock.now()).toISOString().replace('.000', ''),
        message: expect.stringContaining('slots 100 % busy, queue 6.0'),
      },
    });
    expect(tunedCondition(h.status())).toMatchObject({ status: 'True', reason: 'MetricsAvailable' });
    expect(h.events).toEqual([{ reason: 'Saturated', message: expect.stringContaining('from 8 to 9') }]);
    expect(h.decisions).toEqual(['Saturated']);
    // Windows are four scrape intervals of the Neuron's monitoring spec (5 s → 20 s).
    expect(h.queries.every((q) => /\[20s(:1s)?\]/.test(q))).toBe(true);
    h.clock.advance(2_000);
    await h.tuner.tick();
    expect(h.status()?.parallelism).toMatchObject({ current: 9, lastDecision: { value: 9 } });
    expect(h.parallelism.get('impl-1')).toBe(9);
    expect(h.puts).toHaveLength(1);
  });

  it('writes nothing and sends nothing while the decision holds', async () => {
    const h = harness();
    await h.tuner.tick();
    h.clock.advance(2_000); // the pods took it: in effect
    await h.tuner.tick();
    const [writes, puts] = [h.writes.length, h.puts.length];
    h.clock.advance(10_000); // within the stable window: Cooldown
    await h.tuner.tick();
    h.setMetrics({ ...saturated, util: 0.5, queue: 0 });
    h.clock.advance(10_000);
    await h.tuner.tick();
    expect(h.decisions).toEqual(['Saturated', 'Cooldown', 'Cooldown', 'WithinSLO']);
    expect(h.writes.length).toBe(writes);
    expect(h.puts.length).toBe(puts);
  });

  it('holds the value and says MetricsUnavailable when Prometheus fails, writing that once', async () => {
    const h = harness();
    h.setMetrics(
      new OperatorError(OperatorErrorCode.MetricsUnavailable, 'Prometheus x: unreachable (ECONNREFUSED)'),
    );
    await h.tuner.tick();
    h.clock.advance(10_000);
    await h.tuner.tick();
    expect(h.status()?.parallelism).toEqual({ current: 8 });
    expect(tunedCondition(h.status())).toMatchObject({
      status: 'False',
      reason: 'MetricsUnavailable',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    expect(h.decisions).toEqual(['MetricsUnavailable', 'MetricsUnavailable']);
    expect(h.writes).toHaveLength(1);
    expect(h.events).toEqual([]);
  });

  it('treats an empty result as no data, not as zero', async () => {
    const h = harness();
    h.setMetrics({ p95: 0.01, queue: 0, throughput: 10 }); // utilization: empty vector
    await h.tuner.tick();
    expect(h.status()?.parallelism?.current).toBe(8);
    expect(tunedCondition(h.status())).toMatchObject({ status: 'False', reason: 'NoData' });
    expect(tunedCondition(h.status())?.message).toContain('utilization');
  });

  it('does not rewrite NoData at every pass while only the missing series change (an HA pair answering in turn)', async () => {
    const h = harness();
    const replicaA: Metrics = { p95: 0.01, queue: 0, throughput: 10 }; // no utilization
    const replicaB: Metrics = { util: 0.5 }; // only utilization
    for (let pass = 0; pass < 10; pass++) {
      h.setMetrics(pass % 2 === 0 ? replicaA : replicaB);
      await h.tuner.tick();
      h.clock.advance(2_000);
    }
    expect(tunedCondition(h.status())).toMatchObject({ status: 'False', reason: 'NoData' });
    expect(tunedCondition(h.status())?.message).toContain('utilization');
    expect(h.writes).toHaveLength(1);
    // Five minutes on, the message says what the last pass found.
    h.clock.advance(5 * 60_000);
    h.setMetrics(replicaB);
    await h.tuner.tick();
    expect(h.writes).toHaveLength(2);
    expect(tunedCondition(h.status())?.message).toContain('p95');
    // Data again: written at once.
    h.setMetrics({ p95: 0.01, util: 0.5, queue: 0, throughput: 10 });
    await h.tuner.tick();
    expect(tunedCondition(h.status())).toMatchObject({ status: 'True', reason: 'MetricsAvailable' });
  });

  it('seeds its memory from status.lastDecision, so a restart does not skip the stable window', async () => {
    const clock = new FakeClock();
    const last = { value: 8, reason: 'Saturated', time: new Date(clock.now() - 10_000).toISOString() };
    const h = harness({
      neurons: [aNeuron('impl-1', {}, { status: { parallelism: { current: 8, lastDecision: last } } })],
    });
    await h.tuner.tick();
    expect(h.decisions).toEqual(['Cooldown']);
    expect(h.status()?.parallelism?.current).toBe(8);
  });

  it('moves the value into new bounds even while Prometheus is down', async () => {
    const h = harness({ cluster: tuned({ max: 6 }) });
    h.setMetrics(new Error('down'));
    await h.tuner.tick();
    h.clock.advance(2_000);
    await h.tuner.tick();
    expect(h.status()?.parallelism).toMatchObject({ current: 6, lastDecision: { reason: 'OutOfBounds' } });
    expect(h.puts.map((p) => p.value)).toEqual([6, 6]);
    expect(tunedCondition(h.status())?.reason).toBe('MetricsUnavailable');
  });

  it('retries a pod that refused the value and reaches a pod started later', async () => {
    const h = harness();
    h.failing.add('http://impl-1-a-2:8080');
    await h.tuner.tick();
    expect(h.puts).toEqual([{ url: 'http://impl-1-a-1:8080', value: 9 }]);
    h.failing.clear();
    h.setMetrics({ ...saturated, util: 0.5, queue: 0 });
    h.clock.advance(10_000);
    await h.tuner.tick();
    expect(h.puts.slice(1)).toEqual([{ url: 'http://impl-1-a-2:8080', value: 9 }]);
    // A new pod: reached at the periodic pod resync (every sixth pass), not at every pass.
    h.pods.list = [...h.pods.list, aPod('impl-1-b-3', 'impl-1')];
    for (let i = 0; i < 4; i++) {
      h.clock.advance(10_000);
      await h.tuner.tick();
    }
    expect(h.puts).toHaveLength(3);
    expect(h.puts[2]).toEqual({ url: 'http://impl-1-b-3:8080', value: 9 });
  });

  it('does not hold the pass, or other Neurons, for a pod that does not answer its PUT', async () => {
    const h = harness({
      neurons: [
        aNeuron('impl-1', {}, { status: { parallelism: { current: 8 } } }),
        aNeuron('impl-2', {}, { status: { parallelism: { current: 8 } } }),
      ],
      pods: [aPod('impl-1-a-1', 'impl-1'), aPod('impl-2-b-1', 'impl-2')],
    });
    h.hanging.add('http://impl-1-a-1:8080');
    // The pass ends while that PUT is still open (it used to wait up to its 3 s deadline, at
    // every pass, holding every Neuron's status and scale writes and the next pass).
    await h.tuner.tick();
    expect(h.puts).toEqual([
      { url: 'http://impl-1-a-1:8080', value: 9 },
      { url: 'http://impl-2-b-1:8080', value: 9 },
    ]);
    expect(h.status('impl-1')?.parallelism?.lastDecision?.value).toBe(9);
    expect(h.status('impl-2')?.parallelism?.lastDecision?.value).toBe(9);
    // The next pass sends no second PUT to a pod still holding the first one; the value is in
    // effect where the pods took it.
    h.setMetrics({ ...saturated, util: 0.5, queue: 0 });
    h.clock.advance(10_000);
    await h.tuner.tick();
    expect(h.puts).toHaveLength(2);
    expect(h.status('impl-1')?.parallelism?.current).toBe(8);
    expect(h.status('impl-2')?.parallelism?.current).toBe(9);
    // Once it answers it counts as delivered: nothing more goes to either pod.
    h.answer();
    for (let i = 0; i < 2; i++) {
      h.clock.advance(10_000);
      await h.tuner.tick();
    }
    expect(h.puts).toHaveLength(2);
    expect(h.status('impl-1')?.parallelism?.current).toBe(9);
    await h.tuner.stop();
  });

  it('logs a failing admin token read when it starts, changes and ends, not at every pass', async () => {
    const secret = `Read of Secret ${testNamespace}/admin (spec.adminTokenSecretRef) failed`;
    const refused = `HAL9_ERR_FORBIDDEN: ${secret} (HTTP 403)`;
    const missing = `HAL9_ERR_NOT_FOUND: ${secret} (HTTP 404)`;
    let failure: string | undefined = refused;
    const h = harness({
      authToken: () => {
        if (failure) throw new Error(failure);
        return 'admin-token';
      },
    });
    const pass = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await h.tuner.tick();
        h.clock.advance(2_000);
      }
    };
    const tokenLogs = () =>
      h.logs
        .filter((l) => l.msg.includes('runtime admin token'))
        .map(({ level, msg, neuron, err }) => ({ level, msg, neuron, err }));

    // Every pass retries (the raise to 9 is still owed to the pods), but only the first failure is logged.
    await pass(1);
    h.setMetrics({ ...saturated, util: 0.5, queue: 0 }); // the value holds from here on
    await pass(4);
    expect(h.puts).toEqual([]);
    expect(tokenLogs()).toEqual([
      {
        level: 40,
        msg: 'Cannot read the runtime admin token',
        neuron: `${testNamespace}/impl-1`,
        err: refused,
      },
    ]);
    // A different failure is logged once more.
    failure = missing;
    await pass(5);
    expect(tokenLogs()).toHaveLength(2);
    expect(tokenLogs()[1]).toMatchObject({ level: 40, err: missing });
    // The recovery is logged once, at info, and the owed value reaches the pods.
    failure = undefined;
    await pass(5);
    expect(tokenLogs().slice(2)).toEqual([
      {
        level: 30,
        msg: 'Read the runtime admin token again',
        neuron: `${testNamespace}/impl-1`,
        err: undefined,
      },
    ]);
    expect(h.puts).toEqual([
      { url: 'http://impl-1-a-1:8080', value: 9 },
      { url: 'http://impl-1-a-2:8080', value: 9 },
    ]);
    // A failure that starts again is logged again.
    failure = refused;
    await pass(6); // the sixth pass delivers to every pod, so the token is read
    expect(tokenLogs()).toHaveLength(4);
    expect(tokenLogs()[3]).toMatchObject({ level: 40, err: refused });
  });

  it('waits for the PUTs still open when it stops', async () => {
    const h = harness();
    h.hanging.add('http://impl-1-a-1:8080');
    await h.tuner.tick();
    let stopped = false;
    const stopping = h.tuner.stop().then(() => {
      stopped = true;
    });
    await Promise.resolve();
    expect(stopped).toBe(false);
    h.answer();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('leaves Neurons without parallelism tuning alone', async () => {
    const h = harness({ cluster: aHal9Cluster({}) });
    await h.tuner.tick();
    expect(h.queries).toEqual([]);
    expect(h.writes).toEqual([]);
    expect(h.puts).toEqual([]);
  });

  it('clears its status part once tuning is turned off, and only once', async () => {
    const h = harness();
    await h.tuner.tick();
    await h.tuner.tick();
    expect(h.status()?.parallelism).toMatchObject({ current: 9, lastDecision: { value: 9 } });
    h.clusters[0] = aHal9Cluster({});
    await h.tuner.tick();
    await h.tuner.tick();
    expect(h.writes.map((w) => w.status)).toEqual([
      expect.objectContaining({ parallelism: expect.anything() }),
      expect.objectContaining({ parallelism: expect.anything() }),
      {},
    ]);
    expect(h.status()?.parallelism).toEqual({ current: 9 });
    expect(tunedCondition(h.status())).toBeUndefined();
  });

  it('says where to configure Prometheus when no URL is set', async () => {
    const cluster = tuned({ url: '' });
    const h = harness({ cluster });
    await h.tuner.tick();
    expect(tunedCondition(h.status())).toMatchObject({
      reason: 'MetricsUnavailable',
      message: expect.stringContaining('--prometheus-url'),
    });
  });

  it('does not raise on a value its pods refused, and says so in the condition', async () => {
    const h = harness();
    h.failing.add('http://impl-1-a-2:8080');
    // Pass 1 raises 8 → 9; one pod refuses it. The pods still report saturation at their old
    // limit, so every later pass would raise again on a value that pod never took.
    for (let i = 0; i < 6; i++) {
      await h.tuner.tick();
      h.clock.advance(40_000); // past every window: only the refusal holds a raise
    }
    // Decided, not in effect: status and the metric keep the value every pod took.
    expect(h.status()?.parallelism).toMatchObject({ current: 8, lastDecision: { value: 9 } });
    expect(h.parallelism.get('impl-1')).toBe(8);
    expect(h.decisions).toEqual(['Saturated', ...Array(5).fill('Undelivered')]);
    expect(tunedCondition(h.status())).toMatchObject({
      status: 'False',
      reason: 'DeliveryFailed',
      message:
        '1 pod did not take max_concurrent_signals 9 (impl-1-a-2: HAL9_ERR_POD_TUNING_FAILED: http://impl-1-a-2:8080 refused); raises wait until they take it',
    });
    // One warning for the pod, not one a pass.
    expect(h.logs.filter((l) => l.msg === 'Failed to set pod parallelism')).toHaveLength(1);
    // The pod takes the value (sent again once its backoff passed): the condition clears and raises resume.
    h.failing.clear();
    h.clock.advance(REFUSED_BACKOFF_MAX_MS);
    await h.tuner.tick();
    h.clock.advance(40_000);
    await h.tuner.tick();
    expect(h.logs.filter((l) => l.msg === 'Pod took the parallelism value again')).toHaveLength(1);
    expect(h.puts[1]).toEqual({ url: 'http://impl-1-a-2:8080', value: 9 });
    expect(h.decisions.at(-1)).toBe('Saturated');
    // Both pods took 9, which is now in effect; the raise past it is on its way.
    expect(h.status()?.parallelism).toMatchObject({ current: 9, lastDecision: { value: 11 } });
    expect(h.parallelism.get('impl-1')).toBe(9);
    expect(tunedCondition(h.status())).toMatchObject({ status: 'True', reason: 'MetricsAvailable' });
  });

  describe('at a failover, from the status its predecessor left', () => {
    const refuse = (h: ReturnType<typeof harness>) => {
      h.setMetrics(new Error('Prometheus x: unreachable (ECONNREFUSED)'));
      for (const pod of ['impl-1-a-1', 'impl-1-a-2']) h.failing.add(`http://${pod}:8080`);
    };
    const passes = async (h: ReturnType<typeof harness>, n: number) => {
      for (let i = 0; i < n; i++) {
        await h.tuner.tick();
        h.clock.advance(2_000);
      }
      await h.tuner.stop();
    };
    /** The Neurons as a first leader left them: both pods refuse 8, and the condition says so. */
    const predecessor = async () => {
      const first = harness();
      refuse(first);
      await passes(first, 3);
      expect(tunedCondition(first.status())?.message).toContain(
        '2 pods did not take max_concurrent_signals 8',
      );
      return first;
    };

    it('writes nothing while its pods still refuse the value, as the live condition says', async () => {
      const first = await predecessor();
      // The new leader's memory knows no PUT's answer yet: its first pass wrote the condition without
      // the refusals, and the next one put them back (two writes a Neuron, for nothing that changed).
      const next = harness({ neurons: structuredClone(first.neurons) });
      refuse(next);
      await passes(next, 3);
      expect(next.writes).toEqual([]);
      expect(next.status()).toEqual(first.status());
    });

    it('delivers the cut its predecessor decided, not the older value some pods still ran', async () => {
      const first = harness();
      await first.tuner.tick(); // saturated: 8 → 9
      first.clock.advance(2_000);
      await first.tuner.tick(); // both pods took 9
      first.failing.add('http://impl-1-a-2:8080');
      first.setMetrics({ ...saturated, p95: 0.2 });
      first.clock.advance(20_000);
      await first.tuner.tick(); // back to 8: a-1 takes it, a-2 refuses
      first.clock.advance(2_000);
      await first.tuner.tick();
      await first.tuner.stop();
      expect(first.status()?.parallelism).toMatchObject({ current: 9, lastDecision: { value: 8 } });
      // A new leader, the pod answering again and the load calm: 8 goes to the pods, 9 to none.
      const next = harness({ neurons: structuredClone(first.neurons) });
      next.clock.advance(first.clock.now() - next.clock.now());
      next.setMetrics({ p95: 0.01, util: 0.5, queue: 0, throughput: 200 });
      for (let i = 0; i < 3; i++) {
        await next.tuner.tick();
        next.clock.advance(2_000);
      }
      await next.tuner.stop();
      expect(next.puts.map((p) => p.value)).toEqual([8, 8]);
      expect(next.status()?.parallelism?.current).toBe(8);
    });

    it('sends a value it decided to the pods only once status records it: a successor never sends an older one back', async () => {
      const first = harness();
      // Cut off from the apiserver (still reaching the pods): the raise 8 → 9 cannot be recorded.
      first.statusWrite.failure = new Error('apiserver unreachable');
      for (let i = 0; i < 3; i++) {
        await first.tuner.tick();
        first.clock.advance(40_000); // past every window: only the unrecorded value holds a raise
      }
      // No raise on the pods' figures at 8 while 9 waits: it would climb on a value no pod runs.
      expect(first.decisions).toEqual(['Saturated', 'Undelivered', 'Undelivered']);
      expect(first.puts.map((p) => p.value)).not.toContain(9);
      expect(first.logs.filter((l) => l.msg === 'Failed to update Neuron autoscaling status')).toHaveLength(
        3,
      );
      // A successor now would start from status (8) and find the pods at 8: nothing to undo.
      expect(first.status()?.parallelism?.lastDecision?.value).toBeUndefined();
      // The apiserver answers again: status records 9, and the pods get it in the same pass.
      delete first.statusWrite.failure;
      await first.tuner.tick();
      expect(first.status()?.parallelism?.lastDecision?.value).toBe(9);
      expect(first.puts.filter((p) => p.value === 9).map((p) => p.url)).toEqual([
        'http://impl-1-a-1:8080',
        'http://impl-1-a-2:8080',
      ]);
      first.clock.advance(2_000);
      await first.tuner.tick();
      await first.tuner.stop();
      expect(first.status()?.parallelism?.current).toBe(9);
    });

    it('keeps the live condition while its first decision waits to be recorded and sent: no True in between', async () => {
      const first = await predecessor();
      const next = harness({ neurons: structuredClone(first.neurons) });
      for (const pod of ['impl-1-a-1', 'impl-1-a-2']) next.failing.add(`http://${pod}:8080`);
      // Latency above the SLO: the first pass cuts, a value that waits for its status write.
      next.setMetrics({ ...saturated, p95: 0.2 });
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        await next.tuner.tick();
        next.clock.advance(2_000);
        const c = tunedCondition(next.status());
        seen.push(`${c?.status} ${c?.reason}`);
      }
      await next.tuner.stop();
      expect(next.decisions[0]).toBe('LatencyAboveSLO');
      expect(seen).not.toContain('True MetricsAvailable');
      expect(seen.at(-1)).toBe('False DeliveryFailed');
    });

    it('keeps the ceiling its predecessor found: a saturated Neuron is not raised into it again', async () => {
      const first = harness();
      await first.tuner.tick(); // saturated: 8 → 9
      first.clock.advance(2_000);
      await first.tuner.tick(); // the pods took 9
      first.setMetrics({ ...saturated, p95: 0.2 });
      first.clock.advance(20_000);
      await first.tuner.tick(); // 9 broke the SLO within a stable window: back to 8, and 9 is a ceiling
      const time = new Date(first.clock.now()).toISOString().replace('.000', '');
      first.setMetrics(saturated);
      first.clock.advance(2_000);
      await first.tuner.tick(); // the pods take 8
      first.clock.advance(2_000);
      await first.tuner.tick(); // 8 in effect
      await first.tuner.stop();
      expect(first.status()?.parallelism).toMatchObject({
        current: 8,
        lastDecision: { value: 8, previous: 9, reason: 'LatencyAboveSLO' },
        ceiling: { value: 9, time },
      });
      // A new leader, the load saturating 8 again: it stays at 8 for five stable windows, where a
      // leader that forgot the ceiling probed 9 again.
      const next = harness({ neurons: structuredClone(first.neurons) });
      next.clock.advance(first.clock.now() - next.clock.now());
      for (let i = 0; i < 20; i++) {
        await next.tuner.tick();
        next.clock.advance(5_000);
      }
      await next.tuner.stop();
      expect(next.puts.map((p) => p.value)).not.toContain(9);
      expect(next.status()?.parallelism?.current).toBe(8);
    });

    it('writes once what differs once its pods answered: here, that they took the value', async () => {
      const first = await predecessor();
      const next = harness({ neurons: structuredClone(first.neurons) });
      next.setMetrics(new Error('Prometheus x: unreachable (ECONNREFUSED)'));
      await passes(next, 3);
      expect(next.writes).toHaveLength(1);
      expect(tunedCondition(next.status())).toMatchObject({
        reason: 'MetricsUnavailable',
        message: 'Prometheus x: unreachable (ECONNREFUSED)',
      });
    });
  });

  it('does not raise while the pods cannot be listed (the value sent nowhere), and says so', async () => {
    const h = harness();
    h.pods.failure = new Error('the runtime pod cache has not synced');
    // Saturated at 8 on every pass; the raise to 9 cannot be sent, so a second raise would climb on
    // a value no pod runs (and the pods would later jump to it in one step).
    for (let i = 0; i < 5; i++) {
      await h.tuner.tick();
      h.clock.advance(40_000);
    }
    // Not even the first raise: nothing the tuner decides can reach the pods.
    expect(h.puts).toEqual([]);
    expect(h.status()?.parallelism).toEqual({ current: 8 });
    expect(h.decisions).toEqual(Array(5).fill('Undelivered'));
    expect(tunedCondition(h.status())).toMatchObject({
      status: 'False',
      reason: 'DeliveryFailed',
      message:
        'the runtime pods could not be listed (the runtime pod cache has not synced); raises wait until they take it',
    });
    // Listed again: 9 goes out, is in effect on the next pass, and raises resume from it.
    h.pods.failure = undefined;
    await h.tuner.tick();
    h.clock.advance(40_000);
    await h.tuner.tick();
    expect(h.puts.map((p) => p.value)).toEqual([9, 9, 11, 11]);
    expect(h.status()?.parallelism).toMatchObject({ current: 9, lastDecision: { value: 11 } });
    expect(tunedCondition(h.status())).toMatchObject({ status: 'True', reason: 'MetricsAvailable' });
  });

  it('reports as in effect only a value every Ready pod took: not one they refused', async () => {
    // Both pods answer the PUT 401 (an admin token they do not accept).
    const h = harness();
    for (const pod of ['impl-1-a-1', 'impl-1-a-2']) h.failing.add(`http://${pod}:8080`);
    for (let i = 0; i < 3; i++) {
      await h.tuner.tick();
      h.clock.advance(2_000);
    }
    expect(h.status()?.parallelism).toMatchObject({ current: 8, lastDecision: { value: 9 } });
    expect(h.parallelism.get('impl-1')).toBe(8);
    // A cut they refuse is not in effect either: they still run 8.
    h.setMetrics({ ...saturated, p95: 0.2 });
    h.clock.advance(20_000);
    await h.tuner.tick();
    h.clock.advance(2_000);
    await h.tuner.tick();
    expect(h.status()?.parallelism?.lastDecision).toMatchObject({ reason: 'LatencyAboveSLO' });
    expect(h.status()?.parallelism?.current).toBe(8);
    // Taken, it is.
    h.failing.clear();
    h.setMetrics({ ...saturated, util: 0.5, queue: 0 });
    for (let i = 0; i < 2; i++) {
      h.clock.advance(2_000);
      await h.tuner.tick();
    }
    const decided = h.status()?.parallelism?.lastDecision?.value;
    expect(h.status()?.parallelism?.current).toBe(decided);
    expect(h.parallelism.get('impl-1')).toBe(decided);
  });

  it('delivers the value again to a pod whose container restarted', async () => {
    const h = harness({ pods: [aPod('impl-1-a-1', 'impl-1')] });
    await h.tuner.tick();
    expect(h.puts).toEqual([{ url: 'http://impl-1-a-1:8080', value: 9 }]);
    h.setMetrics({ ...saturated, util: 0.5, queue: 0 });
    // Same pod, a new process: it started from the ConfigMap, which may still say 8.
    h.pods.list = [aPod('impl-1-a-1', 'impl-1', { restarts: 1 })];
    for (let i = 0; i < 6; i++) {
      h.clock.advance(2_000);
      await h.tuner.tick();
    }
    expect(h.puts).toEqual([
      { url: 'http://impl-1-a-1:8080', value: 9 },
      { url: 'http://impl-1-a-1:8080', value: 9 },
    ]);
  });

  it('reads each Neuron once a pass and stops asking a Prometheus server that cannot be reached, whatever the path', async () => {
    // Each Neuron names its own path on the one server: the URLs are custom resources', and a
    // server that does not answer is known down for the pass by its origin, not per URL.
    const names = Array.from({ length: 24 }, (_, i) => `impl-${i + 1}`);
    const h = harness({
      neurons: names.map((n) =>
        aNeuron(
          n,
          { autoscaling: { parallelism: { prometheusURL: `http://prometheus:9090/${n}` } } },
          { status: { parallelism: { current: 8 } } },
        ),
      ),
      pods: [],
    });
    h.setMetrics(
      new OperatorError(
        OperatorErrorCode.MetricsUnavailable,
        'Prometheus x: unreachable (no answer within 5000 ms)',
      ),
    );
    await h.tuner.tick();
    // Sixteen Neurons at a time; each asked its seven queries once (not once for parallelism and
    // again for replicas), and once those failed the other eight were told the same without a query.
    expect(h.queries).toHaveLength(16 * 7);
    for (const n of names)
      expect(tunedCondition(h.status(n))).toMatchObject({
        reason: 'MetricsUnavailable',
        message: expect.stringContaining('no answer within 5000 ms'),
      });
    // A query Prometheus answered with an error is about that query: the others still ask.
    h.queries.length = 0;
    h.setMetrics(
      new OperatorError(OperatorErrorCode.MetricsUnavailable, 'Prometheus x: query failed (HTTP 400)', {
        status: 400,
      }),
    );
    h.clock.advance(2_000);
    await h.tuner.tick();
    expect(h.queries).toHaveLength(24 * 7);
  });

  it('leaves alone a Neuron deleted while an earlier pass still waits on Prometheus for it', async () => {
    // Seventeen Neurons: sixteen read at a time, so n-16 waits its turn behind the held reads.
    const names = Array.from({ length: 17 }, (_, i) => `n-${i}`);
    const h = harness({
      neurons: names.map((n) => aNeuron(n, {}, { status: { parallelism: { current: 8 } } })),
      pods: [],
    });
    const open = h.holdPrometheus();
    const first = h.tuner.tick();
    await vi.waitFor(() => expect(h.queries).toHaveLength(16 * 7));
    // n-0 (its read in flight) and n-16 (not started) are deleted; the next pass forgets them.
    h.neurons.splice(16, 1);
    h.neurons.splice(0, 1);
    h.clock.advance(2_000);
    const second = h.tuner.tick();
    open();
    await expect(first).resolves.toBeUndefined();
    await second;
    expect(h.logs.filter((l) => l.msg === 'Autoscaling pass failed')).toEqual([]);
    const written = new Set(h.writes.map((w) => w.name));
    expect(written.has('n-0')).toBe(false);
    expect(written.has('n-16')).toBe(false);
    expect(written.size).toBe(15);
  });

  it('does not hold pod-sourced Neurons behind a Prometheus that is slow to answer', async () => {
    const h = harness({
      neurons: [
        aNeuron('impl-1', {}, { status: { parallelism: { current: 8 } } }),
        aNeuron(
          'impl-2',
          { autoscaling: { metricsSource: 'pods' } },
          { status: { parallelism: { current: 8 } } },
        ),
      ],
      pods: [aPod('impl-1-a-1', 'impl-1'), aPod('impl-2-b-1', 'impl-2')],
      readLoad: async () => {
        throw new OperatorError(OperatorErrorCode.PodTuningFailed, 'GET /v1/admin/load: HTTP 503');
      },
    });
    const open = h.holdPrometheus();
    const pass = h.tuner.tick();
    await vi.waitFor(() => expect(tunedCondition(h.status('impl-2'))?.reason).toBe('MetricsUnavailable'));
    expect(h.status('impl-1')?.conditions ?? []).toEqual([]);
    open();
    await pass;
    expect(tunedCondition(h.status('impl-1'))?.reason).toBe('MetricsAvailable');
  });

  it('keeps pod-sourced Neurons to their interval while Prometheus has not answered an earlier pass', async () => {
    let reads = 0;
    const h = harness({
      neurons: [
        aNeuron('impl-1', {}, { status: { parallelism: { current: 8 } } }),
        aNeuron(
          'impl-2',
          { autoscaling: { metricsSource: 'pods' } },
          { status: { parallelism: { current: 8 } } },
        ),
      ],
      pods: [aPod('impl-1-a-1', 'impl-1'), aPod('impl-2-b-1', 'impl-2')],
      readLoad: async () => {
        reads++;
        throw new OperatorError(OperatorErrorCode.PodTuningFailed, 'GET /v1/admin/load: HTTP 503');
      },
      intervalMs: 2_000,
    });
    // A Prometheus that does not answer (a read waits up to its timeout, 5 s by default).
    const open = h.holdPrometheus();
    for (let pass = 1; pass <= 3; pass++) {
      h.clock.advance(2_000);
      await vi.waitFor(() => expect(reads).toBe(pass));
      // The next pass is due an interval after this one's pod-sourced Neurons, not after Prometheus.
      await vi.waitFor(() => expect(h.clock.pending()).toBe(1));
    }
    expect(tunedCondition(h.status('impl-2'))?.reason).toBe('MetricsUnavailable');
    // The Prometheus-sourced Neuron was asked once: the later passes leave it to the first.
    expect(h.queries).toHaveLength(7);
    expect(h.status('impl-1')?.conditions ?? []).toEqual([]);
    open();
    await vi.waitFor(() => expect(tunedCondition(h.status('impl-1'))?.reason).toBe('MetricsAvailable'));
    // Answered, it is asked again at the next pass.
    h.clock.advance(2_000);
    await vi.waitFor(() => expect(h.queries).toHaveLength(14));
    await h.tuner.stop();
  });

  it('quotes the same pod error whatever order the load reads end in', async () => {
    let round = 0;
    const h = harness({
      cluster: aHal9Cluster({
        autoscaling: {
          metricsSource: 'pods',
          parallelism: { enabled: true, min: 2, max: 32, latencySLOMs: 50 },
        },
      }),
      readLoad: async (url) => {
        // The two pods fail in alternating order from pass to pass.
        const first = round % 2 === 0 ? 'a-1' : 'a-2';
        if (!url.includes(first)) await new Promise((r) => setTimeout(r, 5));
        throw new OperatorError(OperatorErrorCode.PodTuningFailed, `${url}: refused`);
      },
    });
    for (; round < 4; round++) {
      await h.tuner.tick();
      h.clock.advance(2_000);
    }
    expect(tunedCondition(h.status())?.message).toContain('impl-1-a-1');
    expect(h.writes).toHaveLength(1);
  });

  it('logs a pod whose load report fails once per error, and once when it reads again', async () => {
    const pod = aLivePod('impl-1', 1_700_000_000_000);
    let error: string | undefined = 'GET /v1/admin/load: the answer is not JSON';
    const h = harness({
      cluster: aHal9Cluster({ autoscaling: { metricsSource: 'pods', parallelism: { enabled: true } } }),
      readLoad: async (url) => {
        if (url.includes('a-2') && error) throw new OperatorError(OperatorErrorCode.PodTuningFailed, error);
        return pod.report(h.clock.now());
      },
    });
    const said = () =>
      h.logs.filter((l) => /load report/.test(l.msg)).map((l) => `${l.level} ${l.msg} ${l.err ?? ''}`.trim());
    for (let i = 0; i < 3; i++) {
      await h.tuner.tick();
      h.clock.advance(2_000);
    }
    error = 'GET /v1/admin/load: HTTP 500';
    await h.tuner.tick();
    h.clock.advance(2_000);
    error = undefined;
    await h.tuner.tick();
    await h.tuner.tick();
    expect(said()).toEqual([
      '40 Failed to read the pod’s load report HAL9_ERR_POD_TUNING_FAILED: GET /v1/admin/load: the answer is not JSON',
      '40 Failed to read the pod’s load report HAL9_ERR_POD_TUNING_FAILED: GET /v1/admin/load: HTTP 500',
      '30 Read the pod’s load report again',
    ]);
  });

  it("puts the spec's limit back on the pods when tuning is turned off, before it clears its status", async () => {
    const h = harness();
    await h.tuner.tick();
    expect(h.puts.map((p) => p.value)).toEqual([9, 9]);
    h.clusters[0] = aHal9Cluster({ performance: { maxConcurrentSignals: 8 } });
    h.failing.add('http://impl-1-a-2:8080');
    await h.tuner.tick();
    // One pod refused: the status stays, so the next pass tries again.
    expect(h.puts.slice(2)).toEqual([{ url: 'http://impl-1-a-1:8080', value: 8 }]);
    expect(h.writes).toHaveLength(1);
    h.failing.clear();
    // Sent again once its backoff passed.
    h.clock.advance(2_000);
    await h.tuner.tick();
    await h.tuner.tick();
    expect(h.puts.slice(3)).toEqual([{ url: 'http://impl-1-a-2:8080', value: 8 }]);
    expect(h.writes.map((w) => w.status)).toEqual([
      expect.objectContaining({ parallelism: expect.anything() }),
      {},
    ]);
  });

  it("does not hold the pass for a pod that does not answer the spec's limit being put back", async () => {
    const h = harness({
      neurons: [
        // Tuned before (its last decision in status), its cluster's tuning now off.
        aNeuron(
          'impl-1',
          { cluster: 'off' },
          {
            status: {
              parallelism: {
                current: 9,
                lastDecision: { value: 9, reason: 'Saturated', time: '2026-12-05T10:00:00Z' },
              },
            },
          },
        ),
        aNeuron('impl-2', {}, { status: { parallelism: { current: 8 } } }),
      ],
      pods: [aPod('impl-1-a-1', 'impl-1'), aPod('impl-2-b-1', 'impl-2')],
    });
    h.clusters.push(aHal9Cluster({ performance: { maxConcurrentSignals: 8 } }, 'off'));
    h.hanging.add('http://impl-1-a-1:8080');
    // The pass ends with that PUT still open, and the tuned Neuron was decided in it.
    await h.tuner.tick();
    expect(h.puts).toContainEqual({ url: 'http://impl-1-a-1:8080', value: 8 });
    expect(h.status('impl-2')?.parallelism?.lastDecision?.value).toBe(9);
    // Its status is cleared on the pass after the pod took the value, not before.
    expect(h.writes.filter((w) => w.name === 'impl-1')).toEqual([]);
    h.answer();
    await h.tuner.tick();
    await h.tuner.tick();
    expect(h.writes.filter((w) => w.name === 'impl-1').map((w) => w.status)).toEqual([{}]);
    await h.tuner.stop();
  });

  it("puts the spec's limit back when parallelism tuning is turned off but replicas stay autoscaled", async () => {
    const h = harness();
    await h.tuner.tick();
    expect(h.puts.map((p) => p.value)).toEqual([9, 9]);
    h.clusters[0] = aHal9Cluster({
      performance: { maxConcurrentSignals: 8 },
      autoscaling: { enabled: true, mode: 'operator', metricsSource: 'prometheus' },
    });
    await h.tuner.tick();
    expect(h.puts.slice(2).map((p) => p.value)).toEqual([8, 8]);
  });

  /**
   * Parallelism tuning turned off (replicas stay autoscaled), the spec's limit reported by the
   * reconciler, then tuning turned back on with load that calls for no change. `off` runs once the
   * off pass did.
   */
  const offThenOn = async (h: ReturnType<typeof harness>, off: () => void = () => undefined) => {
    const replicasOnly = {
      performance: { maxConcurrentSignals: 8 },
      autoscaling: { enabled: true, mode: 'operator', metricsSource: 'prometheus' },
    } as const;
    h.clusters[0] = aHal9Cluster(replicasOnly);
    h.clock.advance(60_000);
    await h.tuner.tick();
    off();
    // The reconciler reports the spec's limit the pods now run.
    Object.assign(h.status()!, { parallelism: { current: 8 } });
    h.clusters[0] = aHal9Cluster({
      ...replicasOnly,
      autoscaling: { ...replicasOnly.autoscaling, parallelism: tuned().spec!.autoscaling!.parallelism },
    });
    h.setMetrics({ ...saturated, util: 0.5, queue: 0 });
    h.clock.advance(60_000);
    await h.tuner.tick();
  };

  it('starts over when parallelism tuning is turned back on while replicas stayed autoscaled', async () => {
    const h = harness();
    await h.tuner.tick();
    await h.tuner.tick();
    expect(h.status()?.parallelism).toMatchObject({ current: 9, lastDecision: { value: 9 } });
    await offThenOn(h, () => expect(h.puts.slice(2).map((p) => p.value)).toEqual([8, 8]));
    // Neither the value nor the decision from before it was turned off comes back.
    expect(h.status()?.parallelism).toEqual({ current: 8 });
    expect(h.puts).toHaveLength(4);
    expect(h.decisions.at(-1)).toBe('WithinSLO');
  });

  it('starts over from the spec, not the value tuned before, when tuning is turned back on with no Ready pods', async () => {
    const h = harness({ pods: [] });
    await h.tuner.tick();
    h.clock.advance(60_000);
    await h.tuner.tick();
    expect(h.status()?.parallelism?.current).toBeGreaterThan(8);
    await offThenOn(h);
    expect(h.status()?.parallelism).toEqual({ current: 8 });
    expect(h.parallelism.get('impl-1')).toBe(8);
  });

  describe('a Neuron that changes while its Prometheus read is in flight', () => {
    // The pass's read is held; the change reaches the cache; the read answers (saturated load).
    const changedDuringRead = async (h: ReturnType<typeof harness>, change: () => void) => {
      const open = h.holdPrometheus();
      const pass = h.tuner.tick();
      await vi.waitFor(() => expect(h.queries).toHaveLength(7));
      change();
      open();
      await pass;
    };
    const pause = (n: Neuron) =>
      Object.assign(n, { metadata: { ...n.metadata, annotations: { 'hal9.ai/paused': 'true' } } });
    const replicasFromPrometheus = (parallelism: boolean, mode: 'operator' | 'hpa' = 'operator') =>
      aHal9Cluster({
        performance: { maxConcurrentSignals: 8, maxConcurrentNeurons: 64 },
        monitoring: { scrapeInterval: '5s' },
        autoscaling: {
          enabled: true,
          mode,
          minReplicas: 1,
          maxReplicas: 20,
          metricsSource: 'prometheus',
          parallelism: { ...tuned().spec!.autoscaling!.parallelism, enabled: parallelism },
        },
      });

    it('decides nothing for a Neuron paused meanwhile: no value, Event, status or decision', async () => {
      const h = harness();
      await changedDuringRead(h, () => pause(h.neurons[0]!));
      expect({ puts: h.puts, writes: h.writes, events: h.events, decisions: h.decisions }).toEqual({
        puts: [],
        writes: [],
        events: [],
        decisions: [],
      });
    });

    it('scales no replicas of a Neuron paused meanwhile, with parallelism tuning off', async () => {
      const h = harness({
        cluster: replicasFromPrometheus(false),
        neurons: [aNeuron('impl-1', { replicas: 2 })],
        recordScales: true,
      });
      await changedDuringRead(h, () => pause(h.neurons[0]!));
      expect({ scales: h.scales, writes: h.writes, events: h.events }).toEqual({
        scales: [],
        writes: [],
        events: [],
      });
    });

    it('takes no replicas back from the HPA its cluster was switched to meanwhile', async () => {
      const h = harness({
        cluster: replicasFromPrometheus(true),
        neurons: [aNeuron('impl-1', { replicas: 2 }, { status: { parallelism: { current: 8 } } })],
        recordScales: true,
      });
      await changedDuringRead(h, () => {
        h.clusters[0] = replicasFromPrometheus(true, 'hpa');
      });
      expect(h.scales).toEqual([]);
      // Without the switch, the same pass scales it.
      const control = harness({
        cluster: replicasFromPrometheus(true),
        neurons: [aNeuron('impl-1', { replicas: 2 }, { status: { parallelism: { current: 8 } } })],
        recordScales: true,
      });
      await changedDuringRead(control, () => undefined);
      expect(control.scales.map((x) => x.name)).toEqual(['impl-1']);
    });

    it('decides within the bounds set meanwhile', async () => {
      const h = harness();
      await changedDuringRead(h, () => {
        h.clusters[0] = tuned({ max: 4 });
      });
      expect(h.puts.length).toBeGreaterThan(0);
      for (const p of h.puts) expect(p.value).toBeLessThanOrEqual(4);
      expect(h.status()?.parallelism?.lastDecision).toMatchObject({ value: 4, reason: 'OutOfBounds' });
      expect(tunedCondition(h.status())?.message).toContain('within [2, 4]');
    });
  });

  it('stops its loop', async () => {
    const h = harness();
    h.clock.advance(3_600_000);
    await h.tuner.stop();
    expect(h.decisions).toEqual(['Saturated']);
    expect(h.clock.pending()).toBe(0);
  });
});
