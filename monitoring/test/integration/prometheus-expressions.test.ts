// Every PromQL expression of the dashboards and the rule file, evaluated by a real Prometheus that
// scrapes real runtimes under a short bounded load and the real operator (two replicas, leader
// election) reconciling real objects on the local control plane. Each must parse and return data;
// conditions that are normally quiet (errors, throttling, an open breaker, a full queue, failing
// reconciles, a collector refusing spans) are driven on purpose.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestNamespace,
  kubeConfigFromInject,
  kubeconfigPathFromInject,
  kubectl,
  type TestNamespace,
  waitFor,
} from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { toYaml } from '../../../operator/test/support/builders.ts';
import { scrape } from '../../../operator/test/support/operator-harness.ts';
import { promptCacheSavings, responseCacheSavings } from '../../src/dashboards/cost-panels.ts';
import {
  operatorMetrics,
  resolveSeries,
  runtimeMetrics,
  runtimeProcessMetrics,
  seriesNames,
} from '../../src/metric-catalogue.ts';
import {
  dashboardExpressions,
  dashboardLabelQueries,
  type Expression,
  ruleExpressions,
} from '../../src/promql/extract.ts';
import { interpolate } from '../../src/promql/interpolate.ts';
import { type FakeAnthropic, fakeUsage, startFakeAnthropic } from '../support/fake-anthropic.ts';
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
// Alerts on a broken operator (no replica leads, none is scraped) or broken rules (an evaluation fails)
// have no data while all runs as it should: for them, the series they watch must be there under the
// labels they select (the Lease name; Prometheus' `rule_group` of a Hal9 group, "<file>;<group>").
const brokenOnly: Readonly<Record<string, string>> = {
  Hal9OperatorNoLeader: 'leader_election_master_status{name="hal9-operator-leader"}',
  Hal9OperatorDown: 'leader_election_master_status{name="hal9-operator-leader"}',
  // Its watches do not fail here: the series it reads is there, at 0, for each informer.
  Hal9OperatorWatchFailing: 'hal9_operator_informer_restarts_total{informer="neurons"}',
  Hal9RuleEvaluationFailing: 'prometheus_rule_evaluation_failures_total{rule_group=~".+;hal9-.+"}',
};
// The test namespace: where the Neurons live, the operator watches and holds its Lease, and the
// target label of every scrape (as Kubernetes service discovery would set it).
let namespace = '';
// What Grafana would substitute with "All" selected (and the test namespace chosen).
const variables = () => ({
  namespace,
  // The Neurons live in the operator's namespace here.
  neuron_namespace: namespace,
  // Its "All" (every runtime series has the label; other programs' process series do not).
  hal9_cluster: '.+',
  neuron: '.*',
  controller: '.*',
  // Grafana's own "All": the values found, here the one job of the operator's replicas.
  job: 'hal9-operator',
  __rate_interval: '1m',
});

const dashboardExprs: Expression[] = dashboardFiles.flatMap((f) =>
  dashboardExpressions(f, readDashboard(f) as never),
);
const ruleExprs: Expression[] = ruleExpressions(readRules());
const labelQueries = dashboardFiles.flatMap((f) => dashboardLabelQueries(f, readDashboard(f) as never));

// perf: mock mode, default topology with an L4 that forwards to a neuron it is not connected to too,
// a slow L3 (100 ms), the L4 cache on (unique contents: misses), a small executor and queue
// (saturation, 429s: new requests' signals wait for a slot behind forwarded ones, so arrival → answer
// latency exceeds processing time).
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
      L4: [{ trigger: 'default', response: 'FORWARD_TO: design-1, impl-1\nCONTENT: design it', delay_ms: 0 }],
      L3: [{ trigger: 'default', response: 'FORWARD_TO: impl-1\nCONTENT: build it', delay_ms: 100 }],
      L2: [{ trigger: 'default', response: 'RESULT: built', delay_ms: 0 }],
    },
  },
};

// USD per million tokens at Anthropic's list ratios (cache read 0.1×, cache write 1.25× the input price,
// the parser's defaults), so the dashboard's prompt-cache estimate is exact here.
const prices = {
  'claude-sonnet-5-5': { input: 3, output: 15 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
};

// api mode against the fake Messages API: one L2 neuron, so each request is one upstream call.
// Priced: throttled's answers cost money (the default cost limit applies to it).
const apiConfig = (name: string, baseUrl: string, failureThreshold: number) => ({
  cluster: { name },
  neurons: [{ id: 'impl-1', layer: 'L2', system_prompt: 'build', forward_connections: [] }],
  performance: { circuit_breaker: { failure_threshold: failureThreshold, timeout_seconds: 600 } },
  claude: { mode: 'api', base_url: baseUrl, max_retries: 0, timeout_ms: 5000, prices },
});

// priced: api mode with client keys, a response cache, and a fallback from sonnet to haiku. The fake
// answers "overload" with 529 on sonnet (retried once, then handed to haiku, which answers); "ok" contents
// repeat, so the response cache answers most of them. Its Hal9Cluster's cost limit is overridden to almost
// nothing, so Hal9CostBurnRateHigh evaluates true.
const primaryModel = 'claude-sonnet-4-5';
const spareModel = 'claude-haiku-4-5';
const pricedConfig = (baseUrl: string) => ({
  cluster: { name: 'priced' },
  neurons: [
    {
      id: 'impl-1',
      layer: 'L2',
      system_prompt: 'build',
      forward_connections: [],
      fallback_models: [spareModel],
    },
  ],
  performance: {
    cache_layers: ['L2'],
    circuit_breaker: { failure_threshold: 10_000, timeout_seconds: 600 },
  },
  claude: {
    mode: 'api',
    model: primaryModel,
    base_url: baseUrl,
    max_retries: 0,
    timeout_ms: 5000,
    retry: { max_retries: 1, base_delay_ms: 5, max_delay_ms: 20 },
    prices,
  },
});
// Before the first scrape, every priced series is created with a good part of its final value: each then
// has the same rate() extrapolation (same target, same scrapes), so the window's ratios are the calls' own.
// After it, "ok" contents are all cache hits and every paid call is an "overload" that haiku answers.
const pricedWarmUp = (i: number) => (i < 4 ? `ok ${i}` : i % 2 === 0 ? `overload warm ${i}` : `ok ${i % 4}`);
const pricedContent = (i: number) => (i % 3 === 0 ? `overload ${i}` : `ok ${i % 4}`);
const clientKeys = { alpha: 'alpha-key-0123456789abcdef', beta: 'beta-key-0123456789abcdef' };
const pricedClient = (i: number) => (i % 2 === 0 ? 'alpha' : 'beta');
const pricedLimitUsdPerHour = 0.000001;

const apiKey = { ANTHROPIC_API_KEY: 'test-key' };

// saturated: one slot held by a signal that takes minutes and two more waiting behind it, so every
// scrape sees a busy executor and a standing queue (Hal9QueueSaturated), however loaded the machine.
// perf's queue saturates too, but empties for a few milliseconds now and then as its work flows
// through, which a scrape may hit. A short drain timeout lets it stop with the work unfinished; a long
// request deadline keeps the held and waiting signals from timing out (30 s by default) before the end.
// A neuron another pod hosts (nothing forwards to it) gives the per-peer series theirs, at zero.
const saturatedConfig = {
  cluster: { name: 'saturated' },
  server: { drain_timeout_ms: 500 },
  neurons: [
    { id: 'impl-1', layer: 'L2', system_prompt: 'build', forward_connections: [] },
    {
      id: 'remote-1',
      layer: 'L1',
      system_prompt: 'elsewhere',
      forward_connections: [],
      endpoint: 'http://127.0.0.1:9',
    },
  ],
  performance: { max_concurrent_signals: 1, max_queue_depth: 2, request_timeout_ms: 600_000 },
  claude: {
    mode: 'mock',
    mock_responses: { L2: [{ trigger: 'default', response: 'RESULT: built', delay_ms: 300_000 }] },
  },
};

// sluggish: mock mode, one neuron that answers every signal in 80 ms (over the 50 ms objective) with a slot
// for each client: hundreds of signals in seconds, all late, past the latency slow burn's minimum of 600.
// Impatient callers give up on it after 20 ms: about 10 % of its requests are cancelled (Hal9RequestsAbandoned).
const sluggishConfig = {
  cluster: { name: 'sluggish' },
  neurons: [{ id: 'impl-1', layer: 'L2', system_prompt: 'build', forward_connections: [] }],
  performance: { max_concurrent_signals: 32, max_queue_depth: 256 },
  claude: {
    mode: 'mock',
    mock_responses: { L2: [{ trigger: 'default', response: 'RESULT: built', delay_ms: 80 }] },
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
  /** broken's OTLP collector: it refuses every batch (400, not retried), so its spans are dropped. */
  const collector = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{}'));
  });
  const files = mkdtempSync(join(tmpdir(), 'hal9-monitoring-'));
  let pricedUrl = '';
  let pricedSent = 0;
  let overloadsSent = 0;
  /** The priced runtime's load: counts what it sends, with alternating client keys. */
  const pricedLoad = (url: string, content: (i: number) => string, maxRequests: number) =>
    driveLoad({
      url,
      content: (i) => {
        const c = content(i);
        pricedSent++;
        if (c.startsWith('overload')) overloadsSent++;
        return c;
      },
      headers: (i) => ({ authorization: `Bearer ${clientKeys[pricedClient(i)]}` }),
      workers: 1,
      maxRequests,
      maxMs: 20_000,
      backoffMs: 100,
      paceMs: 50,
    });

  beforeAll(async () => {
    testNamespace = await createTestNamespace(kc, 'monitoring');
    namespace = testNamespace.name;
    fake = await startFakeAnthropic({ spareModels: [spareModel] });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const traces = {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    const keysFile = join(files, 'api-keys.yaml');
    writeFileSync(keysFile, stringify(clientKeys));
    // The overrides an operator would add for a Hal9Cluster (README: "Cost limit", "Latency objective").
    const limitsFile = join(files, 'cost-limits.yaml');
    writeFileSync(
      limitsFile,
      stringify({
        groups: [
          {
            name: 'hal9-cost-limits',
            rules: [
              {
                record: 'cluster:hal9_cost_limit_usd_per_hour:config',
                expr: `vector(${pricedLimitUsdPerHour})`,
                labels: { namespace, hal9_cluster: 'priced' },
              },
            ],
          },
          {
            name: 'hal9-latency-objectives',
            rules: [
              // Written as Prometheus 3 stores the bound; this Prometheus (2) stores the runtime's "10".
              {
                record: 'cluster:hal9_latency_slo_seconds:config',
                expr: 'vector(10)',
                labels: { namespace, hal9_cluster: 'throttled', le: '10.0' },
              },
              // No bucket ends at 20 s: Hal9LatencyObjectiveUnmatched.
              {
                record: 'cluster:hal9_latency_slo_seconds:config',
                expr: 'vector(20)',
                labels: { namespace, hal9_cluster: 'priced', le: '20' },
              },
            ],
          },
          // A namespace without a Hal9Cluster is no override: ignored, never a second default (which would
          // fail every evaluation of the objectives and limits that apply).
          {
            name: 'hal9-not-overrides',
            rules: [
              {
                record: 'cluster:hal9_latency_slo_seconds:config',
                expr: 'vector(30)',
                labels: { namespace, le: '30' },
              },
              {
                record: 'cluster:hal9_cost_limit_usd_per_hour:config',
                expr: 'vector(0)',
                labels: { namespace },
              },
            ],
          },
        ],
      }),
    );
    const operatorOptions = (identity: string) => ({
      kubeconfigPath: kubeconfigPathFromInject(),
      namespace,
      identity,
    });
    // Each process is listed as soon as it runs, so afterAll stops it even if another fails to start.
    const [perf, throttled, broken, saturated, priced, sluggish, leader] = await Promise.all([
      startRuntime(perfConfig).then(into(runtimes)),
      startRuntime(apiConfig('throttled', fake.url, 10_000), apiKey).then(into(runtimes)),
      startRuntime(apiConfig('broken', fake.url, 5), { ...apiKey, ...traces }).then(into(runtimes)),
      startRuntime(saturatedConfig).then(into(runtimes)),
      startRuntime(pricedConfig(fake.url), { ...apiKey, HAL9_API_KEYS_FILE: keysFile }).then(into(runtimes)),
      startRuntime(sluggishConfig).then(into(runtimes)),
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
    pricedUrl = priced.url;
    loads.pricedWarmUp = await pricedLoad(priced.url, pricedWarmUp, 20);
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
      ruleFiles: [rulesPath, limitsFile],
      selfScrape: true,
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
    const [perfResult, throttledResult, brokenResult, pricedResult, sluggishResult, impatientResult] =
      await Promise.all([
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
        // Over the error slow burn's minimum of 600 admitted requests; after 5 failures its breaker
        // answers at once.
        driveLoad({
          url: broken.url,
          content: (i) => `fail ${i}`,
          workers: 1,
          maxRequests: 700,
          maxMs: 20_000,
          backoffMs: 100,
          paceMs: 10,
        }),
        pricedLoad(priced.url, pricedContent, 120),
        driveLoad({
          url: sluggish.url,
          content: (i) => `slow ${i}`,
          workers: 16,
          maxRequests: 700,
          maxMs: 20_000,
          backoffMs: 100,
        }),
        driveLoad({
          url: sluggish.url,
          content: (i) => `impatient ${i}`,
          workers: 2,
          maxRequests: 80,
          maxMs: 20_000,
          backoffMs: 100,
          timeoutMs: 20,
        }),
        waitForOperatorActivity(leader),
      ]);
    Object.assign(loads, {
      perf: perfResult,
      throttled: throttledResult,
      broken: brokenResult,
      priced: pricedResult,
      sluggish: sluggishResult,
      impatient: impatientResult,
    });
    // The window ends only once every target was scraped after the loads, and every rule group
    // evaluated after those scrapes.
    await waitForScrapesAfter(prometheus, Date.now() / 1000);
    window = { start: Math.ceil(started) + 2, end: Math.floor(Date.now() / 1000) };
  });

  afterAll(async () => {
    pending.abort();
    await prometheus?.stop();
    await Promise.all(runtimes.map((r) => r.stop()));
    // The standby first, so the leader's release does not hand the Lease over during shutdown.
    for (const o of [...operators].reverse()) await o.stop();
    await fake?.close();
    collector.closeAllConnections();
    collector.close();
    await testNamespace?.delete();
    rmSync(files, { recursive: true, force: true });
  });

  it('drove the intended conditions', async () => {
    expect(Object.keys(loads.perf ?? {})).toContain('200');
    expect(loads.perf?.['429'] ?? 0).toBeGreaterThan(0);
    expect(fake.calls().throttle ?? 0).toBeGreaterThan(0);
    expect(fake.calls().ok ?? 0).toBeGreaterThan(0);
    // Health is that of each target's newest scrape: one that timed out (900 ms) on a loaded machine
    // is retried every second, so a healthy target is up again within a few scrapes.
    await vi.waitFor(
      async () => {
        const targets = await prometheus.scrapedTargets();
        expect(targets.map((t) => `${t.job} ${t.health} ${t.lastError}`).sort()).toEqual([
          'hal9-operator up ',
          'hal9-operator up ',
          'hal9-runtime up ',
          'hal9-runtime up ',
          'hal9-runtime up ',
          'hal9-runtime up ',
          'hal9-runtime up ',
          'hal9-runtime up ',
          'prometheus up ',
        ]);
      },
      { timeout: 30_000, interval: 500 },
    );
    expect(Object.keys(loads.pricedWarmUp ?? {})).toEqual(['200']);
    expect(Object.keys(loads.priced ?? {})).toEqual(['200']);
    expect(Object.keys(loads.sluggish ?? {})).toEqual(['200']);
    expect(Object.keys(loads.impatient ?? {})).toEqual(['gave up']);
  });

  it('scrapes every runtime metric of the contract from the real runtimes', async () => {
    const exposed = new Set<string>();
    for (const r of runtimes) {
      const text = await (await fetch(`${r.url}/metrics`)).text();
      for (const name of metricNames(text)) exposed.add(name);
      expect(text).toMatch(/hal9_cluster="(perf|throttled|broken|saturated|priced|sluggish)"/);
    }
    const missing = [...runtimeMetrics, ...runtimeProcessMetrics].flatMap((spec) =>
      seriesNames(spec).filter((s) => !exposed.has(s)),
    );
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
    // And its process's own, which stock controller dashboards read.
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ])
      expect(exposed.has(name), name).toBe(true);
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
    // It counts a decision before it writes the condition at the end of that pass: wait for the write.
    const tuned = await waitFor(
      'the ParallelismTuned condition',
      async () => (await neuronConditions(tunedNeuron)).find((c) => c.type === 'ParallelismTuned'),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(tuned.reason, tuned.message).toMatch(/^(MetricsAvailable|NoData)$/);
    // Every reason's series exists from the start, at zero until counted: this one never was.
    expect(
      await value(`sum(hal9_operator_parallelism_decisions_total{${sel}, reason="MetricsUnavailable"})`),
    ).toBe(0);
  });

  it('holds the SLO to arrival → answer latency: neurons that only wait for a slot breach it', async () => {
    // perf's strategic-1 answers at once (delay 0), but new requests' signals wait for one of two slots
    // behind the forwarded ones (design-1's take 100 ms, and forwarded signals start first): its
    // processing time stays under 50 ms while callers wait for the slot too.
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
    const hidden = ['strategic-1', 'design-1', 'impl-1'].filter(
      (n) => (processing[n] ?? 1) < 0.05 && (latency[n] ?? 0) > 0.05,
    );
    expect(hidden, JSON.stringify({ processing, latency })).toContain('strategic-1');
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

  it('counts clients, retries, fallbacks, tokens and cost per model as the runtime answered them', async () => {
    const text = await (await fetch(`${pricedUrl}/metrics`)).text();
    const sample = (name: string, labels: Record<string, string>) => {
      const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    };
    // Every request carried a key: the two clients add up to what was sent, alternating within each load.
    const alpha = sample('hal9_client_requests_total', { client: 'alpha' });
    const beta = sample('hal9_client_requests_total', { client: 'beta' });
    expect(alpha + beta).toBe(pricedSent);
    expect(Math.abs(alpha - beta)).toBeLessThanOrEqual(2);
    // Each "overload" was retried once on sonnet (529), then handed to haiku, which answered.
    const fallbacks = sample('hal9_model_fallbacks_total', { from: primaryModel, to: spareModel });
    expect(fallbacks).toBe(overloadsSent);
    expect(sample('hal9_upstream_retries_total', { upstream: 'claude-api', status: '529' })).toBe(
      overloadsSent,
    );
    // Both models were paid for; the four "ok" contents were answered once each, then from the cache.
    const calls = { [primaryModel]: 4, [spareModel]: fallbacks };
    for (const [model, n] of Object.entries(calls)) {
      const p = prices[model as keyof typeof prices];
      const perCall =
        (fakeUsage.input * p.input +
          fakeUsage.output * p.output +
          fakeUsage.cacheRead * p.input * 0.1 +
          fakeUsage.cacheCreation * p.input * 1.25) /
        1e6;
      expect(sample('hal9_cost_usd_total', { model })).toBeCloseTo(n * perCall, 12);
    }
    expect(sample('hal9_neuron_tokens_total', { neuron: 'impl-1', type: 'cache_read' })).toBe(
      (4 + fallbacks) * fakeUsage.cacheRead,
    );
  });

  it('estimates cache savings and applies the cost limits on the real series', async () => {
    const at = window.end;
    const one = async (expr: string) => {
      // A range over the whole run: it starts before the first scrape, whenever the loads ended.
      const vars = { ...variables(), __rate_interval: '10m' };
      const r = (await prometheus.query(interpolate(expr, vars), at)).data?.result ?? [];
      return Object.fromEntries(
        r.map((x) => [x.metric.neuron ?? x.metric.hal9_cluster, Number((x.value as [number, string])[1])]),
      );
    };
    const sel = 'hal9_cluster="priced"';
    // The fake's usage at list-price ratios: prompt-cache savings are exactly (0.9 × reads − 0.25 × writes)
    // input prices per call, i.e. that share of the cost.
    const u = fakeUsage;
    const share =
      (0.9 * u.cacheRead - 0.25 * u.cacheCreation) /
      (u.input + 5 * u.output + 0.1 * u.cacheRead + 1.25 * u.cacheCreation);
    const cost = (await one(`3600 * sum by (neuron) (rate(hal9_cost_usd_total{${sel}}[10m]))`))['impl-1'];
    const prompt = (await one(promptCacheSavings.replaceAll('hal9_cluster=~"$hal9_cluster"', sel)))['impl-1'];
    expect(cost).toBeGreaterThan(0);
    expect(prompt! / cost!).toBeCloseTo(share, 9);
    // A response-cache hit is valued at the mean paid call: in the window, every paid call is haiku's.
    const response = (await one(responseCacheSavings.replaceAll('hal9_cluster=~"$hal9_cluster"', sel)))[
      'impl-1'
    ];
    const hits = (await one(`3600 * sum by (neuron) (rate(hal9_cache_hits_total{${sel}}[10m]))`))['impl-1'];
    const perCall = (p: { input: number; output: number }) =>
      (u.input * p.input +
        u.output * p.output +
        u.cacheRead * p.input * 0.1 +
        u.cacheCreation * p.input * 1.25) /
      1e6;
    expect(hits).toBeGreaterThan(0);
    expect(response! / hits! / perCall(prices[spareModel])).toBeCloseTo(1, 6);
    // Hit ratio of the prompt cache: reads over prompt tokens.
    const ratio = await one(`neuron:hal9_neuron_tokens_cache_read_per_prompt_tokens:ratio_rate5m{${sel}}`);
    expect(ratio['impl-1']).toBeCloseTo(u.cacheRead / (u.input + u.cacheRead + u.cacheCreation), 9);
    // The override applies to priced, the default (10 USD/h) to throttled and broken (never answered, but
    // a priced model's cost series exists from the start, at 0).
    const limits = await one(`cluster:hal9_cost_limit_usd_per_hour:effective{namespace="${namespace}"}`);
    expect(limits).toEqual({ priced: pricedLimitUsdPerHour, throttled: 10, broken: 10 });
  });

  it('evaluates every rule without error, with rules of the override names that are no overrides loaded', async () => {
    const failing = (await prometheus.ruleHealth()).filter((r) => r.health !== 'ok');
    expect(failing).toEqual([]);
    // Hal9RuleEvaluationFailing's selector takes every Hal9 group, as Prometheus names them.
    const groups = await prometheus.query(
      'count(prometheus_rule_evaluation_failures_total{rule_group=~".+;hal9-.+"})',
    );
    const hal9Groups = readRules().groups.length + 3; // and the overrides' (limits, objectives, not overrides)
    expect(Number(groups.data?.result[0]?.value?.[1 as never])).toBe(hal9Groups);
    const failures = await prometheus.query(
      'sum(prometheus_rule_evaluation_failures_total{rule_group=~".+;hal9-.+"})',
    );
    expect(failures.data?.result[0]?.value?.[1 as never]).toBe('0');
  });

  it('reports the Neurons whose runtimes it does not scrape, and knows a runtime by its pod’s name', async () => {
    // The operator runs three Neurons; perf's runtime is scraped as strategic-1's pod (by name, without the
    // operator's target label). design-1's and impl-1's pods are kwok's: nothing to scrape.
    const rule = readRules()
      .groups.flatMap((g) => g.rules)
      .find((r) => r.alert === 'Hal9RuntimeNotScraped');
    const result = await prometheus.query(rule?.expr ?? '', window.end);
    expect(
      (result.data?.result ?? [])
        .filter((s) => s.metric.namespace === namespace)
        .map((s) => s.metric.neuron)
        .sort(),
    ).toEqual(['design-1', refusedNeuron].sort());
  });

  it('selects the bucket of a latency objective written "10.0" where Prometheus stores "10"', async () => {
    const buckets = await prometheus.query(
      `count by (le) (hal9_signal_latency_seconds_bucket{namespace="${namespace}", hal9_cluster="throttled", le=~"10([.]0)?"})`,
    );
    expect((buckets.data?.result ?? []).map((s) => s.metric.le)).toEqual(['10']);
    const late = await prometheus.query(
      `neuron:hal9_signal_latency_seconds_over_slo_per_signals:ratio_rate5m{namespace="${namespace}", hal9_cluster="throttled"}`,
    );
    // The fake answers within 10 s: none late, and a ratio at all only if the bucket was found.
    expect((late.data?.result ?? []).map((s) => [s.metric.neuron, s.value?.[1 as never]])).toEqual([
      ['impl-1', '0'],
    ]);
  });

  it('takes in no other program’s process series with "All" (the operator exports the same names)', async () => {
    const memory = dashboardExprs.find((e) => e.source.includes('› Resident memory by pod ›'));
    const selector = /process_resident_memory_bytes\{([^}]*)\}/.exec(memory?.expr ?? '')?.[1];
    expect(selector).toBeDefined();
    const jobs = async (sel: string) =>
      ((await prometheus.query(`count by (job) (process_resident_memory_bytes{${sel}})`)).data?.result ?? [])
        .map((s) => s.metric.job)
        .sort();
    expect(await jobs(`namespace="${namespace}"`)).toEqual(['hal9-operator', 'hal9-runtime']);
    expect(await jobs(interpolate(selector!, variables()))).toEqual(['hal9-runtime']);
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
      const watched = brokenOnly[e.source.split(' › ')[1] ?? ''];
      const data = watched ? await prometheus.queryRange(watched, window.start, window.end, 1) : result;
      const points = (data.data?.result ?? []).reduce((n, s) => n + (s.values?.length ?? 0), 0);
      expect(points, `no data for ${watched ?? expr}`).toBeGreaterThan(0);
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
      'Hal9RequestsAbandoned',
      'Hal9CircuitBreakerOpen',
      'Hal9ExecutorRejections',
      'Hal9QueueSaturated',
      'Hal9OperatorReconcileErrors',
      'Hal9CostBurnRateHigh',
      'Hal9TraceExportFailing',
      'Hal9LatencyObjectiveUnmatched',
      'Hal9RuntimeNotScraped',
    ])
      expect(names).toContain(alert);
    // Only priced's objective (20 s) is no bucket bound; throttled's "10.0" is the bucket "10".
    const unmatched = await prometheus.query(
      `ALERTS{alertname="Hal9LatencyObjectiveUnmatched", namespace="${namespace}"}`,
    );
    expect((unmatched.data?.result ?? []).map((s) => s.metric.hal9_cluster)).toEqual(['priced']);
    // Only priced is over its limit: throttled spends far less than the default 10 USD/h.
    const cost = await prometheus.query(`ALERTS{alertname="Hal9CostBurnRateHigh", namespace="${namespace}"}`);
    expect((cost.data?.result ?? []).map((s) => s.metric.hal9_cluster)).toEqual(['priced']);
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

/**
 * Waits until every target's newest scrape started after `since`, then until every rule group has
 * evaluated after those scrapes (groups evaluate at offsets of their own, so the mark is fixed once).
 */
async function waitForScrapesAfter(prometheus: RunningPrometheus, since: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  let scraped: number | undefined;
  while (Date.now() < deadline) {
    if (scraped === undefined) {
      const scrapes = (await prometheus.scrapedTargets()).map((t) => t.lastScrape);
      if (scrapes.length > 0 && Math.min(...scrapes) > since) scraped = Math.max(...scrapes);
    }
    if (scraped !== undefined) {
      const evaluations = await prometheus.ruleEvaluations();
      if (evaluations.length > 0 && Math.min(...evaluations) > scraped) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const scrapes = (await prometheus.scrapedTargets()).map((t) => `${t.job} ${t.health} ${t.lastScrape}`);
  throw new Error(
    `Prometheus did not scrape every target and evaluate every rule group after ${since}: scrapes ${scrapes.join(', ')}; evaluations ${(await prometheus.ruleEvaluations()).join(', ')}`,
  );
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
