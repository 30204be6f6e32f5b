import { type PodRunner, startPodRunner, waitFor } from '@hal9/test';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition, waitForNeuronReady } from './support/reads.ts';

// The autoscaler end to end with no test seam: the local control plane gives kwok pods loopback
// IPs, the pod runner starts a real runtime process on each Running pod's IP with the config the
// operator rendered, and the operator (with --pod-cidrs 127.0.0.0/8) reads each pod's
// GET /v1/admin/load, sets its limit with PUT /v1/admin/performance and writes the Neuron's scale
// subresource. Load goes to the pods' own addresses. Windows are shortened in the spec (2 s panic,
// 10 s stable) so the test is quick; the loop runs at its shipped 2 s interval.

// As in a cluster (POD_NAMESPACE): the operator has its key, and the pods their admin token.
const space = useOperatorNamespace('autoscaling', { args: (ns) => ['--leader-election-namespace', ns] });
const { kc, reads: r, apply } = space;
const NEURON = 'impl-1';
let runner: PodRunner | undefined;

const clusterSpec = {
  performance: { maxConcurrentSignals: 2, maxConcurrentNeurons: 64 },
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  claude: {
    mode: 'mock',
    mockResponses: {
      // 50 ms answers are well within the SLO, even queued; 2.5 s answers break it.
      L2: [
        { trigger: 'slow', response: 'RESULT: slow answer', delayMs: 2500 },
        { trigger: 'default', response: 'RESULT: quick answer', delayMs: 50 },
      ],
    },
  },
  autoscaling: {
    enabled: true,
    mode: 'operator',
    minReplicas: 1,
    maxReplicas: 3,
    targetConcurrencyPerPod: 4,
    targetUtilizationPercentage: 100,
    stableWindowSeconds: 10,
    panicWindowSeconds: 2,
    parallelism: { enabled: true, min: 2, max: 4, latencySLOMs: 2000 },
  },
};

const counter = async (name: string, reason: string) =>
  (await space.operator.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.reason === reason)
    ?.value ?? 0;

/** The pods' admin token: the one the operator made for the cluster (it names none). */
const adminToken = async () => {
  const s = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: 'hal9-admin-token', namespace: space.name });
  return Buffer.from(s.data?.token ?? '', 'base64').toString('utf8');
};
const limitOf = async (url: string) => {
  const res = await fetch(`${url}/v1/admin/performance`, {
    headers: { authorization: `Bearer ${await adminToken()}` },
  });
  return ((await res.json()) as { max_concurrent_signals: number }).max_concurrent_signals;
};

const ready = () => (runner?.processes() ?? []).filter((p) => p.state === 'ready');

/** Closed-loop load on the pods' own addresses, spread over the ready processes; bounded. */
function startLoad(content: string, workers: number) {
  let stopped = false;
  let sent = 0;
  const deadline = Date.now() + 90_000;
  const worker = async () => {
    while (!stopped && sent < 20_000 && Date.now() < deadline) {
      const procs = ready();
      const i = sent++;
      const p = procs[i % Math.max(1, procs.length)];
      if (!p) {
        await new Promise((res) => setTimeout(res, 100));
        continue;
      }
      try {
        const res = await fetch(`${p.url}/v1/signals`, {
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
  const done = Promise.all(Array.from({ length: workers }, worker));
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

beforeAll(async () => {
  runner = await startPodRunner({
    kubeConfig: kc,
    namespace: space.name,
    maxProcesses: 6,
    stopGraceMs: 2000,
  });
});
// Before the operator stops (afterAll hooks run last-registered first).
afterAll(async () => {
  await runner?.close();
});

describe('autoscaling on the pods’ load reports', () => {
  let raisedLimit = 0;

  it('raises the pods’ parallelism and the replica count under load', { timeout: 120_000 }, async () => {
    await apply([aCluster('hal9', clusterSpec), aNeuron(NEURON, 'hal9', {})]);
    await waitForNeuronReady(r, NEURON);
    await waitFor('one runtime process', async () => (ready().length === 1 ? ready() : undefined), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const first = ready()[0]!;
    expect(await limitOf(first.url)).toBe(2);
    expect(await r.hpa(NEURON)).toBeUndefined();

    // 16 signals in flight against 2 slots of one pod: saturated, a queue, answers within the SLO.
    const load = startLoad('quick', 16);
    try {
      const scaled = await waitFor(
        'replicas raised by the operator',
        async () => {
          const n = await r.neuron(NEURON);
          const d = (n?.status as { autoscaling?: { lastDecision?: { value?: number } } } | undefined)
            ?.autoscaling?.lastDecision;
          return (n?.spec?.replicas ?? 1) > 1 && (d?.value ?? 1) > 1 ? n : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      const decision = (scaled.status as { autoscaling?: { lastDecision?: Record<string, unknown> } })
        .autoscaling?.lastDecision;
      expect(['Panic', 'Concurrency']).toContain(decision?.reason);
      expect(decision?.message).toContain('per-pod target');
      const tuned = await waitFor(
        'parallelism raised',
        async () => {
          const n = await r.neuron(NEURON);
          return n?.status?.parallelism?.lastDecision?.reason === 'Saturated' ? n : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      // The decision's value: `current` is also written by the reconciler from its cache, which
      // may lag one pass behind.
      raisedLimit = tuned.status?.parallelism?.lastDecision?.value ?? 0;
      expect(raisedLimit).toBeGreaterThan(2);
      // The first pod got the new limit live, in the same process.
      await waitFor(
        'the running pod at the new limit',
        async () => ((await limitOf(first.url)) > 2 ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 250,
        },
      );
      expect(runner?.get(space.name, first.name)?.pid).toBe(first.pid);
      // The new pods run as real processes too.
      await waitFor('more runtime processes', async () => (ready().length > 1 ? ready() : undefined), {
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      expect((await r.deployment(NEURON))?.spec?.replicas).toBeGreaterThan(1);
      expect(condition(await r.neuron(NEURON), 'ReplicasAutoscaled')).toMatchObject({
        status: 'True',
        reason: 'MetricsAvailable',
      });
    } finally {
      await load.stop();
    }
  });

  it('cuts parallelism when the caller-visible latency breaks the SLO', { timeout: 120_000 }, async () => {
    const before = raisedLimit;
    const load = startLoad('slow', 8);
    try {
      const cut = await waitFor(
        'a LatencyAboveSLO decision',
        async () => {
          const n = await r.neuron(NEURON);
          return n?.status?.parallelism?.lastDecision?.reason === 'LatencyAboveSLO' ? n : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      const value = cut.status?.parallelism?.lastDecision?.value ?? 0;
      expect(value).toBeLessThan(before);
      await waitFor(
        'every running pod at the cut limit',
        async () => {
          const procs = ready();
          const limits = await Promise.all(procs.map((p) => limitOf(p.url).catch(() => -1)));
          return procs.length > 0 && limits.every((l) => l <= value) ? limits : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    } finally {
      await load.stop();
    }
  });

  it('holds replicas and parallelism while no pod answers, and says why', { timeout: 120_000 }, async () => {
    expect((await r.neuron(NEURON))?.spec?.replicas).toBeGreaterThan(1);
    // Loaded up to the stop: pods left idle while the processes close (seconds on a busy machine)
    // would be scaled down, as they should, before the reads start failing.
    const load = startLoad('slow', 8);
    try {
      // The processes stop; kwok keeps the pods Ready, so every read is refused.
      await runner?.close();
      runner = undefined;
      await waitFor(
        'ReplicasAutoscaled=False PodsUnreachable',
        async () => {
          const c = condition(await r.neuron(NEURON), 'ReplicasAutoscaled');
          return c?.reason === 'PodsUnreachable' ? c : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    } finally {
      await load.stop();
    }
    // From the first pass without data on, nothing may move (the last reports stay usable for two
    // intervals, so the values are taken once the condition says the pods are gone).
    const before = await r.neuron(NEURON);
    const replicas = before?.spec?.replicas;
    const limit = before?.status?.parallelism?.lastDecision?.value;
    expect(replicas).toBeGreaterThan(1);
    // Five passes without data (no timing assumed: counted), and nothing moved.
    const holds = await counter('hal9_operator_replica_decisions_total', 'NoData');
    await waitFor(
      'five passes without data',
      async () =>
        (await counter('hal9_operator_replica_decisions_total', 'NoData')) >= holds + 5 ? true : undefined,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const after = await r.neuron(NEURON);
    expect(after?.spec?.replicas).toBe(replicas);
    expect(after?.status?.parallelism?.lastDecision?.value).toBe(limit);
    expect(condition(after, 'ParallelismTuned')).toMatchObject({
      status: 'False',
      reason: 'MetricsUnavailable',
    });
    expect(condition(after, 'ReplicasAutoscaled')?.message).toMatch(/ECONNREFUSED|no answer/);
  });

  it('lowers the replica count when the load is gone, to minReplicas', { timeout: 120_000 }, async () => {
    const limit = (await r.neuron(NEURON))?.status?.parallelism?.lastDecision?.value;
    runner = await startPodRunner({
      kubeConfig: kc,
      namespace: space.name,
      maxProcesses: 6,
      stopGraceMs: 2000,
    });
    const lowered = await waitFor(
      'replicas back at 1',
      async () => {
        const n = await r.neuron(NEURON);
        const d = (n?.status as { autoscaling?: { lastDecision?: { value?: number } } } | undefined)
          ?.autoscaling?.lastDecision;
        // The scale subresource is written before the status with the decision, in the same pass.
        return n?.spec?.replicas === 1 && d?.value === 1 ? n : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(
      (lowered.status as { autoscaling?: { lastDecision?: { reason?: string } } }).autoscaling?.lastDecision
        ?.reason,
    ).toBe('Concurrency');
    expect(condition(lowered, 'ReplicasAutoscaled')?.status).toBe('True');
    const left = await waitFor(
      'one pod left',
      async () => {
        const pods = await r.pods(`hal9.ai/neuron=${NEURON}`);
        const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
        return live.length === 1 ? live[0] : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // A process started from the ConfigMap carries the tuned limit. It is the remaining pod's own:
    // a removed pod's process may still look ready until the runner's next pass stops it.
    const proc = await runner.waitForReady(space.name, left.metadata!.name!, 30_000);
    expect(await limitOf(proc.url)).toBe(limit);
  });
});
