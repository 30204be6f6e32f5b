import { describe, expect, it } from 'vitest';
import { aHal9Cluster, aNeuron, testNamespace } from '../testing/builders.ts';
import { prometheusSource } from './prometheus-source.ts';
import { tuningTargets } from './tuning-targets.ts';

const target = (scrapeInterval: string, prometheusURL = '') => {
  const c = aHal9Cluster({
    monitoring: { scrapeInterval },
    autoscaling: { metricsSource: 'prometheus', parallelism: { enabled: true, prometheusURL } },
  });
  return tuningTargets([aNeuron('impl-1')], { get: () => c, list: () => [c] }).tune[0]!;
};

describe('prometheusSource', () => {
  it('windows over four scrape intervals', () => {
    expect(prometheusSource(target('15s'), {}).window).toBe(60);
    expect(prometheusSource(target('1m30s'), {}).window).toBe(360);
    expect(prometheusSource(target('15m'), {}).window).toBe(3600);
  });

  it('keeps a window derived from the scrape interval within the bounds of --tuning-window (2 to 3600 s)', () => {
    // Stored before the CRDs bounded scrapeInterval: four intervals would be 166 days, or 0.4 s.
    expect(prometheusSource(target('999h'), {}).window).toBe(3600);
    expect(prometheusSource(target('16m'), {}).window).toBe(3600);
    expect(prometheusSource(target('100ms'), {}).window).toBe(2);
  });

  it("takes the operator's window as it is, whatever the scrape interval", () => {
    expect(prometheusSource(target('999h'), { windowSeconds: 120 }).window).toBe(120);
  });

  it("reads the Neuron's Prometheus, else the operator's, for the Neuron's series", () => {
    const own = prometheusSource(target('15s', 'http://prom:9090'), {
      defaultPrometheusURL: 'http://other:9090',
    });
    expect(own.url).toBe('http://prom:9090');
    expect(own.series).toEqual({ namespace: testNamespace, neuron: 'impl-1', cluster: 'hal9' });
    expect(prometheusSource(target('15s'), { defaultPrometheusURL: 'http://other:9090' }).url).toBe(
      'http://other:9090',
    );
  });
});
