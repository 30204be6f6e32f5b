import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { operatorDashboardUid } from '../../src/dashboards/hal9-operator.ts';
import { performanceDashboardUid } from '../../src/dashboards/hal9-performance.ts';
import { type DashboardJson, lintDashboard } from '../../src/lint/dashboard-lint.ts';
import { resolveSeries } from '../../src/metric-catalogue.ts';
import { dashboardExpressions, flattenPanels } from '../../src/promql/extract.ts';
import { dashboardFiles, readDashboard, repoRoot } from '../support/repo.ts';

const performance = () => readDashboard('hal9-performance.json');
const exprs = (d: DashboardJson, file: string) => dashboardExpressions(file, d as never).map((e) => e.expr);
/** Each use of a known metric in an expression, as [metric, its selector ('' when bare)]. */
const selectors = (expr: string) =>
  [...expr.matchAll(/(?<![\w:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?/g)]
    .map((m) => [m[1] ?? '', m[2] ?? ''] as const)
    .filter(([metric]) => resolveSeries(metric) !== undefined);
const targetsOf = (d: DashboardJson) =>
  (
    flattenPanels(d.panels as never) as {
      title: string;
      targets?: { expr: string; legendFormat?: string }[];
    }[]
  ).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

describe('generated dashboards', () => {
  it('match the TypeScript sources and the chart copies (gen:dashboards --check)', () => {
    const run = spawnSync(process.execPath, ['monitoring/src/gen.ts', '--check'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it.each(dashboardFiles)('%s passes the dashboard lint', (file) => {
    expect(lintDashboard(readDashboard(file))).toEqual([]);
  });

  it('keep their uids', () => {
    expect(readDashboard('hal9-performance.json').uid).toBe('hal9-performance');
    expect(performanceDashboardUid).toBe('hal9-performance');
    expect(readDashboard('hal9-operator.json').uid).toBe('hal9-operator');
    expect(operatorDashboardUid).toBe('hal9-operator');
  });

  it('give every panel a unique id', () => {
    for (const file of dashboardFiles) {
      const ids = flattenPanels(readDashboard(file).panels as never).map((p) => (p as { id?: number }).id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => typeof id === 'number' && id > 0)).toBe(true);
    }
  });
});

describe('hal9-performance', () => {
  it('has datasource, namespace, Hal9Cluster and neuron variables', () => {
    expect(performance().templating?.list?.map((v) => v.name)).toEqual([
      'datasource',
      'namespace',
      'hal9_cluster',
      'neuron',
    ]);
  });

  const panelExprs = (title: string) =>
    (
      flattenPanels(performance().panels as never).find((p) => p.title === title) as {
        targets: { expr: string }[];
      }
    ).targets.map((t) => t.expr);

  it('draws the SLO thresholds on the arrival → answer latency percentiles', () => {
    const panel = flattenPanels(performance().panels as never).find(
      (p) => p.title === 'Latency p50 / p95 / p99 (arrival → answer)',
    ) as { fieldConfig: { defaults: { thresholds: { steps: { value: number | null }[] } } } };
    expect(panel.fieldConfig.defaults.thresholds.steps.map((s) => s.value)).toEqual([null, 0.02, 0.05, 0.1]);
  });

  it('measures the SLO panels on hal9_signal_latency_seconds, never on processing time', () => {
    for (const title of [
      'Latency p50 / p95 / p99 (arrival → answer)',
      'Latency p95 by neuron (arrival → answer)',
      'Latency SLO: signals answered within the objective by neuron',
    ]) {
      // The objective drawn beside a latency is no latency.
      const exprs = panelExprs(title).filter(
        (e) => !e.startsWith('max by (namespace, hal9_cluster) (cluster:'),
      );
      expect(exprs.length, title).toBeGreaterThan(0);
      for (const e of exprs) {
        expect(e, title).toContain('hal9_signal_latency_seconds_');
        expect(e, title).not.toContain('hal9_processing_time');
      }
    }
  });

  it('draws each Hal9Cluster’s latency objective beside the p95 by neuron', () => {
    expect(panelExprs('Latency p95 by neuron (arrival → answer)')).toContain(
      'max by (namespace, hal9_cluster) (cluster:hal9_latency_slo_seconds:effective{namespace=~"$namespace", hal9_cluster=~"$hal9_cluster"})',
    );
  });

  it('counts a cancelled signal in no completed-signal ratio: it had no answer to route or fail', () => {
    for (const title of ['Edge fan-out (signals sent per completed signal)', 'Error rate']) {
      const denominators = panelExprs(title).filter((e) => e.includes('hal9_signals_total'));
      expect(denominators.length, title).toBeGreaterThan(0);
      for (const e of denominators) {
        for (const m of e.matchAll(/hal9_signals_total\{([^}]*)\}/g)) {
          expect(m[1], title).toMatch(/outcome(!="cancelled"|="error")/);
        }
      }
    }
  });

  it('labels every processing-time panel as time after a slot', () => {
    const panels = flattenPanels(performance().panels as never) as {
      title: string;
      targets?: { expr: string }[];
    }[];
    const processingOnly = panels.filter(
      (p) =>
        (p.targets ?? []).some((t) => t.expr.includes('hal9_processing_time')) &&
        !(p.targets ?? []).some((t) => t.expr.includes('hal9_signal_latency_seconds')),
    );
    expect(processingOnly.length).toBeGreaterThan(0);
    for (const p of processingOnly) expect(p.title).toContain('(after a slot)');
  });

  it('shows queue wait as arrival → answer latency less processing time, over the signals answered, per neuron', () => {
    const [wait] = panelExprs('Queue wait vs processing (mean per signal)');
    // Sums first: a shed signal has latency and no processing time, so a difference of means would miss it.
    expect(wait).toMatch(
      /^clamp_min\(\(sum by \(namespace, hal9_cluster, neuron\) \(rate\(hal9_signal_latency_seconds_sum\{.*\}\[\$__rate_interval\]\)\) - sum by \(namespace, hal9_cluster, neuron\) \(rate\(hal9_processing_time_sum\{.*\}\[\$__rate_interval\]\)\)\) \/ \(sum by \(namespace, hal9_cluster, neuron\) \(rate\(hal9_signal_latency_seconds_count\{.*\) > 0\), 0\)$/,
    );
  });

  it('divides each edge by the completed signals of its source neuron for fan-out', () => {
    const [fanOut] = panelExprs('Edge fan-out (signals sent per completed signal)');
    expect(fanOut).toMatch(
      /^sum by \(namespace, hal9_cluster, neuron, target\) \(rate\(hal9_edge_signals_total\{.*\) \/ on \(namespace, hal9_cluster, neuron\) group_left \(\) \(sum by \(namespace, hal9_cluster, neuron\) \(rate\(hal9_signals_total\{/,
    );
  });

  it.each([
    [
      'arrival → answer latency percentiles',
      /histogram_quantile\(0\.99, sum by \(le\) \(rate\(hal9_signal_latency_seconds_bucket/,
    ],
    [
      'processing time percentiles',
      /histogram_quantile\(0\.99, sum by \(le\) \(rate\(hal9_processing_time_bucket/,
    ],
    ['arrivals per neuron', /sum by \(namespace, hal9_cluster, neuron\) \(rate\(hal9_signals_arrived_total/],
    [
      'signals per edge',
      /sum by \(namespace, hal9_cluster, neuron, target\) \(rate\(hal9_edge_signals_total/,
    ],
    ['request latency', /hal9_request_duration_seconds_bucket/],
    ['requests per second', /sum by \(outcome\) \(rate\(hal9_requests_total/],
    ['signals per second', /rate\(hal9_signals_total/],
    ['L2 cache hit rate', /hal9_cache_hits_total\{[^}]*layer="L2"/],
    ['cache hit rate per layer', /sum by \(layer\) \(rate\(hal9_cache_hits_total/],
    ['batch size', /hal9_batch_size_average/],
    ['parallel utilization', /hal9_parallel_tasks_active\{[^}]*\}\) \/ \(sum\(hal9_parallel_tasks_max/],
    ['tuned parallelism', /hal9_operator_neuron_parallelism/],
    ['queue depth', /hal9_queue_depth/],
    ['executor rejections', /rate\(hal9_executor_rejections_total/],
    ['breaker state per upstream', /max by \(upstream\) \(hal9_circuit_breaker_state/],
    ['upstream latency', /hal9_upstream_request_duration_seconds_bucket/],
    ['upstream status', /sum by \(upstream, status\) \(rate\(hal9_upstream_requests_total/],
    ['upstream throttling', /status=~"429\|529"/],
    ['tokens', /rate\(hal9_tokens_total/],
    ['requests per client', /sum by \(client\) \(rate\(hal9_client_requests_total/],
    [
      'tokens per neuron and type',
      /sum by \(namespace, hal9_cluster, neuron, type\) \(rate\(hal9_neuron_tokens_total/,
    ],
    [
      'cost per neuron and model in USD/h',
      /^3600 \* sum by \(namespace, hal9_cluster, neuron, model\) \(rate\(hal9_cost_usd_total/,
    ],
    ['the cost limit of the burn-rate alert', /cluster:hal9_cost_limit_usd_per_hour:effective\{/],
    ['retries per upstream and status', /sum by \(upstream, status\) \(rate\(hal9_upstream_retries_total/],
    [
      'fallbacks per neuron and model pair',
      /sum by \(namespace, hal9_cluster, neuron, from, to\) \(rate\(hal9_model_fallbacks_total/,
    ],
    ['forwarded signals', /rate\(hal9_signals_forwarded_total/],
    ['dropped signals', /rate\(hal9_signals_dropped_total/],
  ])('shows %s', (_name, pattern) => {
    expect(exprs(performance(), 'p').some((e) => pattern.test(e))).toBe(true);
  });

  it('computes the prompt-cache hit ratio over prompt tokens only, per neuron', () => {
    const [hitRatio] = panelExprs('Prompt-cache hit ratio by neuron');
    expect(hitRatio).toMatch(
      /^\(sum by \(namespace, hal9_cluster, neuron\) \(rate\(hal9_neuron_tokens_total\{[^}]*type="cache_read"\}.* \/ \(sum by \(namespace, hal9_cluster, neuron\) \(rate\(hal9_neuron_tokens_total\{[^}]*type=~"input\|cache_read\|cache_creation"\}/,
    );
  });

  it('says that the cache savings are an estimate and how they are estimated', () => {
    const panel = flattenPanels(performance().panels as never).find(
      (p) => p.title === 'Cache savings per neuron (USD/h, estimate)',
    ) as { description: string; targets: { legendFormat: string }[] };
    expect(panel.description).toMatch(/^An estimate/);
    expect(panel.description).toContain('list-price ratios');
    expect(panel.targets.map((t) => t.legendFormat)).toEqual([
      'response cache {{namespace}}/{{hal9_cluster}}/{{neuron}}',
      'prompt cache {{namespace}}/{{hal9_cluster}}/{{neuron}}',
    ]);
  });

  it('keeps namespace and Hal9Cluster in every per-neuron line, since neuron ids repeat across Hal9Clusters', () => {
    const merged = targetsOf(performance()).flatMap((t) => {
      const problems: string[] = [];
      if (
        t.legendFormat?.includes('{{neuron}}') &&
        !t.legendFormat.includes('{{namespace}}/{{hal9_cluster}}/')
      )
        problems.push(`${t.panel}: legend ${t.legendFormat}`);
      // Every grouping or matching that keeps `neuron` keeps both labels too, but for the operator's
      // gauge, which has no hal9_cluster (a Neuron's name is unique in its namespace).
      const operatorSide = t.expr.includes('hal9_operator_neuron_parallelism') ? ['namespace, neuron'] : [];
      for (const [clause, list = ''] of t.expr.matchAll(/\b(?:by|on) \(([^)]*)\)/g)) {
        const labels = list.split(', ');
        if (!labels.includes('neuron') || operatorSide.includes(list)) continue;
        if (!labels.includes('namespace') || !labels.includes('hal9_cluster'))
          problems.push(`${t.panel}: ${clause}`);
      }
      return problems;
    });
    expect(merged).toEqual([]);
  });

  it('filters every per-neuron target on $neuron wherever its metric has a neuron label', () => {
    const unfiltered = targetsOf(performance())
      .filter((t) => t.legendFormat?.includes('{{neuron}}'))
      .flatMap((t) =>
        selectors(t.expr)
          .filter(
            ([metric, sel]) =>
              resolveSeries(metric)?.labels.includes('neuron') && !sel.includes('neuron=~"$neuron"'),
          )
          .map(([metric]) => `${t.panel}: ${metric}`),
      );
    expect(unfiltered).toEqual([]);
  });

  it('filters runtime series by namespace and Hal9Cluster and uses $__rate_interval', () => {
    for (const e of exprs(performance(), 'p')) {
      if (e.includes('hal9_operator_')) continue;
      expect(e).toContain('namespace=~"$namespace"');
      expect(e).toContain('hal9_cluster=~"$hal9_cluster"');
      if (e.includes('rate(')) expect(e).toContain('[$__rate_interval]');
    }
  });
});

describe('hal9-operator', () => {
  const operator = () => readDashboard('hal9-operator.json');

  it('has datasource, operator job, namespace, controller and Neuron namespace variables', () => {
    expect(operator().templating?.list?.map((v) => v.name)).toEqual([
      'datasource',
      'job',
      'namespace',
      'controller',
      'neuron_namespace',
    ]);
  });

  it("keeps generic operator series (controller-runtime's, work queues', leader election's) to the Hal9 operator's jobs", () => {
    const job = operator().templating?.list?.find((v) => v.name === 'job') as
      | { query?: unknown; allValue?: string; includeAll?: boolean }
      | undefined;
    // "All" is Grafana's own: the jobs the query found, never `.*` (which matches any operator's).
    expect(job?.includeAll).toBe(true);
    expect(job?.allValue ?? '').toBe('');
    expect(JSON.stringify(job?.query)).toContain(
      'leader_election_master_status{name=~\\"hal9-operator-leader(-.+)?\\"}',
    );
    const unscoped = targetsOf(operator()).flatMap((t) =>
      selectors(t.expr).flatMap(([metric, sel]) =>
        /^(controller_runtime_|workqueue_|leader_election_)/.test(metric) && !sel.includes('job=~"$job"')
          ? [`${t.panel}: ${metric}{${sel}}`]
          : [],
      ),
    );
    expect(unscoped).toEqual([]);
  });

  it("filters the operator's series on its namespace and the per-Neuron series on the Neuron's", () => {
    // The per-Neuron gauges set their own namespace label (the Neuron's; honorLabels keeps it), so the
    // operator's namespace would match none of them, and no filter would show every namespace.
    const wrong = targetsOf(operator()).flatMap((t) =>
      selectors(t.expr).flatMap(([metric, sel]) => {
        const spec = resolveSeries(metric);
        if (spec?.source !== 'operator') return [];
        const want = spec.labels.includes('namespace') ? '$neuron_namespace' : '$namespace';
        return sel.includes(`namespace=~"${want}"`) ? [] : [`${t.panel}: ${metric}{${sel}} (want ${want})`];
      }),
    );
    expect(wrong).toEqual([]);
  });

  it.each([
    'controller_runtime_reconcile_total',
    'controller_runtime_reconcile_errors_total',
    'controller_runtime_reconcile_time_seconds_bucket',
    'workqueue_depth',
    'workqueue_adds_total',
    'workqueue_queue_duration_seconds_bucket',
    'workqueue_work_duration_seconds_bucket',
    'workqueue_retries_total',
    'leader_election_master_status',
    'hal9_operator_api_writes_total',
    'hal9_operator_neuron_parallelism',
    'hal9_operator_parallelism_decisions_total',
    'hal9_operator_parallelism_deliveries_total',
    'hal9_operator_replica_decisions_total',
    'hal9_operator_neuron_desired_replicas',
    'hal9_operator_neuron_concurrency',
    'hal9_operator_neuron_predicted_concurrency',
    'hal9_operator_edge_fanout',
    'hal9_operator_load_reads_total',
  ])('charts %s', (metric) => {
    expect(exprs(readDashboard('hal9-operator.json'), 'o').some((e) => e.includes(metric))).toBe(true);
  });
});

describe('lintDashboard', () => {
  const broken = (): DashboardJson => {
    const d = structuredClone(performance());
    const panel = flattenPanels(d.panels as never)[1] as Record<string, unknown> & {
      fieldConfig: { defaults: { unit?: string } };
      targets: { expr: string; datasource: { uid: string } }[];
    };
    delete panel.fieldConfig.defaults.unit;
    panel.description = '';
    const target = panel.targets[0]!;
    target.datasource = { uid: 'prometheus-main' };
    target.expr = 'sum(rate(hal9_queue_depth[5m])) + sum(hal9_requests_total{x="$nope"})';
    return { ...d, editable: true };
  };

  /** The dashboard with the first target of the panel titled `title` replaced. */
  const withTarget = (d: DashboardJson, title: string, expr: string): DashboardJson => {
    const copy = structuredClone(d);
    const panel = flattenPanels(copy.panels as never).find((p) => p.title === title) as {
      targets: { expr: string }[];
    };
    panel.targets[0]!.expr = expr;
    return copy;
  };

  it('reports a per-pod runtime series that ignores $neuron', () => {
    const runtime = 'namespace=~"$namespace", hal9_cluster=~"$hal9_cluster"';
    expect(
      lintDashboard(withTarget(performance(), 'Queue depth', `sum(hal9_queue_depth{${runtime}})`)),
    ).toEqual([
      'panel "Queue depth" target A: per-pod series hal9_queue_depth ignores $neuron (hal9_ai_neuron)',
    ]);
    expect(
      lintDashboard(
        withTarget(
          performance(),
          'Queue depth',
          `sum(hal9_queue_depth{${runtime}, hal9_ai_neuron=~"$neuron|"})`,
        ),
      ),
    ).toEqual([]);
    // The Hal9Cluster's requests are no pod's own work: shown per Hal9Cluster, whichever neurons answered.
    expect(
      lintDashboard(
        withTarget(
          performance(),
          'Queue depth',
          `sum(rate(hal9_requests_total{${runtime}}[$__rate_interval]))`,
        ),
      ),
    ).toEqual([]);
  });

  it('reports a series with a controller label that ignores $controller', () => {
    expect(
      lintDashboard(
        withTarget(
          readDashboard('hal9-operator.json'),
          'Work queue depth',
          'sum by (name) (workqueue_depth{namespace=~"$namespace", job=~"$job"})',
        ),
      ),
    ).toEqual(['panel "Work queue depth" target A: workqueue_depth ignores $controller']);
  });

  it('reports a per-second panel without a rate unit, and requests per second of what is not a request', () => {
    const d = structuredClone(performance());
    const panels = flattenPanels(d.panels as never) as {
      title: string;
      fieldConfig: { defaults: { unit: string } };
    }[];
    panels.find((p) => p.title === 'Tokens per second by upstream')!.fieldConfig.defaults.unit = 'short';
    panels.find(
      (p) => p.title === 'Executor rejections and late signals shed per second',
    )!.fieldConfig.defaults.unit = 'reqps';
    expect(lintDashboard(d)).toEqual([
      'panel "Executor rejections and late signals shed per second": panel-units: reqps for series that are not requests (hal9_executor_rejections_total, hal9_signals_shed_total)',
      'panel "Tokens per second by upstream": panel-units: "short" is no per-second unit',
    ]);
  });

  it('reports each kind of problem', () => {
    const problems = lintDashboard(broken()).join('\n');
    for (const rule of [
      'panel-units',
      'panel-title-description',
      'target datasource',
      'target-rate-interval: range [5m]',
      'rate() over non-counter hal9_queue_depth',
      'target-counter-agg: hal9_requests_total',
      'unknown variable $nope',
      'must not be editable',
    ])
      expect(problems).toContain(rule);
  });
});
