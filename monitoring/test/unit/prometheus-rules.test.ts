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
import { monitoringDir, readRules, rulesPath, ruleTestsDir } from '../support/repo.ts';

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
    const run = testMutated('runtime-alerts.test.yaml', 'expr: vector(0.05)', 'expr: vector(0.1)');
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

  it('includes the guide alerts, error rate, breaker, throttling, queue, rejections, traces, operator, burn rates and cost', () => {
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
        'Hal9LowCacheHitRate',
        'Hal9OperatorDown',
        'Hal9OperatorNoLeader',
        'Hal9OperatorReconcileErrors',
        'Hal9QueueSaturated',
        'Hal9TraceExportFailing',
        'Hal9UpstreamThrottled',
      ].sort(),
    );
  });

  it('name recording rules level:metric:operations', () => {
    const records = readRules().groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const r of records) expect(r).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
  });
});
