import { describe, expect, it } from 'vitest';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { NO_DATA_FOR, NO_DATA_OVER } from './parallelism-decision.ts';
import { tuningTargets } from './tuning-targets.ts';
import { answeredCondition, NO_DATA_MESSAGE_MS, steadyNoData, warmCondition, warmingUp } from './warm-up.ts';

const targetOf = (metricsSource: 'pods' | 'prometheus') => {
  const c = aHal9Cluster({
    autoscaling: { enabled: true, mode: 'operator', metricsSource, stableWindowSeconds: 60 },
  });
  const clusters: ObjectReader<Hal9Cluster> = { get: () => c, list: () => [c] };
  return tuningTargets([aNeuron('impl-1')], clusters).tune[0]!;
};

describe('warmingUp', () => {
  it.each([
    { source: 'pods', after: 0, want: true },
    { source: 'pods', after: 59_999, want: true },
    { source: 'pods', after: 60_000, want: false },
    { source: 'prometheus', after: 0, want: false },
  ] as const)('$source Neuron, $after ms after the loop started: $want', ({ source, after, want }) => {
    const clock = new FakeClock();
    const startedAt = clock.now();
    clock.advance(after);
    expect(warmingUp(targetOf(source), startedAt, clock.now())).toBe(want);
  });
});

describe('warmCondition', () => {
  const noData = { status: 'False', reason: 'NoData', message: 'no load reports yet' } as const;
  const available = { status: 'True', reason: 'MetricsAvailable', message: 'ok' } as const;
  const live: Neuron = aNeuron(
    'impl-1',
    {},
    {
      status: {
        conditions: [{ type: 'ParallelismTuned', lastTransitionTime: '2026-01-01T00:00:00Z', ...available }],
      },
    },
  );
  it.each([
    {
      name: 'NoData while warming up keeps the live condition',
      c: noData,
      warming: true,
      n: live,
      want: available,
    },
    { name: 'NoData after warming up is written', c: noData, warming: false, n: live, want: noData },
    {
      name: 'NoData with no live condition is written',
      c: noData,
      warming: true,
      n: aNeuron('impl-1'),
      want: noData,
    },
    { name: 'any other reason is written', c: available, warming: true, n: live, want: available },
    { name: 'no condition stays none', c: undefined, warming: true, n: live, want: undefined },
  ])('$name', ({ c, warming, n, want }) => {
    expect(warmCondition(n, 'ParallelismTuned', c, warming)).toEqual(want);
  });
});

describe('answeredCondition', () => {
  const refused = { status: 'False', reason: 'DeliveryFailed', message: '2 pods did not take 8' } as const;
  const available = { status: 'True', reason: 'MetricsAvailable', message: 'ok' } as const;
  const live: Neuron = aNeuron(
    'impl-1',
    {},
    {
      status: {
        conditions: [{ type: 'ParallelismTuned', lastTransitionTime: '2026-01-01T00:00:00Z', ...refused }],
      },
    },
  );
  it.each([
    { name: 'a PUT unanswered keeps the live condition', awaiting: true, n: live, want: refused },
    { name: 'every pod answered: the computed one', awaiting: false, n: live, want: available },
    { name: 'no live condition: the computed one', awaiting: true, n: aNeuron('impl-1'), want: available },
  ])('$name', ({ awaiting, n, want }) => {
    expect(answeredCondition(n, 'ParallelismTuned', available, awaiting)).toEqual(want);
  });
  it('no condition stays none', () => {
    expect(answeredCondition(live, 'ParallelismTuned', undefined, true)).toBeUndefined();
  });
});

describe('steadyNoData', () => {
  const noData = (missing: string) =>
    ({
      status: 'False',
      reason: 'NoData',
      message: `${NO_DATA_FOR}${missing}${NO_DATA_OVER}60s (no traffic, or its pods are not scraped); holding 4`,
    }) as const;
  const withLive = (c: { status: 'True' | 'False'; reason: string; message: string }): Neuron =>
    aNeuron(
      'impl-1',
      {},
      {
        status: {
          conditions: [{ type: 'ParallelismTuned', lastTransitionTime: '2026-01-01T00:00:00Z', ...c }],
        },
      },
    );
  const written = withLive(noData('utilization'));

  it('keeps the message written while only the missing series change, then refreshes it', () => {
    const clock = new FakeClock();
    // The first pass of this process writes what it found.
    let s = steadyNoData(written, 'ParallelismTuned', noData('p95, queueDepth'), undefined, clock.now());
    expect(s.condition).toEqual(noData('p95, queueDepth'));
    const namedAt = s.namedAt;
    expect(namedAt).toBe(clock.now());
    // Written, the passes after it find the other replica's gaps, then the first's: nothing new to write.
    const live = withLive(noData('p95, queueDepth'));
    for (const missing of ['utilization', 'p95, queueDepth', 'utilization']) {
      clock.advance(2_000);
      s = steadyNoData(live, 'ParallelismTuned', noData(missing), s.namedAt, clock.now());
      expect(s.condition).toEqual(noData('p95, queueDepth'));
      expect(s.namedAt).toBe(namedAt);
    }
    clock.advance(NO_DATA_MESSAGE_MS);
    s = steadyNoData(live, 'ParallelismTuned', noData('utilization'), s.namedAt, clock.now());
    expect(s.condition).toEqual(noData('utilization'));
    expect(s.namedAt).toBe(clock.now());
  });

  it('writes another cause of NoData at once: only the series list is held', () => {
    const now = new FakeClock().now();
    const pods = {
      status: 'False',
      reason: 'NoData',
      message: 'No signal finished over the last 60s (no traffic); holding 4',
    } as const;
    const unreachable = { ...pods, message: 'No Ready pod with an address to read; holding 4' };
    expect(steadyNoData(withLive(pods), 'ParallelismTuned', unreachable, now, now + 1_000).condition).toEqual(
      unreachable,
    );
    // Another window is another message, not only other series.
    const wider = { ...noData('p95'), message: noData('p95').message.replace('60s', '120s') };
    expect(steadyNoData(written, 'ParallelismTuned', wider, now, now + 1_000).condition).toEqual(wider);
  });

  it('writes any other condition at once, and NoData at once after one', () => {
    const now = new FakeClock().now();
    const available = { status: 'True', reason: 'MetricsAvailable', message: 'ok' } as const;
    expect(steadyNoData(written, 'ParallelismTuned', available, now, now)).toEqual({
      condition: available,
      namedAt: undefined,
    });
    expect(steadyNoData(withLive(available), 'ParallelismTuned', noData('p95'), now, now).condition).toEqual(
      noData('p95'),
    );
    expect(steadyNoData(written, 'ParallelismTuned', undefined, now, now).condition).toBeUndefined();
  });
});
