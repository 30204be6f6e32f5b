import { describe, expect, it } from 'vitest';
import { type Climb, climbStep, startClimb, stopped } from './climb.ts';

const IN_BETWEEN = new Set([7000, 9000]);
const RATES = [1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000];

/** Climbs over `met` (rate → met) as the ramp does; returns the best and the last rate run. */
function climb(met: (rate: number) => boolean): { best: number; last: number } {
  let c: Climb = startClimb;
  let last = 0;
  for (const rate of RATES) {
    if (stopped(c)) break;
    last = rate;
    c = climbStep(c, rate, met(rate), IN_BETWEEN.has(rate));
  }
  return { best: c.best, last };
}

/** The reference script's climb: its own steps only. */
function script(met: (rate: number) => boolean): { best: number; last: number } {
  let best = 0;
  let misses = 0;
  let last = 0;
  for (const rate of RATES.filter((r) => !IN_BETWEEN.has(r))) {
    if (misses >= 2) break;
    last = rate;
    if (met(rate)) {
      best = rate;
      misses = 0;
    } else misses++;
  }
  return { best, last };
}

describe('the ramp climb', () => {
  it.each([
    ['met up to 6,000/s: stops after 10,000 as the script does', (r: number) => r <= 6000, 6000, 10000],
    ['met up to 7,000/s: the in-between rate refines the best', (r: number) => r <= 7000, 7000, 10000],
    [
      '6,000 missed, 7,000 met, 8,000 missed: stops after 8,000 at 5,000',
      (r: number) => r <= 5000 || r === 7000,
      5000,
      8000,
    ],
    [
      '8,000 missed, 9,000 met, 10,000 met: the climb goes on',
      (r: number) => r !== 8000 && r <= 10000,
      10000,
      12000,
    ],
    [
      '9,000 missed, 10,000 met: the in-between miss does not count',
      (r: number) => r !== 9000 && r <= 10000,
      10000,
      12000,
    ],
    ['every rate met', () => true, 12000, 12000],
    ['nothing met', () => false, 0, 1500],
  ])('%s', (_, met, best, last) => {
    expect(climb(met)).toEqual({ best, last });
  });

  it("on the script's steps, stops where the script stops, its best above the script's only by an in-between rate", () => {
    // Every pattern of met and missed over the rates.
    for (let mask = 0; mask < 1 << RATES.length; mask++) {
      const met = (rate: number) => (mask & (1 << RATES.indexOf(rate))) !== 0;
      const ours = climb(met);
      const theirs = script(met);
      expect(ours.best, `mask ${mask}`).toBeGreaterThanOrEqual(theirs.best);
      // Above the script's best only by an in-between rate just past it.
      if (ours.best !== theirs.best) expect(ours.best - theirs.best, `mask ${mask}`).toBe(1000);
      expect(ours.last === theirs.last || ours.last === theirs.last + 1000, `mask ${mask}`).toBe(true);
    }
  });
});
