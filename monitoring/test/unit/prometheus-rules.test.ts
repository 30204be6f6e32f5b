import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardExpressions } from '../../src/promql/extract.ts';
import { metricNames } from '../../src/promql/metric-names.ts';
import {
  dashboardFiles,
  monitoringDir,
  readDashboard,
  readRules,
  rulesPath,
  ruleTestsDir,
} from '../support/repo.ts';

const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: ruleTestsDir, encoding: 'utf8' });
const testFiles = readdirSync(ruleTestsDir).filter((f) => f.endsWith('.test.yaml'));
const alerts = readRules().groups.flatMap((g) => g.rules.filter((r) => r.alert));

interface AlertTest {
  alertname: string;
  exp_alerts?: unknown[];
}

describe('promtool', () => {
  it('is installed', () => {
    expect(execFileSync('promtool', ['--version'], { encoding: 'utf8' })).toMatch(/promtool, version 2\./);
  });

  it('accepts the rule file', () => {
    const run = promtool('check', 'rules', rulesPath);
    expect(run.stdout + run.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(run.status).toBe(0);
  });

  it.each(testFiles)('passes %s', (file) => {
    const run = promtool('test', 'rules', file);
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it("rejects the guide's original cache expression, which has no range selector", () => {
    const run = spawnSync('promtool', ['check', 'rules', '/dev/stdin'], {
      input:
        'groups: [{name: x, rules: [{alert: X, expr: "rate(hal9_cache_hits_total) / rate(hal9_cache_requests_total) < 0.5"}]}]',
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
  });

  /** Runs one rule test file against the rule file with `from` replaced by `to` everywhere. */
  const testMutated = (testFile: string, from: string, to: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'hal9-rules-'));
    try {
      mkdirSync(join(dir, 'tests'));
      const rules = readFileSync(rulesPath, 'utf8');
      const mutated = rules.replaceAll(from, to);
      expect(mutated).not.toBe(rules);
      writeFileSync(join(dir, 'hal9-rules.yaml'), mutated);
      // The test file and the rule files it loads beside it (e.g. cost-limit overrides).
      for (const f of readdirSync(ruleTestsDir)) copyFileSync(join(ruleTestsDir, f), join(dir, 'tests', f));
      return spawnSync('promtool', ['test', 'rules', testFile], {
        cwd: join(dir, 'tests'),
        encoding: 'utf8',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('fails the unit tests when an alert threshold (the default latency objective) is changed', () => {
    // The value and its bucket together: the alert reads both (p95 against the value, the share of
    // signals over the objective from its bucket).
    const run = testMutated(
      'runtime-alerts.test.yaml',
      'expr: vector(0.05)\n        labels: { le: "0.05" }',
      'expr: vector(0.1)\n        labels: { le: "0.1" }',
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('alertname: Hal9HighLatency');
  });

  it('fails the unit tests when a Hal9Cluster’s own latency objective is ignored', () => {
    const run = testMutated(
      'runtime-alerts.test.yaml',
      'max by (namespace, hal9_cluster, le) (cluster:hal9_latency_slo_seconds:config{hal9_cluster!=""})',
      'max by (namespace, hal9_cluster, le) (cluster:hal9_latency_slo_seconds:config{hal9_cluster="none"})',
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('model-1');
  });

  it('fails the unit tests when HighLatency looks at processing time, which leaves out the queue wait', () => {
    const run = testMutated(
      'runtime-alerts.test.yaml',
      'hal9_signal_latency_seconds',
      'hal9_processing_time',
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('alertname: Hal9HighLatency');
  });

  it('fails the unit tests when the latency SLO is summed per Hal9Cluster instead of per neuron', () => {
    const run = testMutated(
      'slo-alerts.test.yaml',
      'sum by (namespace, hal9_cluster, neuron, layer) (rate(hal9_signal_latency_seconds_',
      'sum by (namespace, hal9_cluster) (rate(hal9_signal_latency_seconds_',
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('alertname: Hal9LatencyBudget');
  });

  // Changes the rule tests must catch: each is a real way to break an alert that its tests once let through.
  it.each([
    [
      'a latency objective selects its bucket in one spelling of `le` only ("10", never Prometheus 3\'s "10.0")',
      'latency-objective-buckets.test.yaml',
      'cluster:hal9_latency_slo_seconds:effective_bucket\n            )',
      'cluster:hal9_latency_slo_seconds:effective\n            )',
      'alertname: Hal9LatencyBudgetFastBurn',
    ],
    [
      'an objective written "10.0" or "0.250" keeps its spelling',
      'latency-objective-buckets.test.yaml',
      '"le", "$1", "le", "([0-9]+)[.]0*"',
      '"le", "$1", "le", "none"',
      'hal9_cluster="v2"',
    ],
    [
      'the error fast burn pages on a handful of requests (no minimum of traffic)',
      'burn-rates.test.yaml',
      'and\n          sum by (namespace, hal9_cluster) (increase(hal9_requests_total{outcome!="rejected"}[1h])) >= 100\n',
      '\n',
      'alertname: Hal9ErrorBudgetFastBurn',
    ],
    [
      'the latency slow burn reads its long window over 1h instead of 6h',
      'burn-rates.test.yaml',
      'neuron:hal9_signal_latency_seconds_over_slo_per_signals:ratio_rate6h > (6',
      'neuron:hal9_signal_latency_seconds_over_slo_per_signals:ratio_rate1h > (6',
      'alertname: Hal9LatencyBudgetSlowBurn',
    ],
    [
      'Hal9HighErrorRate allows 0.103 % instead of 0.1 %',
      'runtime-alerts.test.yaml',
      'ratio_rate5m > 0.001',
      'ratio_rate5m > 0.00103',
      'alertname: Hal9HighErrorRate',
    ],
    [
      'Hal9CostBurnRateHigh waits 1 minute instead of 2',
      'cost-alerts.test.yaml',
      'for: 2m\n        labels:\n          severity: warning\n        annotations:\n          summary: A Hal9Cluster spends',
      'for: 1m\n        labels:\n          severity: warning\n        annotations:\n          summary: A Hal9Cluster spends',
      'alertname: Hal9CostBurnRateHigh',
    ],
    [
      'a rule with a namespace and no Hal9Cluster counts as a second default latency objective (every evaluation fails)',
      'runtime-alerts.test.yaml',
      'cluster:hal9_latency_slo_seconds:config{namespace="",hal9_cluster=""}',
      'cluster:hal9_latency_slo_seconds:config{hal9_cluster=""}',
      'found duplicate series for the match group',
    ],
    [
      'a rule with a namespace and no Hal9Cluster counts as a second default cost limit (every evaluation fails)',
      'cost-alerts.test.yaml',
      'cluster:hal9_cost_limit_usd_per_hour:config{namespace="",hal9_cluster=""}',
      'cluster:hal9_cost_limit_usd_per_hour:config{hal9_cluster=""}',
      'found duplicate series for the match group',
    ],
    [
      'Hal9LowCacheHitRate warns on a handful of lookups (no minimum of traffic)',
      'runtime-alerts.test.yaml',
      'increase(hal9_cache_requests_total[10m])) >= 20',
      'increase(hal9_cache_requests_total[10m])) >= 0',
      'alertname: Hal9LowCacheHitRate',
    ],
    [
      'Hal9ExecutorRejections fires on any rejection instead of more than 1 % of requests',
      'runtime-alerts.test.yaml',
      '(sum by (namespace, hal9_cluster) (rate(hal9_requests_total[5m])) > 0)\n            > 0.01',
      '(sum by (namespace, hal9_cluster) (rate(hal9_requests_total[5m])) > 0)\n            > 0',
      'alertname: Hal9ExecutorRejections',
    ],
    [
      'Hal9RuntimeNotScraped knows a runtime by the operator’s target label only (not by its pod’s name)',
      'operator-alerts.test.yaml',
      'hal9_parallel_tasks_max{hal9_ai_neuron=""}',
      'hal9_parallel_tasks_max{hal9_ai_neuron="none"}',
      'alertname: Hal9RuntimeNotScraped',
    ],
    [
      'Hal9RuleEvaluationFailing pages on a one-off failure (no `for`)',
      'rule-evaluation.test.yaml',
      '[10m])) > 0\n        for: 10m',
      '[10m])) > 0\n        for: 0m',
      'alertname: Hal9RuleEvaluationFailing',
    ],
    [
      'Hal9OperatorDown pages only once no operator at all is scraped',
      'operator-alerts.test.yaml',
      'max_over_time(leader_election_master_status{name=~"hal9-operator-leader(-.+)?"}[6h])',
      'max_over_time(leader_election_master_status{name="none"}[6h])',
      'hal9-operator-leader-team-a',
    ],
  ])('fails the unit tests when %s', (_name, file, from, to, expected) => {
    const run = testMutated(file, from, to);
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(expected);
  });

  it('fails the unit tests when the default hourly cost limit changes', () => {
    const run = testMutated('cost-alerts.test.yaml', 'expr: vector(10)', 'expr: vector(100)');
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('alertname: Hal9CostBurnRateHigh');
  });

  it("fails the unit tests when a Hal9Cluster's cost limit override is ignored", () => {
    const run = testMutated(
      'cost-alerts.test.yaml',
      'cluster:hal9_cost_limit_usd_per_hour:config{hal9_cluster!=""}',
      'cluster:hal9_cost_limit_usd_per_hour:config{hal9_cluster="none"}',
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('alertname: Hal9CostBurnRateHigh');
  });

  it('fails the unit tests when the cost alert drops its short window (it would not resolve when spending stops)', () => {
    const run = testMutated(
      'cost-alerts.test.yaml',
      '  and\n          cluster:hal9_cost_usd_per_hour:rate5m > on (namespace, hal9_cluster) cluster:hal9_cost_limit_usd_per_hour:effective\n',
      '\n',
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('hal9_cluster="stopped"');
  });
});

describe('alert rules', () => {
  const cases = testFiles.flatMap((f) => {
    const doc = parse(readFileSync(join(ruleTestsDir, f), 'utf8')) as {
      tests: { alert_rule_test?: AlertTest[] }[];
    };
    return doc.tests.flatMap((t) => t.alert_rule_test ?? []);
  });
  const readme = readFileSync(join(monitoringDir, 'README.md'), 'utf8');

  it.each(alerts.map((a) => a.alert as string))('%s is tested firing and not firing', (name) => {
    const mine = cases.filter((c) => c.alertname === name);
    expect(mine.some((c) => (c.exp_alerts ?? []).length > 0)).toBe(true);
    expect(mine.some((c) => (c.exp_alerts ?? []).length === 0)).toBe(true);
  });

  it.each(alerts.map((a) => [a.alert as string, a] as const))(
    '%s has severity, summary, description and a runbook',
    (name, a) => {
      expect(a.labels?.severity).toMatch(/^(critical|warning|info)$/);
      expect(a.annotations?.summary).toBeTruthy();
      // An absent() alert has no labels of its series to quote: its description names what is missing.
      if (/^absent\(/.test(String(a.expr)))
        expect(a.annotations?.description).toMatch(/^Prometheus has scraped no /);
      else expect(a.annotations?.description).toMatch(/\{\{ \$labels\./);
      const anchor = name.toLowerCase();
      expect(a.annotations?.runbook_url).toBe(
        `https://github.com/hal9/hal9/blob/main/monitoring/README.md#${anchor}`,
      );
      expect(readme).toMatch(new RegExp(`^### ${name}$`, 'm'));
    },
  );

  it('includes the guide alerts, error rate, abandoned requests, breaker, throttling, queue, rejections, traces, operator, burn rates, latency objective, cost, rule failures and unscraped runtimes', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'Hal9CircuitBreakerOpen',
        'Hal9CostBurnRateHigh',
        'Hal9ErrorBudgetFastBurn',
        'Hal9ErrorBudgetSlowBurn',
        'Hal9ExecutorRejections',
        'Hal9HighErrorRate',
        'Hal9HighLatency',
        'Hal9LatencyBudgetFastBurn',
        'Hal9LatencyBudgetSlowBurn',
        'Hal9LatencyObjectiveUnmatched',
        'Hal9LowCacheHitRate',
        'Hal9OperatorDown',
        'Hal9OperatorNoLeader',
        'Hal9OperatorReconcileErrors',
        'Hal9OperatorWatchFailing',
        'Hal9QueueSaturated',
        'Hal9RequestsAbandoned',
        'Hal9RuleEvaluationFailing',
        'Hal9RuntimeNotScraped',
        'Hal9TraceExportFailing',
        'Hal9UpstreamThrottled',
      ].sort(),
    );
  });

  it('record only series that an alert, a panel or a rule test reads', () => {
    // A recording rule nobody reads costs an evaluation per interval and can break unnoticed.
    const rules = readRules().groups.flatMap((g) => g.rules);
    const promqlTests = testFiles.flatMap((f) => {
      const doc = parse(readFileSync(join(ruleTestsDir, f), 'utf8')) as {
        tests: { promql_expr_test?: { expr: string }[] }[];
      };
      return doc.tests.flatMap((t) => (t.promql_expr_test ?? []).map((e) => e.expr));
    });
    const read = new Set(
      [
        ...rules.filter((r) => r.alert).map((r) => r.expr),
        ...rules.filter((r) => r.record).map((r) => r.expr),
        ...dashboardFiles.flatMap((f) =>
          dashboardExpressions(f, readDashboard(f) as never).map((e) => e.expr),
        ),
        ...promqlTests,
      ].flatMap((e) => metricNames(e)),
    );
    const unread = rules.flatMap((r) => (r.record && !read.has(r.record) ? [r.record] : []));
    expect(unread).toEqual([]);
  });

  it('name recording rules level:metric:operations', () => {
    const records = readRules().groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const r of records) expect(r).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
  });
});
