// The Prometheus source's load over a window in which pods come and go, or are scraped twice,
// evaluated by a real Prometheus engine (promtool) on series whose answer is known: each scenario
// keeps the Neuron's total load at 20 the whole time, so every query must read 20.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { neuronTargetLabel, observationQueries } from './prometheus.ts';

const dir = mkdtempSync(join(tmpdir(), 'hal9-prometheus-window-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const neuron = { namespace: 'team-a', neuron: 'impl-1', cluster: 'hal9' };
const SCRAPE = '15s';

/**
 * One pod's series, scraped every 15 s from 0 s by each of `jobs` (promtool's series notation: `_`
 * not yet, `stale` gone). Every job gives the pod's address as `instance`, as Prometheus does.
 */
const podSeries = (
  metric: string,
  pod: string,
  values: string,
  jobs: readonly string[],
  extra = '',
  noInstance = false,
) =>
  jobs.map((job) => ({
    series: `${metric}{namespace="team-a",hal9_cluster="hal9",${neuronTargetLabel}="impl-1",pod="impl-1-7d9f8-${pod}",${noInstance ? '' : `instance="10.244.0.${pod.charCodeAt(0)}:8080",`}job="${job}"${extra}}`,
    values,
  }));

/** Evaluates each of `exprs` at `at` and asks promtool whether it is within 1e-9 of `want`. */
function evaluate(
  pods: Record<string, string>,
  exprs: readonly string[],
  at: string,
  want: number,
  jobs: readonly string[] = ['hal9'],
  noInstance = false,
) {
  const input_series = Object.entries(pods).flatMap(([pod, active]) => [
    ...podSeries('hal9_parallel_tasks_active', pod, active, jobs, '', noInstance),
    ...podSeries('hal9_queue_depth', pod, active.replace(/\d+/g, '0'), jobs, '', noInstance),
    // 10 throttled calls a second (600 a minute, 150 a scrape) to the model API, 10 to a peer.
    ...podSeries('hal9_upstream_requests_total', pod, '0+150x8', jobs, ',upstream="claude-api",status="429"'),
    ...podSeries('hal9_upstream_requests_total', pod, '0+150x8', jobs, ',upstream="peer:x",status="429"'),
    ...podSeries('hal9_processing_time_count', pod, '0+150x8', jobs, ',neuron="impl-1",layer="L2"'),
  ]);
  return check(input_series, exprs, at, want);
}

/** Evaluates each of `exprs` at `at` over `input_series` and asks promtool whether it is within 1e-9 of `want`. */
function check(
  input_series: readonly { series: string; values: string }[],
  exprs: readonly string[],
  at: string,
  want: number,
) {
  // promtool 2.42 compares floats exactly: compare within 1e-9 in PromQL instead.
  const promql_expr_test = exprs.map((expr) => ({
    expr: `abs((${expr}) - ${want}) < bool 1e-9`,
    eval_time: at,
    exp_samples: [{ labels: '{}', value: 1 }],
  }));
  const test = join(dir, 'window.test.yaml');
  // promtool evaluates only at multiples of evaluation_interval (1 m unless set): 105 s read at 60 s.
  writeFileSync(
    test,
    stringify({ evaluation_interval: SCRAPE, tests: [{ interval: SCRAPE, input_series, promql_expr_test }] }),
  );
  const run = spawnSync('promtool', ['test', 'rules', test], { encoding: 'utf8' });
  return run.stdout + run.stderr;
}

describe('the load the Prometheus source reads while pods come and go', () => {
  const q = observationQueries(neuron, 60, { maxLimit: 64, maxQueue: 1000 });

  it('counts a pod that left within the window only for the time it was there', () => {
    // Two pods at 10; pod a is gone after its scrape at 45 s, and pod b takes its load from 60 s.
    const out = evaluate(
      { a: '10 10 10 10 stale', b: '10 10 10 10 20 20 20 20 20' },
      [q.concurrency, `${q.concurrency} - ${q.queueDepth}`],
      '105s',
      20,
    );
    expect(out).toContain('SUCCESS');
  });

  it('counts a pod that came within the window only from when it came', () => {
    // Pod a carries 20 alone; from 60 s a new pod c takes half of it.
    const out = evaluate(
      { a: '20 20 20 20 10 10 10 10 10', c: '_ _ _ _ 10 10 10 10 10' },
      [q.concurrency],
      '105s',
      20,
    );
    expect(out).toContain('SUCCESS');
  });

  it('counts a pod scraped by two jobs once', () => {
    // The pod-annotation and service-endpoints jobs of a stock Prometheus both scrape pods a and b.
    const jobs = ['kubernetes-pods', 'kubernetes-service-endpoints'];
    const pods = { a: '10 10 10 10 10 10 10 10 10', b: '10 10 10 10 10 10 10 10 10' };
    expect(evaluate(pods, [q.concurrency, q.queueDepth.replace(/$/, ' + 20')], '105s', 20, jobs)).toContain(
      'SUCCESS',
    );
    // Two pods, each 10 throttled calls a second to the model API (a peer's 429s are not its push-back),
    // each 10 signals a second.
    expect(evaluate(pods, [q.throttledPerSecond], '105s', 20, jobs)).toContain('SUCCESS');
    expect(evaluate(pods, [q.throughput], '105s', 20, jobs)).toContain('SUCCESS');
  });

  it('holds a pod that exports more than it can hold to its bounds, as the pods source does', () => {
    // Pod a is honest (4 busy of 8, 2 queued); pod b says 50,000 busy of 8 and 10¹² queued. Each pod
    // counts for at most 64 slots busy (maxLimit) and 1,000 queued (maxQueue), and utilization for 1.
    const at = (pod: string, metric: string, value: string) => ({
      series: `${metric}{namespace="team-a",hal9_cluster="hal9",${neuronTargetLabel}="impl-1",pod="impl-1-7d9f8-${pod}",instance="10.244.0.${pod.charCodeAt(0)}:8080",job="hal9"}`,
      values: `${value}x8`,
    });
    const series = [
      at('a', 'hal9_parallel_tasks_active', '4+0'),
      at('a', 'hal9_parallel_tasks_max', '8+0'),
      at('a', 'hal9_queue_depth', '2+0'),
      at('b', 'hal9_parallel_tasks_active', '50000+0'),
      at('b', 'hal9_parallel_tasks_max', '8+0'),
      at('b', 'hal9_queue_depth', '1e12+0'),
    ];
    expect(check(series, [q.concurrency], '105s', 4 + 2 + 64 + 1000)).toContain('SUCCESS');
    expect(check(series, [q.queueDepth], '105s', 2 + 1000)).toContain('SUCCESS');
    expect(check(series, [q.utilization], '105s', 1)).toContain('SUCCESS');
  });

  it('tells pods apart by name where a job relabels `instance` away', () => {
    const pods = { a: '10 10 10 10 10 10 10 10 10', b: '10 10 10 10 10 10 10 10 10' };
    const out = evaluate(pods, [q.concurrency], '105s', 20, ['hal9'], true);
    expect(out).toContain('SUCCESS');
  });

  it('reads latency, service time and throughput from the Neuron’s own pods, whatever `neuron` another pod writes', () => {
    // impl-1's pod: 10 signals a second, 0.1 s each, all within 50 ms of latency. A pod of Neuron
    // `other` writes series of neuron="impl-1" too: 100 a second, 10 s each, all slow.
    const own = 'hal9_ai_neuron="impl-1",pod="impl-1-7d9f8-a",instance="10.244.0.1:8080"';
    const foreign = 'hal9_ai_neuron="other",pod="other-5c4d8-b",instance="10.244.0.2:8080"';
    const at = (pod: string, metric: string, values: string, extra = '') => ({
      series: `${metric}{namespace="team-a",hal9_cluster="hal9",${pod},job="hal9",neuron="impl-1",layer="L2"${extra}}`,
      values,
    });
    const series = [
      at(own, 'hal9_processing_time_count', '0+150x8'),
      at(own, 'hal9_processing_time_sum', '0+15x8'),
      at(own, 'hal9_signal_latency_seconds_bucket', '0+150x8', ',le="0.05"'),
      at(own, 'hal9_signal_latency_seconds_bucket', '0+150x8', ',le="10"'),
      at(own, 'hal9_signal_latency_seconds_bucket', '0+150x8', ',le="+Inf"'),
      at(foreign, 'hal9_processing_time_count', '0+1500x8'),
      at(foreign, 'hal9_processing_time_sum', '0+15000x8'),
      at(foreign, 'hal9_signal_latency_seconds_bucket', '0+0x8', ',le="0.05"'),
      at(foreign, 'hal9_signal_latency_seconds_bucket', '0+1500x8', ',le="10"'),
      at(foreign, 'hal9_signal_latency_seconds_bucket', '0+1500x8', ',le="+Inf"'),
    ];
    expect(check(series, [q.throughput], '105s', 10)).toContain('SUCCESS');
    expect(check(series, [q.serviceSeconds], '105s', 0.1)).toContain('SUCCESS');
    expect(check(series, [q.p95Seconds], '105s', 0.0475)).toContain('SUCCESS');
  });

  it('fails on a wrong answer (the check is not vacuous)', () => {
    const out = evaluate({ a: '20 20 20 20 20 20 20 20 20' }, [q.concurrency], '105s', 21);
    expect(out).toContain('FAILED');
  });
});
