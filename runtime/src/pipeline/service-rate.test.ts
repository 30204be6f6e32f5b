import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { serviceRate } from './service-rate.ts';

const served = { outcome: 'ok', cached: false, latencyMs: 5, processingMs: 5 } as const;
const shed = { outcome: 'error', cached: false, latencyMs: 500 } as const;

describe('serviceRate', () => {
  it('is the signals that held a slot per second over the whole seconds of its window', () => {
    const clock = new ManualClock();
    const rate = serviceRate(clock, 10);
    expect(rate.perSecond()).toBe(0);
    // 40 served in each of 3 seconds, and signals shed without a slot, which are not service.
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 40; i++) rate.finished(served);
      rate.finished(shed);
      clock.advance(1000);
    }
    expect(rate.perSecond()).toBe(40);
    // Idle for 5 s: the average over the 8 whole seconds so far.
    clock.advance(5000);
    expect(rate.perSecond()).toBe(15);
    // Past the window, the old seconds are gone.
    clock.advance(20_000);
    expect(rate.perSecond()).toBe(0);
    for (let i = 0; i < 90; i++) rate.finished(served);
    clock.advance(1000);
    expect(rate.perSecond()).toBeCloseTo(10, 9);
  });
});
