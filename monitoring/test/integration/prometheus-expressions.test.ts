// Every PromQL expression of the dashboards and the rule file, evaluated by a real Prometheus that
// scrapes real runtimes under a short bounded load and the real operator (two replicas, leader
// election) reconciling real objects on the local control plane. Each must parse and return data;
// conditions that are normally quiet (errors, throttling, an open breaker, a full queue, failing
// reconciles) are driven on purpose.
import {
  createTestNamespace,
  kubeConfigFromInject,
  kubeconfigPathFromInject,
  kubectl,
  type TestNamespace,
  waitFor,
} from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toYaml } from '../../../operator/test/support/builders.ts';
import { scrape } from '../../../operator/test/support/operator-harness.ts';
import { operatorMetrics, resolveSeries, runtimeMetrics, seriesNames } from '../../src/metric-catalogue.ts';
import {
  dashboardExpressions,
  dashboardLabelQueries,
  type Expression,
  ruleExpressions,
} from '../../src/promql/extract.ts';
import { interpolate } from '../../src/promql/interpolate.ts';
import { type FakeAnthropic, startFakeAnthropic } from '../support/fake-anthropic.ts';
import { driveLoad } from '../support/load.ts';
import {
  noDisruptionBudgetsQuota,
  perfTopology,
  podNameOf,
  refusedNeuron,
  tunedNeuron,
} from '../support/operator-objects.ts';
import { type RunningOperatorProcess, startOperatorProcess } from '../support/operator-process.ts';
import { type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { dashboardFiles, readDashboard, readRules, rulesPath } from '../support/repo.ts';
import { type RunningRuntime, startRuntime } from '../support/runtime-process.ts';

const kc = kubeConfigFromInject();
// The replica autoscaler's series move only for Neurons in autoscaling mode operator whose pods the
// operator can read (GET /v1/admin/load on loopback pod IPs, with runtime processes started by the
// test harness's pod runner). This arrangement has no such pods yet: their expressions must parse
// here, and return data once it does.
const needsAutoscaledPods = [
  'hal9_operator_replica_decisions_total',
  'hal9_operator_neuron_desired_replicas',
  'hal9_operator_neuron_concurrency',
  'hal9_operator_neuron_predicted_concurrency',
  'hal9_operator_edge_fanout',
  'hal9_operator_load_reads_total',
  'hal9_operator_parallelism_deliveries_total',
];
const autoscaledOnly = (expr: string) => needsAutoscaledPods.some((m) => expr.includes(m));
// The test namespace: where the Neurons live, the operator watches and holds its Lease, and the
// target label of every scrape (as Kubernetes service discovery would set it).
let namespace = '';
// What Grafana would substitute with "All" selected (and the test namespace chosen).
const variables = () => ({
  namespace,
  hal9_cluster: '.*',
  neuron: '.*',
  controller: '.*',
  __rate_interval: '1m',
});

const dashboardExprs: Expression[] = dashboardFiles.flatMap((f) =>
  dashboardExpressions(f, readDashboard(f) as never),
);
const ruleExprs: Expression[] = ruleExpressions(readRules());
const labelQueries = dashboardFiles.flatMap((f) => dashboardLabelQueries(f, readDashboard(f) as never));

// perf: mock mode, default topology with a slow L4 (100 ms) that also forwards to a neuron it is not
// connected to, the L4 cache on (unique contents: misses), a small executor and queue (saturation, 429s:
// signals wait for a slot, so arrival → answer latency exceeds processing time).
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

// saturated: one slot held by a signal that takes minutes and two more waiting behind it, so every
// scrape sees a busy executor and a standing queue (Hal9QueueSaturated), however loaded the machine.
// perf's queue saturates too, but empties for a few milliseconds now and then as its work flows
// through, which a scrape may hit. A short drain timeout lets it stop with the work unfinished.
const saturatedConfig = {
  cluster: { name: 'saturated' },
  server: { drain_timeout_ms: 500 },
  neurons: [{ id: 'impl-1', layer: 'L2', system_prompt: 'build', forward_connections: [] }],
  performance: { max_concurrent_signals: 1, max_queue_depth: 2 },
  claude: {
    mode: 'mock',
    mock_responses: { L2: [{ trigger: 'default', response: 'RESULT: built', delay_ms: 300_000 }] },
  },
};

// throttled: 15 % 429, 10 % 529, 5 % 500, the rest answered; the breaker never opens.
const throttledContent = (i: number) =>
  `${['throttle', 'throttle', 'throttle', 'overload', 'overload', 'fail'][i % 20] ?? 'ok'} ${i}`;

describe('dashboards and rules against a real Prometheus', () => {
  let fake: FakeAnthropic;
  const operators: RunningOperatorProcess[] = [];
  const runtimes: RunningRuntime[] = [];
  let prometheus: RunningPrometheus;
  let window = { start: 0, end: 0 };
  const loads: Record<string, Record<string, number>> = {};
  const pending = new AbortController();
  let testNamespace: TestNamespace | undefined;

  beforeAll(async () => {
    testNamespace = await createTestNamespace(kc, 'monitoring');
    namespace = testNamespace.name;
    fake = await startFakeAnthropic();
    const operatorOptions = (identity: string) => ({
      kubeconfigPath: kubeconfigPathFromInject(),
      namespace,
      identity,
    });
    // Each process is listed as soon as it runs, so afterAll stops it even if another fails to start.
    const [perf, throttled, broken, saturated, leader] = await Promise.all([
      startRuntime(perfConfig).then(into(runtimes)),
      startRuntime(apiConfig('throttled', fake.url, 10_000), apiKey).then(into(runtimes)),
      startRuntime(apiConfig('broken', fake.url, 5), apiKey).then(into(runtimes)),
      startRuntime(saturatedConfig).then(into(runtimes)),
      startOperatorProcess(operatorOptions('operator-a')).then(into(operators)),
    ]);
    // One signal runs, two wait: sent and left pending until afterAll aborts them.
    for (let i = 0; i < 3; i++) {
      fetch(`${saturated.url}/v1/signals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: `stuck ${i}` }),
        signal: pending.signal,
      }).catch(() => undefined);
    }
    await waitForQueue(saturated.url, 2);
    // The second replica starts once the first holds the Lease, so it stays a standby.
    await waitFor('operator-a to lead', async () => ((await leaderStatus(leader)) === 1 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
      describe: leader.output,
    });
    into(operators)(await startOperatorProcess(operatorOptions('operator-b')));

    const perfLoad = driveLoad({
      url: perf.url,
      content: (i) => `task ${i}`,
      // More clients than slots + queue, retrying faster than the executor drains: it saturates and rejects.
      workers: 16,
      maxRequests: 300,
      maxMs: 20_000,
      backoffMs: 100,
    });
    // Start scraping only once perf is saturated, so its queue and rejections fill the window.
    await waitForQueue(perf.url, 1);
    const started = Date.now() / 1000;
    prometheus = await startPrometheus({
      ruleFiles: [rulesPath],
      jobs: [
        {
          job: 'hal9-runtime',
          targets: runtimes.map((r) => r.address),
          labels: { namespace },
          // perf stands in for the tuned Neuron's pod: the tuner selects per-process series by pod name.
          targetLabels: { [perf.address]: { pod: podNameOf(tunedNeuron) } },
        },
        // honor_labels keeps hal9_operator_neuron_parallelism's own namespace label (the Neuron's).
        {
          job: 'hal9-operator',
          targets: operators.map((o) => o.address),
          labels: { namespace },
          honorLabels: true,
        },
      ],
    });
    // The first scrape is each counter's baseline: start the small api-mode loads and give the
    // operator its objects only after it, so their counters move inside the window.
    await waitForScrapes(prometheus, runtimes.length + operators.length);
    await kubectl(['apply', '-n', namespace, '-f', '-'], {
      stdin: toYaml([noDisruptionBudgetsQuota(), ...perfTopology('perf', prometheus.url)]),
    });
    const [perfResult, throttledResult, brokenResult] = await Promise.all([
      perfLoad,
      driveLoad({
        url: throttled.url,
        content: throttledContent,
        workers: 1,
        maxRequests: 150,
        maxMs: 20_000,
        backoffMs: 100,
        paceMs: 50,
      }),
      driveLoad({
        url: broken.url,
        content: (i) => `fail ${i}`,
        workers: 1,
        maxRequests: 40,
        maxMs: 20_000,
        backoffMs: 100,
        paceMs: 100,
      }),
      waitForOperatorActivity(leader),
    ]);
    Object.assign(loads, { perf: perfResult, throttled: throttledResult, broken: brokenResult });
    // Let the last scrapes and rule evaluations land.
    await new Promise((r) => setTimeout(r, 4_000));
    window = { start: Math.ceil(started) + 2, end: Math.floor(Date.now() / 1000) };
  });

  afterAll(async () => {
    pending.abort();
    await prometheus?.stop();
    await Promise.all(runtimes.map((r) => r.stop()));
    // The standby first, so the leader's release does not hand the Lease over during shutdown.
    for (const o of [...operators].reverse()) await o.stop();
    await fake?.close();
    await testNamespace?.delete();
  });

  it('drove the intended conditions', async () => {
    expect(Object.keys(loads.perf ?? {})).toContain('200');
    expect(loads.perf?.['429'] ?? 0).toBeGreaterThan(0);
    expect(fake.calls().throttle ?? 0).toBeGreaterThan(0);
    expect(fake.calls().ok ?? 0).toBeGreaterThan(0);
    const targets = await prometheus.scrapedTargets();
    expect(targets.map((t) => `${t.job} ${t.health} ${t.lastError}`).sort()).toEqual([
      'hal9-operator up ',
      'hal9-operator up ',
      'hal9-runtime up ',
      'hal9-runtime up ',
      'hal9-runtime up ',
      'hal9-runtime up ',
    ]);
  });

  it('scrapes every runtime metric of the contract from the real runtimes', async () => {
    const exposed = new Set<string>();
    for (const r of runtimes) {
      const text = await (await fetch(`${r.url}/metrics`)).text();
      for (const name of metricNames(text)) exposed.add(name);
      expect(text).toMatch(/hal9_cluster="(perf|throttled|broken|saturated)"/);
    }
    const missing = runtimeMetrics.flatMap((spec) => seriesNames(spec).filter((s) => !exposed.has(s)));
    expect(missing).toEqual([]);
    const unknownHal9 = [...exposed].filter((n) => n.startsWith('hal9_') && !resolveSeries(n));
    expect(unknownHal9).toEqual([]);
  });

  it('scrapes every operator metric of the catalogue from the real leading operator', async () => {
    // operator-a started alone and led before operator-b started.
    const exposed = new Set(
      metricNames(await (await fetch(`http://${operators[0]!.address}/metrics`)).text()),
    );
    const missing = operatorMetrics
      .filter((spec) => !needsAutoscaledPods.includes(spec.name))
      .flatMap((spec) => seriesNames(spec).filter((s) => !exposed.has(s)));
    expect(missing).toEqual([]);
  });

  it('ran the operator as arranged: one leader of two, a tuned Neuron, refused applies', async () => {
    const value = async (expr: string) =>
      Number((await prometheus.query(expr)).data?.result[0]?.value?.[1 as never] ?? Number.NaN);
    const sel = `namespace="${namespace}"`;
    expect(await value(`count(leader_election_master_status{${sel}})`)).toBe(2);
    expect(await value(`sum(leader_election_master_status{${sel}})`)).toBe(1);
    expect(await value(`sum(hal9_operator_parallelism_decisions_total{${sel}})`)).toBeGreaterThan(0);
    expect(await value(`hal9_operator_neuron_parallelism{${sel}, neuron="${tunedNeuron}"}`)).toBeGreaterThan(
      0,
    );
    expect(
      await value(`sum(controller_runtime_reconcile_errors_total{${sel}, controller="neuron"})`),
    ).toBeGreaterThan(0);
    expect(await value(`sum(workqueue_retries_total{${sel}, name="neuron"})`)).toBeGreaterThan(0);

    // The errors are the quota's refusals, reported on the Neuron; the tuner reports on its Neuron.
    expect(JSON.stringify(await neuronConditions(refusedNeuron))).toMatch(/ApplyFailed.*exceeded quota/s);
    // The tuner reached the test Prometheus (its data or its absence decides, not an unreachable URL).
    const tuned = (await neuronConditions(tunedNeuron)).find((c) => c.type === 'ParallelismTuned');
    expect(tuned?.reason, tuned?.message).toMatch(/^(MetricsAvailable|NoData)$/);
    expect(
      await value(`sum(hal9_operator_parallelism_decisions_total{${sel}, reason="MetricsUnavailable"})`),
    ).toBeNaN();
  });

  it('holds the SLO to arrival → answer latency: neurons that only wait for a slot breach it', async () => {
    // perf's design-1 and impl-1 answer at once (delay 0) but queue behind strategic-1's 100 ms signals
    // on two slots: their processing time stays under 50 ms while callers wait for the slot too.
    const at = window.end;
    const byNeuron = async (expr: string) =>
      Object.fromEntries(
        ((await prometheus.query(expr, at)).data?.result ?? []).map((r) => [
          r.metric.neuron,
          Number((r.value as [number, string])[1]),
        ]),
      );
    const perf = 'hal9_cluster="perf"';
    const processing = await byNeuron(`neuron:hal9_processing_time:p95_rate5m{${perf}}`);
    const latency = await byNeuron(`neuron:hal9_signal_latency_seconds:p95_rate5m{${perf}}`);
    const wait = await byNeuron(`neuron:hal9_signal_queue_wait_seconds:mean_rate5m{${perf}}`);
    const alerting = await byNeuron(`ALERTS{alertname="Hal9HighLatency", ${perf}}`);
    const hidden = ['design-1', 'impl-1'].filter(
      (n) => (processing[n] ?? 1) < 0.05 && (latency[n] ?? 0) > 0.05,
    );
    expect(hidden.length, JSON.stringify({ processing, latency })).toBeGreaterThan(0);
    for (const n of hidden) {
      expect(wait[n], n).toBeGreaterThan(0);
      expect(alerting[n], n).toBe(1);
    }
  });

  it('learns fan-out per edge: one design-1 per strategic-1 signal, and no edge for a dropped target', async () => {
    const at = window.end;
    const edges = await prometheus.query(
      'edge:hal9_edge_signals_per_signals:ratio_rate5m{hal9_cluster="perf", neuron="strategic-1"}',
      at,
    );
    const byTarget = Object.fromEntries(
      (edges.data?.result ?? []).map((r) => [r.metric.target, Number((r.value as [number, string])[1])]),
    );
    // strategic-1 answers "FORWARD_TO: design-1, impl-1" but is connected to design-1 only.
    expect(Object.keys(byTarget)).toEqual(['design-1']);
    expect(byTarget['design-1']).toBeGreaterThan(0.9);
    expect(byTarget['design-1']).toBeLessThan(1.1);
  });

  it.each(labelQueries.map((q) => [q.source, q] as const))('variable %s has values', async (_s, q) => {
    const values = await prometheus.labelValues(q.label, interpolate(q.match, variables()));
    expect(values.length).toBeGreaterThan(0);
  });

  it.each([...dashboardExprs, ...ruleExprs].map((e) => [e.source, e] as const))(
    '%s parses and returns data',
    async (_s, e) => {
      const expr = interpolate(e.expr, variables());
      const result = await prometheus.queryRange(expr, window.start, window.end, 1);
      expect(result.error ?? '', expr).toBe('');
      expect(result.status).toBe('success');
      if (autoscaledOnly(e.expr)) return;
      const points = (result.data?.result ?? []).reduce((n, s) => n + (s.values?.length ?? 0), 0);
      expect(points, `no data for ${expr}`).toBeGreaterThan(0);
    },
  );

  it('fires the driven alerts in Prometheus itself (rule evaluation, not just the queries)', async () => {
    const result = await prometheus.query('count by (alertname) (ALERTS)');
    const names = (result.data?.result ?? []).map((s) => s.metric.alertname).sort();
    // `for:` durations are minutes, so these are pending here; being listed means the rule evaluated true.
    for (const alert of [
      'Hal9HighLatency',
      'Hal9LatencyBudgetFastBurn',
      'Hal9LatencyBudgetSlowBurn',
      'Hal9HighErrorRate',
      'Hal9CircuitBreakerOpen',
      'Hal9ExecutorRejections',
      'Hal9QueueSaturated',
      'Hal9OperatorReconcileErrors',
    ])
      expect(names).toContain(alert);
  });
});

async function waitForQueue(url: string, depth: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const queued = text.match(/^hal9_queue_depth\{[^}]*\} (\d+)/m);
    if (queued && Number(queued[1]) >= depth) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never queued ${depth} signal(s)`);
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

/** Metric names in a Prometheus text exposition. */
function metricNames(text: string): string[] {
  return [...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{|\s)/gm)].flatMap((m) => (m[1] ? [m[1]] : []));
}

/** Appends to `list` and passes the value on. */
const into =
  <T>(list: T[]) =>
  (x: T): T => {
    list.push(x);
    return x;
  };

async function leaderStatus(o: RunningOperatorProcess): Promise<number | undefined> {
  return scrape(o.metricsPort, 'leader_election_master_status');
}

/**
 * Waits until the leading operator has reconciled, failed on the refused Neuron, retried it and
 * made a tuning decision: then every operator series of the dashboards exists.
 */
async function waitForOperatorActivity(o: RunningOperatorProcess): Promise<void> {
  const wanted: [string, Record<string, string>][] = [
    ['controller_runtime_reconcile_total', { controller: 'hal9cluster', result: 'success' }],
    ['controller_runtime_reconcile_errors_total', { controller: 'neuron' }],
    ['workqueue_retries_total', { name: 'neuron' }],
    ['hal9_operator_parallelism_decisions_total', {}],
    ['hal9_operator_neuron_parallelism', { neuron: tunedNeuron }],
  ];
  await waitFor(
    'the operator to reconcile, fail, retry and tune',
    async () => {
      for (const [name, labels] of wanted)
        if (!((await scrape(o.metricsPort, name, labels)) ?? 0)) return undefined;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 250, describe: o.output },
  );
}

interface Condition {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

async function neuronConditions(neuron: string): Promise<Condition[]> {
  const { stdout } = await kubectl(['get', 'neuron', neuron, '-n', namespace, '-o', 'json']);
  return (JSON.parse(stdout) as { status?: { conditions?: Condition[] } }).status?.conditions ?? [];
}
