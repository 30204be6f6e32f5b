// Every PromQL expression of the dashboards and the rule file, evaluated by a real Prometheus that
// scrapes real runtimes under a short bounded load. Each must parse and return data; conditions that
// are normally quiet (errors, throttling, an open breaker, a full queue) are driven on purpose.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSeries, runtimeMetrics, seriesNames } from '../../src/metric-catalogue.ts';
import {
  dashboardExpressions,
  dashboardLabelQueries,
  type Expression,
  ruleExpressions,
} from '../../src/promql/extract.ts';
import { interpolate } from '../../src/promql/interpolate.ts';
import { type FakeAnthropic, startFakeAnthropic } from '../support/fake-anthropic.ts';
import { driveLoad } from '../support/load.ts';
import { type OperatorMetricsServer, startOperatorMetrics } from '../support/operator-metrics.ts';
import { type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { dashboardFiles, readDashboard, readRules, rulesPath } from '../support/repo.ts';
import { type RunningRuntime, startRuntime } from '../support/runtime-process.ts';

const namespace = 'hal9-test';
// What Grafana would substitute with "All" selected (and the test namespace chosen).
const variables = { namespace, hal9_cluster: '.*', neuron: '.*', controller: '.*', __rate_interval: '1m' };

const dashboardExprs: Expression[] = dashboardFiles.flatMap((f) =>
  dashboardExpressions(f, readDashboard(f) as never).map((e) => ({
    ...e,
    expr: interpolate(e.expr, variables),
  })),
);
const ruleExprs: Expression[] = ruleExpressions(readRules());
const labelQueries = dashboardFiles.flatMap((f) => dashboardLabelQueries(f, readDashboard(f) as never));

// perf: mock mode, default topology with a slow L4 (100 ms) that also forwards to a neuron it is not
// connected to, the L4 cache on (unique contents: misses), a small executor and queue (saturation, 429s).
const perfConfig = {
  cluster: { name: 'perf' },
  neurons: [
    { id: 'strategic-1', layer: 'L4', system_prompt: 'plan', forward_connections: ['design-1'] },
    { id: 'design-1', layer: 'L3', system_prompt: 'design', forward_connections: ['impl-1'] },
    { id: 'impl-1', layer: 'L2', system_prompt: 'build', forward_connections: [] },
  ],
  performance: { max_concurrent_signals: 2, max_queue_depth: 8, cache_layers: ['L2', 'L4'] },
  claude: {
    mode: 'mock',
    mock_responses: {
      L4: [
        { trigger: 'default', response: 'FORWARD_TO: design-1, impl-1\nCONTENT: design it', delay_ms: 100 },
      ],
      L3: [{ trigger: 'default', response: 'FORWARD_TO: impl-1\nCONTENT: build it', delay_ms: 0 }],
      L2: [{ trigger: 'default', response: 'RESULT: built', delay_ms: 0 }],
    },
  },
};

// api mode against the fake Messages API: one L2 neuron, so each request is one upstream call.
const apiConfig = (name: string, baseUrl: string, failureThreshold: number) => ({
  cluster: { name },
  neurons: [{ id: 'impl-1', layer: 'L2', system_prompt: 'build', forward_connections: [] }],
  performance: { circuit_breaker: { failure_threshold: failureThreshold, timeout_seconds: 600 } },
  claude: { mode: 'api', base_url: baseUrl, max_retries: 0, timeout_ms: 5000 },
});

const apiKey = { ANTHROPIC_API_KEY: 'test-key' };

// throttled: 15 % 429, 10 % 529, 5 % 500, the rest answered; the breaker never opens.
const throttledContent = (i: number) =>
  `${['throttle', 'throttle', 'throttle', 'overload', 'overload', 'fail'][i % 20] ?? 'ok'} ${i}`;

describe('dashboards and rules against a real Prometheus', () => {
  let fake: FakeAnthropic;
  let operator: OperatorMetricsServer & { pending: string[] };
  const runtimes: RunningRuntime[] = [];
  let prometheus: RunningPrometheus;
  let window = { start: 0, end: 0 };
  const loads: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    operator = await startOperatorMetrics();
    const [perf, throttled, broken] = await Promise.all([
      startRuntime(perfConfig),
      startRuntime(apiConfig('throttled', fake.url, 10_000), apiKey),
      startRuntime(apiConfig('broken', fake.url, 5), apiKey),
    ]);
    runtimes.push(perf!, throttled!, broken!);

    const perfLoad = driveLoad({
      url: perf!.url,
      content: (i) => `task ${i}`,
      // More clients than slots + queue, retrying faster than the executor drains: the queue never empties.
      workers: 16,
      maxRequests: 300,
      maxMs: 20_000,
      backoffMs: 100,
    });
    // Start scraping only once the queue is non-empty, so "queued the whole window" can hold.
    await waitForQueue(perf!.url);
    const started = Date.now() / 1000;
    prometheus = await startPrometheus({
      ruleFiles: [rulesPath],
      jobs: [
        {
          job: 'hal9-runtime',
          targets: runtimes.map((r) => r.address),
          labels: { namespace },
        },
        // honor_labels keeps hal9_operator_neuron_parallelism's own namespace label (the Neuron's).
        { job: 'hal9-operator', targets: [operator.address], labels: { namespace }, honorLabels: true },
      ],
    });
    // The first scrape is each counter's baseline: start the small api-mode loads only after it, and
    // spread them over several scrapes.
    await waitForScrapes(prometheus, 4);
    const [perfResult, throttledResult, brokenResult] = await Promise.all([
      perfLoad,
      driveLoad({
        url: throttled!.url,
        content: throttledContent,
        workers: 1,
        maxRequests: 150,
        maxMs: 20_000,
        backoffMs: 100,
        paceMs: 50,
      }),
      driveLoad({
        url: broken!.url,
        content: (i) => `fail ${i}`,
        workers: 1,
        maxRequests: 40,
        maxMs: 20_000,
        backoffMs: 100,
        paceMs: 100,
      }),
    ]);
    Object.assign(loads, { perf: perfResult, throttled: throttledResult, broken: brokenResult });
    // Let the last scrapes and rule evaluations land.
    await new Promise((r) => setTimeout(r, 4_000));
    window = { start: Math.ceil(started) + 2, end: Math.floor(Date.now() / 1000) };
  });

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(runtimes.map((r) => r.stop()));
    await operator?.close();
    await fake?.close();
  });

  it('drove the intended conditions', async () => {
    expect(Object.keys(loads.perf ?? {})).toContain('200');
    expect(loads.perf?.['429'] ?? 0).toBeGreaterThan(0);
    expect(fake.calls().throttle ?? 0).toBeGreaterThan(0);
    expect(fake.calls().ok ?? 0).toBeGreaterThan(0);
    const targets = await prometheus.scrapedTargets();
    expect(targets.map((t) => `${t.job} ${t.health} ${t.lastError}`).sort()).toEqual([
      'hal9-operator up ',
      'hal9-runtime up ',
      'hal9-runtime up ',
      'hal9-runtime up ',
    ]);
  });

  it('scrapes every runtime metric of the contract from the real runtimes', async () => {
    const exposed = new Set<string>();
    for (const r of runtimes) {
      const text = await (await fetch(`${r.url}/metrics`)).text();
      for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{|\s)/gm)) if (m[1]) exposed.add(m[1]);
      expect(text).toMatch(/hal9_cluster="(perf|throttled|broken)"/);
    }
    const missing = runtimeMetrics.flatMap((spec) => seriesNames(spec).filter((s) => !exposed.has(s)));
    expect(missing).toEqual([]);
    const unknownHal9 = [...exposed].filter((n) => n.startsWith('hal9_') && !resolveSeries(n));
    expect(unknownHal9).toEqual([]);
  });

  it.each(labelQueries.map((q) => [q.source, q] as const))('variable %s has values', async (_s, q) => {
    const values = await prometheus.labelValues(q.label, interpolate(q.match, variables));
    expect(values.length).toBeGreaterThan(0);
  });

  it.each([...dashboardExprs, ...ruleExprs].map((e) => [e.source, e] as const))(
    '%s parses and returns data',
    async (_s, e) => {
      const result = await prometheus.queryRange(e.expr, window.start, window.end, 1);
      expect(result.error ?? '', e.expr).toBe('');
      expect(result.status).toBe('success');
      const points = (result.data?.result ?? []).reduce((n, s) => n + (s.values?.length ?? 0), 0);
      if (points === 0 && e.expr.includes('hal9_queue_depth')) {
        const q = await prometheus.queryRange(
          'hal9_queue_depth{hal9_cluster="perf"}',
          window.start - 5,
          window.end,
          1,
        );
        console.log(JSON.stringify(q.data?.result[0]?.values));
      }
      expect(points, `no data for ${e.expr}`).toBeGreaterThan(0);
    },
  );

  it('fires the driven alerts in Prometheus itself (rule evaluation, not just the queries)', async () => {
    const result = await prometheus.query('count by (alertname) (ALERTS)');
    const names = (result.data?.result ?? []).map((s) => s.metric.alertname).sort();
    // `for:` durations are minutes, so these are pending here; being listed means the rule evaluated true.
    for (const alert of [
      'Hal9HighLatency',
      'Hal9HighErrorRate',
      'Hal9CircuitBreakerOpen',
      'Hal9ExecutorRejections',
    ])
      expect(names).toContain(alert);
  });
});

async function waitForQueue(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const depth = text.match(/^hal9_queue_depth\{[^}]*\} (\d+)/m);
    if (depth && Number(depth[1]) > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the perf runtime never queued a signal');
}

async function waitForScrapes(prometheus: RunningPrometheus, targets: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const up = await prometheus.query('sum(up)');
    if (Number(up.data?.result[0]?.value?.[1 as never] ?? 0) >= targets) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Prometheus did not scrape ${targets} targets`);
}
