import { describe, expect, it } from 'vitest';
import { computeTunerStatus, type TunerStatusInput } from './parallelism-status.ts';
import { statusUpToDate } from './up-to-date.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:00:10Z';
const anInput = (over: Partial<TunerStatusInput> = {}): TunerStatusInput => ({
  generation: 2,
  existing: undefined,
  current: 8,
  lastDecision: undefined,
  condition: { status: 'True', reason: 'MetricsAvailable', message: 'Tuned from http://p:9090' },
  now: T0,
  ...over,
});

describe('computeTunerStatus', () => {
  it('is the tuner’s whole part: current, the last decision, and only its own condition', () => {
    const s = computeTunerStatus(
      anInput({
        lastDecision: { value: 8, reason: 'LatencyAboveSLO', time: T0 },
        existing: {
          conditions: [
            { type: 'Ready', status: 'True', reason: 'Available', message: '', lastTransitionTime: T0 },
          ],
        },
      }),
    );
    expect(s).toEqual({
      parallelism: { current: 8, lastDecision: { value: 8, reason: 'LatencyAboveSLO', time: T0 } },
      conditions: [
        {
          type: 'ParallelismTuned',
          status: 'True',
          reason: 'MetricsAvailable',
          message: 'Tuned from http://p:9090',
          observedGeneration: 2,
          lastTransitionTime: T0,
        },
      ],
    });
  });

  it('keeps lastTransitionTime while the condition’s status holds, so a repeat needs no write', () => {
    const first = computeTunerStatus(anInput());
    const live = { ...first, conditions: first.conditions };
    const again = computeTunerStatus(anInput({ existing: live, now: T1 }));
    expect(again.conditions[0]?.lastTransitionTime).toBe(T0);
    expect(statusUpToDate(again, live)).toBe(true);
    const failed = computeTunerStatus(
      anInput({
        existing: live,
        now: T1,
        condition: { status: 'False', reason: 'MetricsUnavailable', message: 'unreachable' },
      }),
    );
    expect(failed.conditions[0]).toMatchObject({ status: 'False', lastTransitionTime: T1 });
    expect(statusUpToDate(failed, live)).toBe(false);
  });

  it('keeps the message to 1,024 characters (an error body can be long)', () => {
    const s = computeTunerStatus(
      anInput({ condition: { status: 'False', reason: 'NoData', message: 'x'.repeat(5000) } }),
    );
    expect(s.conditions[0]?.message).toHaveLength(1024);
  });
});
