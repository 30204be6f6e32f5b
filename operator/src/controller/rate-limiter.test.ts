import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.ts';
import {
  bucketRateLimiter,
  defaultControllerRateLimiter,
  exponentialFailureRateLimiter,
} from './rate-limiter.ts';

describe('exponentialFailureRateLimiter', () => {
  it('doubles per failure from the base and caps at the maximum', () => {
    const l = exponentialFailureRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 5 }, () => l.when('a'));
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    for (let i = 0; i < 40; i++) l.when('a');
    expect(l.when('a')).toBe(1_000_000);
  });

  it('keeps failure counts per key and resets them on forget', () => {
    const l = exponentialFailureRateLimiter(5, 1000);
    l.when('a');
    l.when('a');
    expect(l.when('b')).toBe(5);
    expect(l.numRequeues('a')).toBe(2);
    l.forget('a');
    expect(l.numRequeues('a')).toBe(0);
    expect(l.when('a')).toBe(5);
  });
});

describe('bucketRateLimiter', () => {
  it('lets a burst through and then spaces items at 1/qps', () => {
    const clock = new FakeClock();
    const l = bucketRateLimiter(10, 3, clock);
    expect([l.when('x'), l.when('x'), l.when('x')]).toEqual([0, 0, 0]);
    expect(l.when('x')).toBeCloseTo(100);
    expect(l.when('x')).toBeCloseTo(200);
    clock.advance(10_000);
    expect(l.when('x')).toBe(0);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('takes the larger of per-key backoff and the overall bucket', () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter(clock);
    expect(l.when('k')).toBe(5);
    expect(l.when('k')).toBe(10);
    // Exhaust the bucket with other keys: then the bucket dominates a fresh key's 5 ms.
    for (let i = 0; i < 200; i++) l.when(`other-${i}`);
    expect(l.when('fresh')).toBeGreaterThan(5);
  });
});
