import { waitFor } from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPrometheus, startPrometheus } from '../../monitoring/test/support/prometheus.ts';
import { type RunningRuntime, startRuntime } from '../../monitoring/test/support/runtime-process.ts';
import { collect, createPrometheusClient, meanOfPodSum } from '../src/tuning/prometheus.ts';

// The tuner's per-pod selectors, evaluated by a real Prometheus scraping real runtimes that stand in
// for three Neurons' pods: two with long names scraped as our ServiceMonitor scrapes (the pod's
// `hal9.ai/neuron` as a target label), one scraped by a plain config that gives only the pod name.

/** A Deployment's pod name as the apiserver generates it: `<rs>-` cut to 58 characters, then 5 more. */
const podNameOf = (neuron: string) => `${`${neuron}-5d8f7c9b4d-`.slice(0, 58)}x7k2p`;

const long = `design-${'x'.repeat(43)}`; // 50 characters: its pods' names lose the hash's end
const sibling = `${long}-b`; // whose pods' names start the same way
const short = 'impl-1';
const namespace = 'team-a';

let prometheus: RunningPrometheus | undefined;
const runtimes: RunningRuntime[] = [];

beforeAll(async () => {
  const pods = [
    { neuron: long, limit: 4, labelled: true },
    { neuron: sibling, limit: 16, labelled: true },
    { neuron: short, limit: 8, labelled: false },
  ];
  for (const p of pods) {
    runtimes.push(
      await startRuntime({
        cluster: { name: 'hal9' },
        performance: { max_concurrent_signals: p.limit },
        // impl-1 (the L2 neuron of the default topology) holds its slot 40 ms per signal.
        claude: {
          mode: 'mock',
          mock_responses: { L2: [{ trigger: 'default', response: 'RESULT: built', delay_ms: 40 }] },
        },
      }),
    );
  }
  prometheus = await startPrometheus({
    ruleFiles: [],
    jobs: pods.map((p, i) => ({
      job: `pod-${i}`,
      targets: [runtimes[i]!.address],
      labels: {
        namespace,
        pod: podNameOf(p.neuron),
        ...(p.labelled ? { hal9_ai_neuron: p.neuron } : {}),
      },
    })),
  });
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(runtimes.map((r) => r.stop()));
});

const series = (neuron: string) => ({ namespace, neuron, cluster: 'hal9' });
const bounds = { maxLimit: 64, maxQueue: 1000 };

describe("the tuner's per-pod selectors on a real Prometheus", () => {
  it('select exactly one Neuron’s pods, by its target label or else by its pods’ names', async () => {
    const slots = async (neuron: string) => {
      const r = await prometheus!.query(meanOfPodSum(series(neuron), 'hal9_parallel_tasks_max', '30s', '1s'));
      return r.data?.result[0] ? Number((r.data.result[0].value as [number, string])[1]) : undefined;
    };
    const all = async () => [await slots(long), await slots(sibling), await slots(short)];
    const found = await waitFor(
      'every target scraped',
      async () => ((await all()).every((v) => v !== undefined) ? all() : undefined),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    // Each its own executor limit, nobody else's: the long name's pods are not its sibling's.
    expect(found).toEqual([4, 16, 8]);
  });

  it('give the parallelism law its utilization and queue for a Neuron with a long name', async () => {
    const c = await collect(createPrometheusClient({ url: prometheus!.url }), series(long), 30, bounds);
    // No traffic: latency and throughput have no samples yet; the per-pod figures are there.
    expect(c.missing).not.toContain('utilization');
    expect(c.missing).not.toContain('queueDepth');
    expect(c.concurrency).toBe(0);
  });

  it('give the law the service time, which tells queue wait from slow service', async () => {
    // Signals straight to impl-1 of the third runtime (the pods of Neuron impl-1 here), one at a time;
    // each answer's trace says how long impl-1 held its slot for it.
    const held: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${runtimes[2]!.url}/v1/signals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: `task ${i}`, neuron: short }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { trace: { neuron: string; durationMs: number }[] };
      held.push(...body.trace.filter((t) => t.neuron === short).map((t) => t.durationMs));
    }
    expect(held).toHaveLength(10);
    const c = await waitFor(
      'the signals scraped',
      async () => {
        const got = await collect(
          createPrometheusClient({ url: prometheus!.url }),
          series(short),
          30,
          bounds,
        );
        return got.observation?.serviceMs !== undefined ? got : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    // The mean time a signal held its slot, as the runtime measured it (not the latency, not a rate):
    // whichever of the signals the window's rates take in, their mean lies among theirs (the trace
    // rounds to the microsecond).
    expect(c.observation!.serviceMs).toBeGreaterThanOrEqual(Math.min(...held) - 0.001);
    expect(c.observation!.serviceMs).toBeLessThanOrEqual(Math.max(...held) + 0.001);
  });
});
