import { describe, expect, it } from 'vitest';
import type { Hal9Cluster } from '../api-types.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import type { TunerState } from './decide.ts';
import {
  decideParallelism,
  podParallelismInput,
  prometheusParallelismInput,
} from './parallelism-decision.ts';
import { prometheusSource } from './prometheus-source.ts';
import { tuningTargets } from './tuning-targets.ts';

const cluster = (prometheusURL?: string) =>
  aHal9Cluster({
    monitoring: { scrapeInterval: '5s' },
    autoscaling: {
      metricsSource: 'prometheus',
      parallelism: {
        enabled: true,
        min: 2,
        max: 32,
        latencySLOMs: 50,
        ...(prometheusURL ? { prometheusURL } : {}),
      },
    },
  });
const target = (c: Hal9Cluster) =>
  tuningTargets([aNeuron('impl-1')], { get: () => c, list: () => [c] }).tune[0]!;
const state = (current: number): TunerState => ({ current, lastChangeAt: 0, lastDirection: 'none' });
const now = 1_800_000_000_000;

describe('prometheusParallelismInput', () => {
  const t = target(cluster('http://prom:9090'));
  const source = prometheusSource(t, {});

  it('windows over four scrape intervals, the stable window at least 30 s', () => {
    const input = prometheusParallelismInput(t, source, { error: 'down' }, 8);
    expect(input.bounds).toMatchObject({ min: 2, max: 32, stableWindowSeconds: 30, panicWindowSeconds: 20 });
    expect(input.source).toBe('http://prom:9090 over 20s windows');
  });

  it('says which queries returned nothing, and what it holds', () => {
    const input = prometheusParallelismInput(
      t,
      source,
      { collected: { observation: undefined, missing: ['p95', 'throughput'] } },
      8,
    );
    const { condition, counted } = decideParallelism(state(8), input, now);
    expect(counted).toBe('NoData');
    expect(condition).toEqual({
      status: 'False',
      reason: 'NoData',
      message:
        'Prometheus returned no data for p95, throughput over the last 20s (no traffic, or its pods are not scraped: ' +
        "the NetworkPolicy hal9-hal9-runtime admits scrapes only from the namespaces the operator's " +
        '--prometheus-namespace-selector matches, by default kubernetes.io/metadata.name=monitoring); holding 8',
    });
  });

  it('counts a failed read as MetricsUnavailable, with its error as the message', () => {
    const input = prometheusParallelismInput(t, source, { error: 'connect ECONNREFUSED' }, 8);
    const { condition, counted, next } = decideParallelism(state(8), input, now);
    expect(counted).toBe('MetricsUnavailable');
    expect(condition).toMatchObject({ reason: 'MetricsUnavailable', message: 'connect ECONNREFUSED' });
    expect(next).toBeUndefined();
  });

  it('says where to set a URL when there is none', () => {
    const u = target(cluster());
    const input = prometheusParallelismInput(u, prometheusSource(u, {}), undefined, 8);
    expect(input.unavailable).toMatch(/^no Prometheus URL: set spec.autoscaling.parallelism.prometheusURL/);
  });
});

describe('podParallelismInput', () => {
  it('holds when the pods could not be listed', () => {
    const input = podParallelismInput(target(cluster()), undefined, undefined, 6, undefined);
    expect(input.unavailable).toBe('The runtime pods could not be listed; holding 6');
    expect(input.observation).toBeUndefined();
  });
});

describe('decideParallelism', () => {
  it('moves the value into new bounds without metrics, and records the change', () => {
    const t = target(cluster());
    const input = prometheusParallelismInput(t, prometheusSource(t, {}), undefined, 40);
    const { decision, next, condition } = decideParallelism(state(40), input, now);
    expect(decision).toMatchObject({ value: 32, reason: 'OutOfBounds', changed: true });
    expect(next?.state).toMatchObject({ current: 32, lastChangeAt: now });
    expect(next?.lastDecision).toMatchObject({
      value: 32,
      reason: 'OutOfBounds',
      time: '2027-01-15T08:00:00Z',
    });
    expect(condition.reason).toBe('MetricsUnavailable');
  });

  it('names missing metrics, not delivery, when no pod reports nor takes a value', () => {
    const t = target(cluster('http://prom:9090'));
    const input = {
      ...prometheusParallelismInput(t, prometheusSource(t, {}), { error: 'connect ECONNREFUSED' }, 8),
      undelivered: '2 of 2 Ready pods have not taken 8 (connect ECONNREFUSED)',
    };
    const { condition } = decideParallelism(state(8), input, now);
    expect(condition.reason).toBe('MetricsUnavailable');
    expect(condition.message).toMatch(/ECONNREFUSED.*; 2 of 2 Ready pods have not taken 8/);
  });

  it('says DeliveryFailed when the metrics are read but pods have not taken the value', () => {
    const t = target(cluster('http://prom:9090'));
    const input = {
      ...prometheusParallelismInput(
        t,
        prometheusSource(t, {}),
        { collected: { observation: undefined, missing: ['p95'] } },
        8,
      ),
      undelivered: '1 of 2 Ready pods have not taken 8 (401)',
    };
    expect(decideParallelism(state(8), input, now).condition.reason).toBe('DeliveryFailed');
  });
});
