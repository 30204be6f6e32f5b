import { describe, expect, it } from 'vitest';
import type { Hal9Cluster } from '../api-types.ts';
import type { Hal9ClusterSpec } from '../generated/hal9cluster.gen.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import type { Observation, TunerState } from './decide.ts';
import {
  decideParallelism,
  podParallelismInput,
  prometheusParallelismInput,
} from './parallelism-decision.ts';
import { prometheusSource } from './prometheus-source.ts';
import { type TuningTarget, tuningTargets } from './tuning-targets.ts';

// 64 model calls a pod: the tuner's max (32) is not held to the cap (10 by default; model-call-cap.ts).
const cluster = (prometheusURL?: string) =>
  aHal9Cluster({
    performance: { maxConcurrentNeurons: 64 },
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

describe('the model-call cap on the limit', () => {
  // Saturated, a queue, the service well within the SLO: every pass wants more slots.
  const saturated: Observation = {
    p95Ms: 10,
    utilization: 1,
    queueDepth: 5,
    throttledPerSecond: 0,
    throughput: 100,
    demandPerPod: 200,
    serviceMs: 5,
  };
  const api = { mode: 'api', apiKeySecretRef: { name: 'anthropic' } } as const;
  const neuronWith = (spec: Hal9ClusterSpec) =>
    target(
      aHal9Cluster({
        ...spec,
        autoscaling: {
          metricsSource: 'prometheus',
          parallelism: {
            enabled: true,
            latencySLOMs: 50,
            prometheusURL: 'http://prom:9090',
            ...spec.autoscaling?.parallelism,
          },
        },
      }),
    );
  /** Decides on `saturated` until the value holds; the value it holds at, and the last decision. */
  const climb = (t: TuningTarget, from: number) => {
    const input = prometheusParallelismInput(
      t,
      prometheusSource(t, {}),
      { collected: { observation: saturated, missing: [] } },
      from,
    );
    let s = state(from);
    let at = now;
    for (let i = 0; i < 20; i++) {
      const o = decideParallelism(s, input, at);
      if (!o.next) return { value: s.current, decision: o.decision, condition: o.condition };
      s = o.next.state;
      at += 60_000;
    }
    throw new Error('never held');
  };

  it.each<[string, Hal9ClusterSpec, number, string]>([
    [
      'the defaults stop at 10 (mock: maxConcurrentNeurons)',
      {},
      10,
      'saturated, already at the maximum 10: parallelism.max 64 is held to the 10 model calls a pod runs at once; raise performance.maxConcurrentNeurons (10) for more',
    ],
    [
      'the defaults in api mode stop at 10 (and name the pool)',
      { claude: api },
      10,
      'saturated, already at the maximum 10: parallelism.max 64 is held to the 10 model calls a pod runs at once; raise performance.maxConcurrentNeurons (10) and, in api mode, performance.connectionPool.maxConnectionsPerHost (10) for more',
    ],
    [
      'both at 64 in api mode go to parallelism.max',
      {
        claude: api,
        performance: { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 64 } },
      },
      64,
      'saturated, already at the maximum 64',
    ],
    [
      'api mode with the pool at its default stops at the pool',
      { claude: api, performance: { maxConcurrentNeurons: 64 } },
      10,
      'saturated, already at the maximum 10: parallelism.max 64 is held to the 10 model calls a pod runs at once; raise performance.maxConcurrentNeurons (64) and, in api mode, performance.connectionPool.maxConnectionsPerHost (10) for more',
    ],
    [
      'mock mode counts maxConcurrentNeurons only',
      { performance: { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 4 } } },
      64,
      'saturated, already at the maximum 64',
    ],
    [
      'parallelism.min above the cap wins, and says what it costs',
      { autoscaling: { parallelism: { min: 16 } } },
      16,
      'saturated, already at the maximum 16: parallelism.min 16 is above the 10 model calls a pod runs at once (performance.maxConcurrentNeurons (10)): slots past 10 only wait for a call',
    ],
  ])('%s', (_, spec, value, message) => {
    const held = climb(neuronWith(spec), 8);
    expect(held.value).toBe(value);
    expect(held.decision).toMatchObject({ reason: 'AtBound', changed: false, message });
  });

  it('brings a limit above the cap down to it, and the condition names the cap while it holds', () => {
    const t = neuronWith({ claude: api });
    const input = prometheusParallelismInput(
      t,
      prometheusSource(t, {}),
      { collected: { observation: saturated, missing: [] } },
      40,
    );
    const { decision, condition } = decideParallelism(state(40), input, now);
    const note =
      'parallelism.max 64 is held to the 10 model calls a pod runs at once; raise performance.maxConcurrentNeurons (10) and, in api mode, performance.connectionPool.maxConnectionsPerHost (10) for more';
    expect(decision).toEqual({
      value: 10,
      reason: 'OutOfBounds',
      changed: true,
      message: `limit moved into [1, 10]: ${note}`,
    });
    expect(condition).toEqual({
      status: 'True',
      reason: 'MetricsAvailable',
      message: `Tuned from http://prom:9090 over 60s windows within [1, 10], caller-visible p95 SLO 50 ms; ${note}`,
    });
  });
});
