import { describe, expect, it } from 'vitest';
import { THROTTLED_SHARE, upstreamPushesBack } from './throttled.ts';

describe('upstreamPushesBack', () => {
  it('is the share of refused answers, not any refusal at all', () => {
    // 0.5 refused a second beside 80 served (0.6 %): a stray 429, no limit reached.
    expect(upstreamPushesBack(0.5, 80)).toBe(false);
    expect(upstreamPushesBack(5, 100)).toBe(true);
    // At the share exactly it counts.
    expect(upstreamPushesBack(THROTTLED_SHARE * 100, (1 - THROTTLED_SHARE) * 100)).toBe(true);
  });

  it('counts refusals with nothing served as push-back, and nothing refused as none', () => {
    expect(upstreamPushesBack(0.1, 0)).toBe(true);
    expect(upstreamPushesBack(0, 0)).toBe(false);
    // Unreadable figures: no throughput is nothing served; no refusal rate is none.
    expect(upstreamPushesBack(1, Number.NaN)).toBe(true);
    expect(upstreamPushesBack(Number.NaN, 10)).toBe(false);
  });
});
