// The cache-savings estimates of the "Tokens and cost" row, evaluated by promtool on series whose
// answer is known: the dashboard's own expressions, with Grafana's variables substituted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { promptCacheSavings, responseCacheSavings } from '../../src/dashboards/cost-panels.ts';
import { interpolate } from '../../src/promql/interpolate.ts';

const vars = { namespace: '.*', hal9_cluster: '.*', neuron: '.*', __rate_interval: '5m' };
const dir = mkdtempSync(join(tmpdir(), 'hal9-cost-panels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const labels = (neuron: string, extra = '') =>
  `namespace="ai",hal9_cluster="prod",neuron="${neuron}"${extra ? `,${extra}` : ''}`;
/** A counter growing by `perMinute` for 30 minutes. */
const counter = (name: string, l: string, perMinute: number) => ({
  series: `${name}{${l}}`,
  values: `0+${perMinute}x30`,
});

/**
 * Evaluates `expr` at 30m over per-minute counters and checks its value per neuron.
 * Prices: input 0.001 USD a token and list ratios (output 5×, cache read 0.1×, cache write 1.25×).
 */
function evaluate(expr: string, expected: Record<string, number>) {
  const rules = join(dir, 'rules.yaml');
  writeFileSync(
    rules,
    stringify({ groups: [{ name: 'x', rules: [{ record: 'savings', expr: interpolate(expr, vars) }] }] }),
  );
  // impl-1: 10 answered signals a minute, 4 from the response cache, so 6 paid calls; per minute
  // 120 input, 30 output, 80 cache-read and 40 cache-write tokens: 0.12 + 0.15 + 0.008 + 0.05 = 0.328 USD.
  // mock-1: tokens and cache hits but no price, so no cost: no savings either, never a guess.
  const input_series = [
    counter('hal9_signals_total', labels('impl-1', 'layer="L2",outcome="ok"'), 10),
    counter('hal9_signals_total', labels('impl-1', 'layer="L2",outcome="error"'), 3),
    counter('hal9_cache_hits_total', labels('impl-1', 'layer="L2"'), 4),
    counter('hal9_neuron_tokens_total', labels('impl-1', 'type="input"'), 120),
    counter('hal9_neuron_tokens_total', labels('impl-1', 'type="output"'), 30),
    counter('hal9_neuron_tokens_total', labels('impl-1', 'type="cache_read"'), 80),
    counter('hal9_neuron_tokens_total', labels('impl-1', 'type="cache_creation"'), 40),
    counter('hal9_cost_usd_total', labels('impl-1', 'model="claude-sonnet-4-5"'), 0.3),
    counter('hal9_cost_usd_total', labels('impl-1', 'model="claude-haiku-4-5"'), 0.028),
    counter('hal9_signals_total', labels('mock-1', 'layer="L2",outcome="ok"'), 10),
    counter('hal9_cache_hits_total', labels('mock-1', 'layer="L2"'), 4),
    counter('hal9_neuron_tokens_total', labels('mock-1', 'type="cache_read"'), 80),
  ];
  // promtool 2.42 compares floats exactly: compare within 1e-9 in PromQL instead.
  const promql_expr_test = [
    ...Object.entries(expected).map(([neuron, value]) => ({
      expr: `abs(savings{neuron="${neuron}"} - ${value}) < bool 1e-9`,
      eval_time: '30m',
      exp_samples: [{ labels: `{${labels(neuron)}}`, value: 1 }],
    })),
    // Only the priced neurons have a value.
    {
      expr: 'count(savings)',
      eval_time: '30m',
      exp_samples: [{ labels: '{}', value: Object.keys(expected).length }],
    },
  ];
  const test = join(dir, 'savings.test.yaml');
  writeFileSync(
    test,
    stringify({
      rule_files: [rules],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series,
          promql_expr_test,
        },
      ],
    }),
  );
  return spawnSync('promtool', ['test', 'rules', test], { encoding: 'utf8' });
}

describe('cache savings estimates', () => {
  it('price each response-cache hit at the neuron’s mean cost per paid call', () => {
    // 4 hits a minute × 0.328 USD / 6 paid calls × 60 minutes.
    const run = evaluate(responseCacheSavings, { 'impl-1': (4 * 0.328 * 60) / 6 });
    expect(run.stdout + run.stderr).toContain('SUCCESS');
  });

  it('price prompt-cache reads at input minus cache-read price, less the write premium', () => {
    // 80 reads × (0.001 − 0.0001) − 40 writes × 0.00025 = 0.062 USD a minute.
    const run = evaluate(promptCacheSavings, { 'impl-1': 0.062 * 60 });
    expect(run.stdout + run.stderr).toContain('SUCCESS');
  });

  it('fail on a wrong answer (the check is not vacuous)', () => {
    const run = evaluate(promptCacheSavings, { 'impl-1': 0.072 * 60 });
    expect(run.stdout + run.stderr).toContain('FAILED');
  });
});
