import { describe, expect, it } from 'vitest';
import type { Condition } from '../api-types.ts';
import { statusUpToDate } from './up-to-date.ts';

const ready = (over: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status: 'False',
  reason: 'RollingOut',
  message: '1/3 replicas updated',
  observedGeneration: 2,
  lastTransitionTime: '2026-12-05T10:00:00Z',
  ...over,
});

describe('statusUpToDate', () => {
  it('is true when the live status says everything computed says, whatever else other writers added', () => {
    const live = { observedGeneration: 2, conditions: [ready(), { ...ready(), type: 'ParallelismTuned' }] };
    expect(statusUpToDate({ observedGeneration: 2, conditions: [ready()] }, live)).toBe(true);
  });

  it.each([
    ['only its message', { message: '2/3 replicas updated' }],
    ['its status', { status: 'True' as const }],
    ['its reason', { reason: 'Available' }],
    ['its observedGeneration', { observedGeneration: 3 }],
    ['its lastTransitionTime', { lastTransitionTime: '2026-12-05T10:01:00Z' }],
  ])('is false when a condition changed %s, so the change is written', (_what, change) => {
    const live = { observedGeneration: 2, conditions: [ready()] };
    expect(statusUpToDate({ observedGeneration: 2, conditions: [ready(change)] }, live)).toBe(false);
  });

  it('is false without a live status, or with a field the live status lacks or holds otherwise', () => {
    expect(statusUpToDate({ observedGeneration: 2 }, undefined)).toBe(false);
    expect(statusUpToDate({ observedGeneration: 2, replicas: 1 }, { observedGeneration: 2 })).toBe(false);
    expect(statusUpToDate({ observedGeneration: 3 }, { observedGeneration: 2 })).toBe(false);
  });
});
