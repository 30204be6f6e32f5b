import { waitFor } from '@hal9/test';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type RunningPrometheus, startPrometheus } from '../../monitoring/test/support/prometheus.ts';
import { type RunningRuntime, startRuntime } from '../../monitoring/test/support/runtime-process.ts';
import { fieldManager, type Neuron } from '../src/api-types.ts';
import { parseConfig } from '../src/config.ts';
import { systemClock } from '../src/controller/clock.ts';
import { ownsField } from '../src/kube/managed-fields.ts';
import { type RunningOperator, startOperator } from '../src/operator.ts';
import { renderNeuron } from '../src/render/index.ts';
import { tunerFieldManager } from '../src/tuning/status-writer.ts';
import { aCluster, aNeuron } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition, waitForNeuronReady } from './support/reads.ts';

// The parallelism tuner end to end on real parts: the local control plane (the Neuron's Deployment
// and its kwok pods), two real runtime processes on loopback standing in for those pods (started
// from the ConfigMap the operator rendered), a real Prometheus scraping them with the pods'
// namespace/pod target labels, and load that saturates the executor slots.

// The namespace only: this operator is started below, with the tuner's way to reach the pods.
const space = useOperatorNamespace('tuning', { operator: false });
const { kc, reads: r, apply } = space;
const NEURON = 'impl-1';
// The caller-visible p95 (queue wait included): 12 quick signals in flight over 4 slots give about
// 240 ms, within 80 % of the SLO; slow answers with their queue wait break it.
const SLO_MS = 500;
let operator: RunningOperator | undefined;
let registry: Registry;
let prometheus: RunningPrometheus | undefined;
const runtimes: RunningRuntime[] = [];
/** kwok pod name → loopback runtime URL: where the tuner "reaches" each pod. */
const podURLs = new Map<string, string>();

const clusterSpec = (prometheusURL?: string) => ({
  performance: { maxConcurrentSignals: 4, maxConcurrentNeurons: 64 },
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  monitoring: { scrapeInterval: '1s' },
  claude: {
    mode: 'mock',
    mockResponses: {
      // Latency is chosen by the content: 40 ms answers stay within the SLO even queued, 400 ms ones break it.
      L2: [
        { trigger: 'slow', response: 'RESULT: slow answer', delayMs: 400 },
        { trigger: 'default', response: 'RESULT: quick answer', delayMs: 40 },
      ],
    },
  },
  autoscaling: {
    metricsSource: 'prometheus',
    parallelism: {
      enabled: true,
      min: 2,
      max: 16,
      latencySLOMs: SLO_MS,
      ...(prometheusURL ? { prometheusURL } : {}),
    },
  },
});

const currentPath = ['status', 'parallelism', 'current'];
/** Field managers that own status.parallelism.current (writes through /status), sorted. */
const parallelismOwners = (n: Neuron | undefined) =>
  (n?.metadata?.managedFields ?? [])
    .filter((e) => ownsField({ metadata: { managedFields: [e] } }, e.manager ?? '', currentPath, 'status'))
    .map((e) => e.manager ?? '')
    .sort();

const limitOf = async (rt: RunningRuntime) =>
  ((await (await fetch(`${rt.url}/v1/admin/performance`)).json()) as { max_concurrent_signals: number })
    .max_concurrent_signals;

const decisions = async (reason: string) =>
  (await registry.getSingleMetric('hal9_operator_parallelism_decisions_total')?.get())?.values.find(
    (v) => v.labels.reason === reason,
  )?.value ?? 0;

/** Closed-loop load on every runtime until stopped (bounded in requests and time). */
function startLoad(content: string, workersPerRuntime: number) {
  let stopped = false;
  let sent = 0;
  const deadline = Date.now() + 90_000;
  const worker = async (rt: RunningRuntime) => {
    while (!stopped && sent < 50_000 && Date.now() < deadline) {
      const i = sent++;
      try {
        const res = await fetch(`${rt.url}/v1/signals`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: `${content} ${i}` }),
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
      } catch {
        // a refused or timed-out request only lowers the load
      }
    }
  };
  const done = Promise.all(
    runtimes.flatMap((rt) => Array.from({ length: workersPerRuntime }, () => worker(rt))),
  );
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

beforeAll(async () => {
  const parsed = parseConfig(
    [
      ...['--namespace', space.name, '--metrics-port', '0', '--health-port', '0'],
      ...['--tuning-interval', '1', '--tuning-window', '5', '--pod-cidrs', '127.0.0.0/8'],
    ],
    {},
  );
  if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
  registry = new Registry();
  operator = await startOperator({
    kc,
    config: parsed.config,
    registry,
    logger: pino({ level: process.env.HAL9_TEST_LOG ?? 'silent' }),
    clock: systemClock,
    render: renderNeuron,
    tuning: { podURL: (pod: V1Pod) => podURLs.get(pod.metadata?.name ?? '') },
  });
  return async () => {
    await operator?.stop();
    await prometheus?.stop();
    await Promise.all(runtimes.map((rt) => rt.stop()));
  };
});

describe('parallelism tuning', () => {
  let pods: string[] = [];
  let configHash: string | undefined;
  let generation: number | undefined;
  let pids: (number | undefined)[] = [];

  it('reports that it has no metrics source until one is configured', async () => {
    await apply([aCluster('hal9', clusterSpec()), aNeuron(NEURON, 'hal9', { replicas: 2 })]);
    await waitForNeuronReady(r, NEURON);
    const n = await waitFor(
      'ParallelismTuned=False MetricsUnavailable',
      async () => {
        const n = await r.neuron(NEURON);
        return condition(n, 'ParallelismTuned')?.reason === 'MetricsUnavailable' ? n : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(condition(n, 'ParallelismTuned')).toMatchObject({ status: 'False' });
    expect(condition(n, 'ParallelismTuned')?.message).toContain('prometheusURL');
    expect(n.status?.parallelism?.current).toBe(4);
  });

  it('raises max_concurrent_signals on the running pods when the slots are saturated within the SLO', async () => {
    // Two runtimes from the ConfigMap the operator rendered stand in for the two kwok pods.
    const cm = await r.configMap(`${NEURON}-config`);
    const runtimeConfig = parseYaml(cm?.data?.['config.yaml'] ?? '') as Record<string, unknown>;
    expect(runtimeConfig).toMatchObject({
      cluster: { name: 'hal9' },
      performance: { max_concurrent_signals: 4 },
    });
    pods = (await r.pods(`hal9.ai/neuron=${NEURON}`)).map((p) => p.metadata?.name ?? '').sort();
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      const rt = await startRuntime(runtimeConfig);
      runtimes.push(rt);
      podURLs.set(pod, rt.url);
    }
    pids = runtimes.map((rt) => rt.child.process.pid);
    prometheus = await startPrometheus({
      ruleFiles: [],
      // What Kubernetes service discovery would attach: the pod's namespace and name.
      jobs: runtimes.map((rt, i) => ({
        job: `hal9-runtime-${i}`,
        targets: [rt.address],
        labels: { namespace: space.name, pod: pods[i]! },
      })),
    });
    const deployment = await r.deployment(NEURON);
    configHash = deployment?.spec?.template?.metadata?.annotations?.['hal9.ai/config-hash'];
    generation = deployment?.metadata?.generation;
    expect(configHash).toBeTruthy();

    await apply([aCluster('hal9', clusterSpec(prometheus.url))]);
    // 12 signals in flight per runtime against 4 slots: utilization 1, a queue, caller-visible p95 ≈ 240 ms.
    const load = startLoad('quick', 12);
    let raised: Awaited<ReturnType<typeof r.neuron>>;
    try {
      // In effect: status reports as `current` the value once every Ready pod took it.
      raised = await waitFor(
        'a Saturated decision in effect',
        async () => {
          const n = await r.neuron(NEURON);
          const p = n?.status?.parallelism;
          return p?.lastDecision?.reason === 'Saturated' && p.current === p.lastDecision.value
            ? n
            : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    } finally {
      await load.stop();
    }
    const value = raised.status?.parallelism?.current ?? 0;
    expect(value).toBeGreaterThan(4);
    expect(raised.status?.parallelism?.lastDecision).toMatchObject({ value, reason: 'Saturated' });
    expect(condition(raised, 'ParallelismTuned')).toMatchObject({
      status: 'True',
      reason: 'MetricsAvailable',
    });

    // The running processes took the value live: same processes, new executor limit.
    await waitFor(
      'the runtimes to report the raised limit',
      async () => ((await Promise.all(runtimes.map(limitOf))).every((v) => v === value) ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(runtimes.map((rt) => rt.child.process.pid)).toEqual(pids);
    expect(runtimes.every((rt) => rt.child.process.exitCode === null)).toBe(true);

    // New pods start with it (the ConfigMap), and the running ones are not rolled.
    const rendered = await waitFor(
      'the ConfigMap to carry the tuned value',
      async () => {
        const c = parseYaml((await r.configMap(`${NEURON}-config`))?.data?.['config.yaml'] ?? '') as {
          performance?: { max_concurrent_signals?: number };
        };
        return c.performance?.max_concurrent_signals === value ? c : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(rendered.performance?.max_concurrent_signals).toBe(value);
    const after = await r.deployment(NEURON);
    expect(after?.spec?.template?.metadata?.annotations?.['hal9.ai/config-hash']).toBe(configHash);
    expect(after?.metadata?.generation).toBe(generation);
    expect((await r.pods(`hal9.ai/neuron=${NEURON}`)).map((p) => p.metadata?.name).sort()).toEqual(pods);

    // The recorder creates Events without waiting (fire and forget): wait for it.
    await waitFor(
      'the Saturated Event',
      async () =>
        (await r.events()).find(
          (e) =>
            e.involvedObject.name === NEURON &&
            e.reason === 'Saturated' &&
            e.message?.includes(`to ${value}`),
        ),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(await decisions('Saturated')).toBeGreaterThan(0);
    const neuronStatusManagers = raised.metadata?.managedFields
      ?.filter((f) => f.subresource === 'status')
      .map((f) => f.manager);
    expect(neuronStatusManagers).toContain('hal9-operator-tuner');
  });

  it('cuts the value when latency breaks the SLO', async () => {
    const before = (await r.neuron(NEURON))?.status?.parallelism?.current ?? 0;
    const load = startLoad('slow', 8);
    let cut: Awaited<ReturnType<typeof r.neuron>>;
    try {
      cut = await waitFor(
        'a LatencyAboveSLO decision in effect',
        async () => {
          const n = await r.neuron(NEURON);
          const p = n?.status?.parallelism;
          return p?.lastDecision?.reason === 'LatencyAboveSLO' && p.current === p.lastDecision.value
            ? n
            : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    } finally {
      await load.stop();
    }
    const value = cut.status?.parallelism?.current ?? 0;
    expect(value).toBeLessThan(before);
    expect(value).toBeGreaterThanOrEqual(2);
    expect(cut.status?.parallelism?.lastDecision).toMatchObject({ value, reason: 'LatencyAboveSLO' });
    await waitFor(
      'the runtimes to report the cut limit',
      async () => ((await Promise.all(runtimes.map(limitOf))).every((v) => v === value) ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(runtimes.map((rt) => rt.child.process.pid)).toEqual(pids);
    expect(await decisions('LatencyAboveSLO')).toBeGreaterThan(0);
  });

  it('holds the value and says why when Prometheus is gone', async () => {
    await prometheus?.stop();
    prometheus = undefined;
    // A Prometheus shutting down may answer a last query 503 before its port closes: wait for the
    // pass that found it gone.
    const n = await waitFor(
      'ParallelismTuned=False MetricsUnavailable, Prometheus unreachable',
      async () => {
        const n = await r.neuron(NEURON);
        const c = condition(n, 'ParallelismTuned');
        return c?.reason === 'MetricsUnavailable' && /unreachable/.test(c.message ?? '') ? n : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(condition(n, 'ParallelismTuned')).toMatchObject({ status: 'False' });
    expect(condition(n, 'ParallelismTuned')?.message).toMatch(/unreachable/);
    // From here on no pass can read metrics. (Taken before the stop, the snapshot could miss one
    // last decision from the load test's window.) Two more passes without metrics change nothing:
    // an unreachable Prometheus is not a zero, and the value and the last decision stay.
    const held = n.status?.parallelism;
    expect(held?.lastDecision).toBeDefined();
    const passes = await decisions('MetricsUnavailable');
    await waitFor(
      'two more passes without metrics',
      async () => ((await decisions('MetricsUnavailable')) >= passes + 2 ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const after = await r.neuron(NEURON);
    expect(after?.status?.parallelism).toEqual(held);
    expect(await Promise.all(runtimes.map(limitOf))).toEqual(runtimes.map(() => held?.current));
    // The reconciler's own conditions are untouched by the tuner's.
    expect(condition(after, 'Ready')).toMatchObject({ status: 'True' });
  });

  it('removes its status part when tuning is turned off, leaving current to the reconciler', async () => {
    // The tuner's decisions took status.parallelism.current under force; the reconciler claimed it
    // back, so both managers own it and the tuner's release cannot delete it.
    const owners = await waitFor(
      'both managers to own status.parallelism.current',
      async () => {
        const o = parallelismOwners(await r.neuron(NEURON));
        return o.includes(fieldManager) && o.includes(tunerFieldManager) ? o : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(owners).toEqual(expect.arrayContaining([fieldManager, tunerFieldManager]));
    const spec = clusterSpec();
    await apply([
      aCluster('hal9', {
        ...spec,
        autoscaling: { parallelism: { ...spec.autoscaling.parallelism, enabled: false } },
      }),
    ]);
    const seen: (number | undefined)[] = [];
    const n = await waitFor(
      'the tuner status part to be gone and current back at the spec value',
      async () => {
        const n = await r.neuron(NEURON);
        seen.push(n?.status?.parallelism?.current);
        return !n?.status?.parallelism?.lastDecision &&
          !condition(n, 'ParallelismTuned') &&
          n?.status?.parallelism?.current === 4
          ? n
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    // Never absent on the way: readers (kubectl, dashboards) always see the executor limit.
    expect(seen.filter((v) => v === undefined)).toEqual([]);
    expect(n.status?.parallelism).toEqual({ current: 4 });
    expect(parallelismOwners(n)).toEqual([fieldManager]);
    expect(condition(n, 'Ready')).toMatchObject({ status: 'True' });
  });
});
