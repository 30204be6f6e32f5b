import { describe, expect, it } from 'vitest';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { tuningTargets } from './tuning-targets.ts';
import { answeredCondition, warmCondition, warmingUp } from './warm-up.ts';

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
