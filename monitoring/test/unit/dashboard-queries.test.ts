// Dashboard queries evaluated by promtool on series whose answer is known: the generated dashboard's own
// expressions, with Grafana's variables substituted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { flattenPanels } from '../../src/promql/extract.ts';
import { interpolate } from '../../src/promql/interpolate.ts';
import { readDashboard } from '../support/repo.ts';

const allVars = { namespace: '.*', hal9_cluster: '.*', neuron: '.*', __rate_interval: '5m' };
const dir = mkdtempSync(join(tmpdir(), 'hal9-dashboard-queries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Series {
  readonly series: string;
  readonly values: string;
}
interface Sample {
  readonly labels: string;
  readonly value: number;
}

/** Evaluates each expression at 30m over `input` (1-minute samples) and expects exactly `samples`. */
function evaluate(input: readonly Series[], cases: readonly { expr: string; samples: readonly Sample[] }[]) {
  const test = join(dir, 'queries.test.yaml');
  writeFileSync(
    test,
    stringify({
      rule_files: [],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: input,
          promql_expr_test: cases.map((c) => ({ expr: c.expr, eval_time: '30m', exp_samples: c.samples })),
        },
      ],
    }),
  );
  const run = spawnSync('promtool', ['test', 'rules', test], { encoding: 'utf8' });
  return run.stdout + run.stderr;
}

type Target = { expr: string; legendFormat: string };
const panels = () =>
  flattenPanels(readDashboard('hal9-performance.json').panels as never) as {
    title: string;
    targets?: Target[];
  }[];

describe('hal9-performance queries', () => {
  it('count failures among admitted requests only: 1000 rejected, 99 completed and 1 failed a second is 1 %', () => {
    const errorRate = panels()
      .find((p) => p.title === 'Error rate')
      ?.targets?.find((t) => t.legendFormat === 'requests');
    expect(errorRate).toBeDefined();
    const l = (outcome: string) =>
      `hal9_requests_total{namespace="ai",hal9_cluster="prod",outcome="${outcome}"}`;
    const out = evaluate(
      [
        { series: l('rejected'), values: '0+60000x30' },
        { series: l('completed'), values: '0+5940x30' },
        { series: l('failed'), values: '0+60x30' },
      ],
      // promtool 2.42 compares floats exactly: compare within 1e-9 in PromQL instead.
      [
        {
          expr: `abs((${interpolate(errorRate?.expr ?? '', allVars)}) - 0.01) < bool 1e-9`,
          samples: [{ labels: '{}', value: 1 }],
        },
      ],
    );
    expect(out).toContain('SUCCESS');
  });

  it('count throttling among the calls sent: 10 of 100 sent, beside 150 refused by the breaker or cancelled, is 10 %', () => {
    const throttling = panels().find((p) => p.title === 'Upstream throttling (429 / 529)')?.targets?.[0];
    expect(throttling).toBeDefined();
    const l = (status: string) =>
      `hal9_upstream_requests_total{namespace="ai",hal9_cluster="prod",upstream="claude-api",status="${status}"}`;
    const out = evaluate(
      [
        { series: l('200'), values: '0+90x30' },
        { series: l('429'), values: '0+6x30' },
        { series: l('529'), values: '0+4x30' },
        { series: l('breaker_open'), values: '0+100x30' },
        { series: l('cancelled'), values: '0+50x30' },
      ],
      [
        {
          expr: `abs((${interpolate(throttling?.expr ?? '', allVars)}) - 0.1) < bool 1e-9`,
          samples: [{ labels: '{upstream="claude-api"}', value: 1 }],
        },
      ],
    );
    expect(out).toContain('SUCCESS');
  });

  it('show the pods of the selected neurons in per-pod panels, and a runtime without the operator’s label whole', () => {
    // q1 and q2 are pods of Neurons n1 and n2 (the operator's ServiceMonitor adds hal9_ai_neuron); q3 is a
    // standalone runtime hosting several neurons, scraped without it.
    const depth = (pod: string, neuron: string | undefined, n: number) => ({
      series: `hal9_queue_depth{namespace="ai",hal9_cluster="prod",job="hal9",instance="${pod}"${neuron ? `,hal9_ai_neuron="${neuron}"` : ''}}`,
      values: `${n}x30`,
    });
    const total = panels()
      .find((p) => p.title === 'Queue depth')
      ?.targets?.find((t) => t.legendFormat === 'total');
    expect(total).toBeDefined();
    const out = evaluate(
      [depth('q1', 'n1', 3), depth('q2', 'n2', 5), depth('q3', undefined, 7)],
      [
        { expr: interpolate(total?.expr ?? '', allVars), samples: [{ labels: '{}', value: 15 }] },
        {
          expr: interpolate(total?.expr ?? '', { ...allVars, neuron: 'n2' }),
          samples: [{ labels: '{}', value: 12 }],
        },
        // Several neurons selected: Grafana writes them as a regex alternation.
        {
          expr: interpolate(total?.expr ?? '', { ...allVars, neuron: '(n1|n2)' }),
          samples: [{ labels: '{}', value: 15 }],
        },
      ],
    );
    expect(out).toContain('SUCCESS');
  });

  it('show a neuron id that two Hal9Clusters share as two lines, one per Hal9Cluster and namespace', () => {
    // The default topology's impl-1 in Hal9Clusters a (fast: within 10 ms) and b (slow: 50 to 100 ms), and in a
    // standalone runtime scraped without a namespace: summed by neuron alone, b's latency would vanish in a's.
    const bucket = (ns: string | undefined, cluster: string, le: string, perMinute: number) => ({
      series: `hal9_signal_latency_seconds_bucket{${ns ? `namespace="${ns}",` : ''}hal9_cluster="${cluster}",neuron="impl-1",layer="L2",le="${le}"}`,
      values: `0+${perMinute}x30`,
    });
    const input = [
      ...[
        ['0.01', 1000],
        ['0.05', 1000],
        ['0.1', 1000],
        ['+Inf', 1000],
      ].map(([le, n]) => bucket('ai', 'a', String(le), Number(n))),
      ...[
        ['0.01', 0],
        ['0.05', 0],
        ['0.1', 10],
        ['+Inf', 10],
      ].map(([le, n]) => bucket('ai', 'b', String(le), Number(n))),
      ...[
        ['0.01', 10],
        ['0.05', 10],
        ['0.1', 10],
        ['+Inf', 10],
      ].map(([le, n]) => bucket(undefined, 'standalone', String(le), Number(n))),
    ];
    const p95 = panels().find((p) => p.title === 'Latency p95 by neuron (arrival → answer)')?.targets?.[0];
    expect(p95?.legendFormat).toBe('{{namespace}}/{{hal9_cluster}}/{{neuron}}');
    // promtool 2.42 compares floats exactly: round to 0.1 ms first.
    const out = evaluate(input, [
      {
        expr: `round(10000 * (${interpolate(p95?.expr ?? '', allVars)})) / 10000`,
        samples: [
          { labels: '{namespace="ai",hal9_cluster="a",neuron="impl-1"}', value: 0.0095 },
          { labels: '{namespace="ai",hal9_cluster="b",neuron="impl-1"}', value: 0.0975 },
          { labels: '{hal9_cluster="standalone",neuron="impl-1"}', value: 0.0095 },
        ],
      },
    ]);
    expect(out).toContain('SUCCESS');
  });

  it('read the p95 batch size as a whole number of signals, one of the sizes its bucket holds', () => {
    // The bounds lie halfway between sizes. one: every batch holds 1 signal (interpolated: 1.425); three:
    // every batch 3 (3.45); mixed: 90 % of batches hold 2, the rest 5 or 6, i.e. in (4.5, 6.5] (5.5: 5).
    const bounds = ['1.5', '2.5', '3.5', '4.5', '6.5', '8.5', '+Inf'];
    const histogram = (target: string, counts: number[]) =>
      bounds.map((le, i) => ({
        series: `hal9_batch_size_bucket{namespace="ai",hal9_cluster="prod",job="hal9",instance="p1",target="${target}",le="${le}"}`,
        values: `0+${counts[i]}x30`,
      }));
    const input = [
      ...histogram('one', [60, 60, 60, 60, 60, 60, 60]),
      ...histogram('three', [0, 0, 60, 60, 60, 60, 60]),
      ...histogram('mixed', [0, 54, 54, 54, 60, 60, 60]),
    ];
    const p95 = panels()
      .find((p) => p.title === 'Batch size')
      ?.targets?.find((t) => t.legendFormat === 'p95 {{target}}');
    expect(p95).toBeDefined();
    const out = evaluate(input, [
      {
        expr: interpolate(p95?.expr ?? '', allVars),
        samples: [
          { labels: '{target="one"}', value: 1 },
          { labels: '{target="three"}', value: 3 },
          { labels: '{target="mixed"}', value: 5 },
        ],
      },
    ]);
    expect(out).toContain('SUCCESS');
  });

  describe('parallel tasks beside the tuned parallelism', () => {
    // 3 neurons with 2 pods each, every pod at the tuned limit of 8; n1's pods have 6 and 2 busy slots.
    const pods = { p1: 'n1', p2: 'n1', p3: 'n2', p4: 'n2', p5: 'n3', p6: 'n3' } as const;
    const runtime = (name: string, pod: string, extra = '') =>
      `${name}{namespace="ai",hal9_cluster="prod",job="hal9",instance="${pod}"${extra}}`;
    const input: Series[] = [
      ...Object.entries(pods).flatMap(([pod, neuron]) => [
        { series: runtime('hal9_parallel_tasks_max', pod), values: '8x30' },
        { series: runtime('hal9_parallel_tasks_active', pod), values: `${pod === 'p1' ? 6 : 2}x30` },
        {
          series: runtime('hal9_signals_arrived_total', pod, `,neuron="${neuron}",layer="L2"`),
          values: '0+60x30',
        },
      ]),
      ...['n1', 'n2', 'n3'].map((neuron) => ({
        series: `hal9_operator_neuron_parallelism{namespace="ai",neuron="${neuron}",job="hal9-operator",instance="op"}`,
        values: '8x30',
      })),
    ];
    const panel = () =>
      panels().find((p) => p.targets?.some((t) => t.expr.includes('hal9_operator_neuron_parallelism')));
    const targetOver = (metric: string) =>
      panel()?.targets?.filter((t) => t.expr.includes(`${metric}{`)) ?? [];
    const perNeuron = (values: Record<string, number>, cluster = 'prod') =>
      Object.entries(values).map(([neuron, value]) => ({
        labels: `{namespace="ai",hal9_cluster="${cluster}",neuron="${neuron}"}`,
        value,
      }));

    it('show the executor limit per pod and neuron, the unit of the tuned value (8, not 48 summed over pods)', () => {
      const limits = targetOver('hal9_parallel_tasks_max');
      expect(limits.length).toBeGreaterThan(0);
      const tuned = targetOver('hal9_operator_neuron_parallelism');
      expect(tuned).toHaveLength(1);
      const eight = perNeuron({ n1: 8, n2: 8, n3: 8 });
      const out = evaluate(input, [
        ...[...limits, ...tuned].map((t) => ({ expr: interpolate(t.expr, allVars), samples: eight })),
      ]);
      expect(out).toContain('SUCCESS');
    });

    it('show the busy slots per pod by neuron, and only the selected neurons', () => {
      const [active] = targetOver('hal9_parallel_tasks_active');
      expect(active).toBeDefined();
      const out = evaluate(input, [
        { expr: interpolate(active?.expr ?? '', allVars), samples: perNeuron({ n1: 4, n2: 2, n3: 2 }) },
        ...(panel()?.targets ?? []).map((t) => ({
          expr: interpolate(t.expr, { ...allVars, neuron: 'n2' }),
          samples: perNeuron({ n2: t.expr.includes('hal9_parallel_tasks_active') ? 2 : 8 }),
        })),
      ]);
      expect(out).toContain('SUCCESS');
    });

    it('show the tuned parallelism of the selected Hal9Clusters’ neurons only', () => {
      // n4 runs in Hal9Cluster dev, in the same namespace: the operator's gauge has no hal9_cluster label.
      const dev = [
        {
          series:
            'hal9_signals_arrived_total{namespace="ai",hal9_cluster="dev",job="hal9",instance="p7",neuron="n4",layer="L2"}',
          values: '0+60x30',
        },
        {
          series:
            'hal9_operator_neuron_parallelism{namespace="ai",neuron="n4",job="hal9-operator",instance="op"}',
          values: '4x30',
        },
      ];
      const [tuned] = targetOver('hal9_operator_neuron_parallelism');
      expect(tuned).toBeDefined();
      const out = evaluate(
        [...input, ...dev],
        [
          {
            expr: interpolate(tuned?.expr ?? '', { ...allVars, hal9_cluster: 'prod' }),
            samples: perNeuron({ n1: 8, n2: 8, n3: 8 }),
          },
          {
            expr: interpolate(tuned?.expr ?? '', allVars),
            samples: [...perNeuron({ n1: 8, n2: 8, n3: 8 }), ...perNeuron({ n4: 4 }, 'dev')],
          },
        ],
      );
      expect(out).toContain('SUCCESS');
    });

    it('count a pod only for the neurons that received signals in it over the interval', () => {
      // p1 once received signals for n3 too, not within the interval: its counter is flat.
      const flat = {
        series: runtime('hal9_signals_arrived_total', 'p1', ',neuron="n3",layer="L2"'),
        values: '7x30',
      };
      const [active] = targetOver('hal9_parallel_tasks_active');
      expect(active).toBeDefined();
      const out = evaluate(
        [...input, flat],
        [{ expr: interpolate(active?.expr ?? '', allVars), samples: perNeuron({ n1: 4, n2: 2, n3: 2 }) }],
      );
      expect(out).toContain('SUCCESS');
    });
  });
});
