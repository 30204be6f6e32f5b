import { describe, expect, it } from 'vitest';
import { bareCounters, metricNames, rateArguments, seriesSelectors } from './metric-names.ts';

describe('metricNames', () => {
  it('finds names and ignores functions, labels, grouping, durations and Grafana variables', () => {
    const expr =
      'histogram_quantile(0.95, sum by (neuron, le) (rate(hal9_processing_time_bucket{namespace=~"$namespace", le="0.05"}[$__rate_interval])))';
    expect(metricNames(expr)).toEqual(['hal9_processing_time_bucket']);
  });

  it('finds recorded series and both sides of binary operations', () => {
    const expr =
      'cluster:hal9_requests_errors_per_requests:ratio_rate1h > (14.4 * 0.001) and on (namespace) hal9_queue_depth offset 5m > 0';
    expect(metricNames(expr)).toEqual([
      'cluster:hal9_requests_errors_per_requests:ratio_rate1h',
      'hal9_queue_depth',
    ]);
  });

  it('does not mistake label values or strings for names', () => {
    expect(metricNames('sum(rate(hal9_requests_total{outcome=~"failed|timed_out"}[5m])) / 2')).toEqual([
      'hal9_requests_total',
    ]);
  });
});

describe('rateArguments', () => {
  it('returns the series inside each rate call', () => {
    expect(
      rateArguments('rate(a_total[5m]) / rate(b_bucket{x="rate(y)"}[1m]) + increase(c_total[1h])'),
    ).toEqual([['a_total'], ['b_bucket'], ['c_total']]);
  });
});

describe('bareCounters', () => {
  it('flags a counter read without rate', () => {
    expect(bareCounters('sum(hal9_requests_total)')).toEqual(['hal9_requests_total']);
    expect(bareCounters('sum(rate(hal9_requests_total{a="b"}[5m]))')).toEqual([]);
  });
});

describe('seriesSelectors', () => {
  it('returns each name with its matchers, empty when it has none', () => {
    const found = seriesSelectors(
      'sum by (pod) (rate(process_cpu_seconds_total{namespace=~"$namespace", hal9_ai_neuron=~"$neuron|"}[5m])) / hal9_queue_depth',
    ).filter((s) => s.name.includes('_'));
    expect(found).toEqual([
      { name: 'process_cpu_seconds_total', matchers: 'namespace=~"$namespace", hal9_ai_neuron=~"$neuron|"' },
      { name: 'hal9_queue_depth', matchers: '' },
    ]);
  });
});
