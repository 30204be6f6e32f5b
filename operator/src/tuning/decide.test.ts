import { describe, expect, it } from 'vitest';
import { advance, decide, type Observation, type TunerState } from './decide.ts';

const bounds = { min: 2, max: 64, sloMs: 50, stableWindowSeconds: 30, panicWindowSeconds: 5 };
const obs = (o: Partial<Observation> = {}): Observation => ({
  p95Ms: 20,
  utilization: 0.5,
  queueDepth: 0,
  throttledPerSecond: 0,
  throughput: 100,
  ...o,
});
const state = (
  current: number,
  lastChangeAt = 0,
  lastDirection: TunerState['lastDirection'] = 'none',
): TunerState => ({
  current,
  lastChangeAt,
  lastDirection,
});
const T = 1_000_000;

describe('decide', () => {
  it('holds the last value when there is no data (an empty result is not a zero)', () => {
    expect(decide(state(8), undefined, bounds, T)).toMatchObject({
      value: 8,
      changed: false,
      reason: 'NoData',
    });
    expect(decide(state(8), obs({ p95Ms: Number.NaN }), bounds, T).reason).toBe('NoData');
  });

  it('raises additively while saturated within the SLO, after the stable window', () => {
    expect(decide(state(8), obs({ utilization: 1 }), bounds, T)).toMatchObject({
      value: 9,
      reason: 'Saturated',
    });
    expect(decide(state(32), obs({ queueDepth: 4 }), bounds, T)).toMatchObject({
      value: 36,
      reason: 'Saturated',
    });
    expect(decide(state(8, T - 10_000, 'up'), obs({ utilization: 1 }), bounds, T)).toMatchObject({
      value: 8,
      reason: 'Cooldown',
    });
  });

  it('does not raise without headroom under the SLO, nor past the maximum', () => {
    expect(decide(state(8), obs({ utilization: 1, p95Ms: 45 }), bounds, T).reason).toBe('WithinSLO');
    expect(decide(state(64), obs({ utilization: 1 }), bounds, T)).toMatchObject({
      value: 64,
      reason: 'AtBound',
    });
  });

  it('cuts multiplicatively at once when latency breaks the SLO or the upstream throttles', () => {
    expect(decide(state(20, T - 1000, 'up'), obs({ p95Ms: 80 }), bounds, T)).toMatchObject({
      value: 16,
      reason: 'LatencyAboveSLO',
      changed: true,
    });
    // Push-back: 10 of 20 slots in use, which 13 hold at 80 %.
    expect(decide(state(20), obs({ throttledPerSecond: 3 }), bounds, T)).toMatchObject({
      value: 13,
      reason: 'UpstreamThrottling',
    });
    expect(decide(state(3), obs({ p95Ms: 80 }), bounds, T).value).toBe(2);
    expect(decide(state(2), obs({ p95Ms: 80 }), bounds, T)).toMatchObject({ value: 2, reason: 'AtBound' });
  });

  it('on push-back trims only the slots the admitted calls leave idle', () => {
    // The bench's 429 storm (8/s admitted, 15/s offered, 500 ms calls) cut 18 → 13 → 9 → 6 → 4
    // slots per pod while the pods used about 5: the queue grew past the SLO for everyone.
    const throttled = (utilization: number) => obs({ throttledPerSecond: 7, utilization });
    // 18 × 0.3 = 5.4 in use: straight to the 7 that hold it at 80 %, in one step.
    expect(decide(state(18), throttled(0.3), bounds, T)).toMatchObject({ value: 7, changed: true });
    // 9 × 0.6 = 5.4 in use needs 7 at 80 %: not the 6 a cut × 0.75 would give.
    expect(decide(state(9), throttled(0.6), bounds, T)).toMatchObject({
      value: 7,
      reason: 'UpstreamThrottling',
    });
    // Every slot needed: hold, and say why.
    const held = decide(state(6), throttled(0.9), bounds, T);
    expect(held).toMatchObject({ value: 6, reason: 'UpstreamThrottling', changed: false });
    expect(held.message).toMatch(/slots in use/);
  });

  it('raises a panic window after a push-back trim once the push-back ends, not a stable window', () => {
    // The bench's storm ended at 230 s with the slots trimmed to 5 and 15/s arriving: waiting the
    // stable window after that trim left the queue to the replica law (good 1/s for 10 s).
    const b = { ...bounds, raiseAfterRaiseSeconds: 5 };
    const trimmed = advance(
      state(9),
      decide(state(9), obs({ throttledPerSecond: 7, utilization: 0.6 }), b, T),
      T,
    );
    expect(trimmed).toMatchObject({ current: 7, lastDirection: 'trim' });
    const saturated = obs({ utilization: 1, queueDepth: 12, serviceMs: 30, p95Ms: 40 });
    expect(decide(trimmed, saturated, b, T + 6000)).toMatchObject({ reason: 'Saturated', changed: true });
    // Trims, like cuts, wait a panic window between them.
    expect(decide(trimmed, obs({ throttledPerSecond: 7, utilization: 0.1 }), b, T + 2000).reason).toBe(
      'Cooldown',
    );
    // A cut for the service time still waits the stable window before a raise.
    const cut = advance(state(9), decide(state(9), obs({ p95Ms: 80 }), b, T), T);
    expect(cut.lastDirection).toBe('down');
    expect(decide(cut, saturated, b, T + 6000).reason).toBe('Cooldown');
  });

  it('raises instead of cutting when queue wait, not service time, breaks the SLO', () => {
    // The bench's failure: p95 was queue wait behind full slots while each call took well under the
    // SLO; cutting slots made the queue (and p95) worse, down to one slot.
    const queued = obs({ p95Ms: 400, utilization: 1, queueDepth: 30, serviceMs: 12, demandPerPod: 38 });
    expect(decide(state(8), queued, bounds, T)).toMatchObject({
      value: 16,
      reason: 'Saturated',
      changed: true,
    });
    expect(decide(state(8), queued, bounds, T).message).toMatch(/queue wait/);
    // The service itself too slow for the SLO: more slots would only add contention, so cut.
    expect(decide(state(8), { ...queued, serviceMs: 45 }, bounds, T)).toMatchObject({
      value: 6,
      reason: 'LatencyAboveSLO',
    });
    // The queue has drained (slots no longer saturated) but the window's p95 still holds signals
    // that waited in it (recorded from the bench's graph: p95 2023 ms, service 540 ms, 59 % busy):
    // a cut would only shrink what just caught up, so hold.
    const drained = { ...queued, p95Ms: 80, utilization: 0.59, queueDepth: 0.4 };
    expect(decide(state(16, T - 60_000, 'up'), drained, bounds, T)).toMatchObject({
      value: 16,
      reason: 'QueueDrained',
      changed: false,
    });
    // Without a service-time estimate (the Prometheus source) the old, careful rule holds: cut.
    const { serviceMs: _, ...unknown } = queued;
    expect(decide(state(8), unknown, bounds, T).reason).toBe('LatencyAboveSLO');
    // Upstream push-back wins over everything.
    expect(decide(state(8), { ...queued, throttledPerSecond: 5 }, bounds, T).reason).toBe(
      'UpstreamThrottling',
    );
    // A stray 429 among many answers (under THROTTLED_SHARE) is no push-back: the raise goes on.
    expect(decide(state(8), { ...queued, throttledPerSecond: 0.5 }, bounds, T).reason).not.toBe(
      'UpstreamThrottling',
    );
  });

  describe('between 80 % of the SLO and the SLO', () => {
    // p95 45 ms against 50 ms: within the SLO, past the headroom a raise normally needs. Slots full
    // and signals queued while each call takes 20 ms: the margin is queue wait, which more slots
    // shorten and which, left alone, grows until the SLO breaks.
    const band = obs({ p95Ms: 45, utilization: 1, queueDepth: 6, serviceMs: 20 });
    const cases: Record<string, { s: TunerState; o: Observation; want: { value: number; reason: string } }> =
      {
        'raises saturated slots with a queue whose wait fills the headroom': {
          s: state(8),
          o: band,
          want: { value: 9, reason: 'Saturated' },
        },
        'raises to what the demand needs, at most doubling': {
          s: state(8),
          o: { ...band, demandPerPod: 14 },
          want: { value: 16, reason: 'Saturated' },
        },
        'raises at the SLO itself': {
          s: state(8),
          o: { ...band, p95Ms: 50 },
          want: { value: 9, reason: 'Saturated' },
        },
        'stops at the maximum': {
          s: state(64),
          o: band,
          want: { value: 64, reason: 'AtBound' },
        },
        'never past the maximum': {
          s: state(60),
          o: { ...band, demandPerPod: 200 },
          want: { value: 64, reason: 'Saturated' },
        },
        'waits the stable window after a change': {
          s: state(8, T - 10_000, 'up'),
          o: band,
          want: { value: 8, reason: 'Cooldown' },
        },
        'waits the stable window after a cut': {
          s: state(8, T - 10_000, 'down'),
          o: band,
          want: { value: 8, reason: 'Cooldown' },
        },
        'trims on push-back instead': {
          s: state(20),
          o: { ...band, utilization: 0.5, throttledPerSecond: 5 },
          want: { value: 13, reason: 'UpstreamThrottling' },
        },
        'holds full slots on push-back': {
          s: state(8),
          o: { ...band, throttledPerSecond: 5 },
          want: { value: 8, reason: 'UpstreamThrottling' },
        },
        'holds without a queue: the p95 is the service, which more slots would not shorten': {
          s: state(8),
          o: { ...band, queueDepth: 0 },
          want: { value: 8, reason: 'WithinSLO' },
        },
        'holds when the service itself is past 80 % of the SLO: more slots only add contention': {
          s: state(8),
          o: { ...band, serviceMs: 42 },
          want: { value: 8, reason: 'WithinSLO' },
        },
        'holds without a service-time estimate (the Prometheus source)': {
          s: state(8),
          o: (({ serviceMs: _, ...o }) => o)(band),
          want: { value: 8, reason: 'WithinSLO' },
        },
      };
    it.each(Object.entries(cases))('%s', (_, { s, o, want }) => {
      expect(decide(s, o, bounds, T)).toMatchObject({ ...want, changed: want.value !== s.current });
    });

    it('says the margin is queue wait', () => {
      expect(decide(state(8), band, bounds, T).message).toMatch(
        /p95 45.0 ms past 80 % of the SLO on queue wait \(service 20.0 ms fits the SLO\)/,
      );
    });
  });

  it('raises slots ahead of a predicted intake before the pod saturates (graph pre-scaling)', () => {
    // Recorded from the bench's graph: L3 at 8 slots, 40 % busy, when L4's intake doubles:
    // 20/s × 0.55 s = 11 predicted per pod → 14 slots keep it at 80 %.
    const idle = obs({ utilization: 0.4, predictedPerPod: 11 });
    expect(decide(state(8), idle, bounds, T)).toMatchObject({
      value: 14,
      reason: 'PreScaled',
      changed: true,
    });
    // At most doubling, within the bounds.
    expect(decide(state(8), obs({ predictedPerPod: 40 }), bounds, T).value).toBe(16);
    expect(decide(state(60), obs({ predictedPerPod: 80 }), bounds, T).value).toBe(64);
    // Right after a raise, at once: recorded in the graph bench, a pass 0.6 s after L4's step saw
    // a fraction of it (8 → 9), and the rest waited the panic window while L3's queue passed a batch.
    expect(decide(state(9, T - 2000, 'up'), idle, bounds, T)).toMatchObject({
      value: 14,
      reason: 'PreScaled',
    });
    // After a cut, only once the stable window has passed.
    expect(decide(state(8, T - 2000, 'down'), idle, bounds, T).reason).toBe('Cooldown');
    expect(decide(state(8, T - 31_000, 'down'), idle, bounds, T).reason).toBe('PreScaled');
    // A prediction the slots already hold at 80 % changes nothing; nor without headroom under the SLO.
    expect(decide(state(14), idle, bounds, T)).toMatchObject({ value: 14, reason: 'WithinSLO' });
    expect(decide(state(8), obs({ predictedPerPod: 11, p95Ms: 45 }), bounds, T).changed).toBe(false);
    // …unless the service fits and the p95 is queue wait (recorded from the bench's graph: p95
    // 2018 ms, service 541 ms against 1000 ms): that queue is what the raise is for.
    expect(decide(state(8), obs({ predictedPerPod: 11, p95Ms: 80, serviceMs: 22 }), bounds, T)).toMatchObject(
      { value: 14, reason: 'PreScaled' },
    );
    // The upstream pushing back still cuts.
    expect(decide(state(8), obs({ predictedPerPod: 11, throttledPerSecond: 5 }), bounds, T).reason).toBe(
      'UpstreamThrottling',
    );
  });

  it('pre-scales no further than below a ceiling that broke the SLO recently', () => {
    // 9 broke the SLO a minute ago (within five stable windows): a prediction of 11 per pod would ask
    // for 14, but the raise stops below 9.
    const afterCut: TunerState = {
      current: 6,
      lastChangeAt: T - 60_000,
      lastDirection: 'down',
      ceiling: { value: 9, at: T - 60_000 },
    };
    const d = decide(afterCut, obs({ utilization: 0.4, predictedPerPod: 11 }), bounds, T);
    expect(d).toMatchObject({ value: 8, reason: 'PreScaled' });
  });

  it('waits the panic window between cuts so one slow spell is not cut twice', () => {
    expect(decide(state(16, T - 2000, 'down'), obs({ p95Ms: 80 }), bounds, T).reason).toBe('Cooldown');
    expect(decide(state(16, T - 6000, 'down'), obs({ p95Ms: 80 }), bounds, T).value).toBe(12);
  });

  it('moves an out-of-bounds value into the bounds', () => {
    expect(decide(state(100), obs(), bounds, T)).toMatchObject({ value: 64, reason: 'OutOfBounds' });
    expect(decide(state(1), obs(), bounds, T)).toMatchObject({ value: 2, reason: 'OutOfBounds' });
  });

  it('settles without oscillating on a system whose latency grows with concurrency', () => {
    // Latency 5 ms + 1.5 ms per concurrent signal; the SLO (50 ms) holds up to 30 signals.
    let s = state(8);
    const values: number[] = [];
    for (let t = 0; t < 600; t += 5) {
      const now = T + t * 1000;
      const d = decide(s, obs({ p95Ms: 5 + 1.5 * s.current, utilization: 1, queueDepth: 10 }), bounds, now);
      s = advance(s, d, now);
      values.push(s.current);
    }
    const tail = values.slice(-60);
    expect(Math.max(...tail) - Math.min(...tail)).toBe(0);
    expect(tail[0]).toBeGreaterThan(16);
    expect(5 + 1.5 * tail[0]!).toBeLessThanOrEqual(50 * 0.8 + 1.5 * Math.ceil(tail[0]! / 8));
  });

  it('cuts again only once the window its latency came from holds data from after the last cut', () => {
    // A quiet Neuron: its p95 comes from the 30 s stable window, which still holds the slow spell.
    const slow = obs({ p95Ms: 80, latencyWindowMs: 30_000 });
    expect(decide(state(16, T - 6000, 'down'), slow, bounds, T).reason).toBe('Cooldown');
    expect(decide(state(16, T - 29_000, 'down'), slow, bounds, T).reason).toBe('Cooldown');
    expect(decide(state(16, T - 30_000, 'down'), slow, bounds, T)).toMatchObject({
      value: 12,
      changed: true,
    });
    // A busy one (latency over the panic window) waits only that.
    expect(
      decide(state(16, T - 6000, 'down'), obs({ p95Ms: 80, latencyWindowMs: 5000 }), bounds, T).value,
    ).toBe(12);
  });

  it('cuts by a fifth, and marks no ceiling, when the last raise was long before the breach', () => {
    // 40 served for half an hour; then the upstream got slower and the service time broke the SLO.
    const long = { ...state(40, T - 1_800_000, 'up'), previous: 39 };
    const d = decide(long, obs({ p95Ms: 500, serviceMs: 400, utilization: 1 }), bounds, T);
    expect(d).toMatchObject({ value: 32, reason: 'LatencyAboveSLO', changed: true });
    expect(advance(long, d, T).ceiling).toBeUndefined();
    // Within a stable window of the raise, the raise broke it: back to 39, and 40 is a ceiling.
    const recent = { ...state(40, T - 20_000, 'up'), previous: 39 };
    const back = decide(recent, obs({ p95Ms: 500, serviceMs: 400, utilization: 1 }), bounds, T);
    expect(back).toMatchObject({ value: 39, reason: 'LatencyAboveSLO' });
    expect(advance(recent, back, T).ceiling).toEqual({ value: 40, at: T });
  });

  it('goes back to the last good value when a raise broke the SLO, and stays below the value that broke it', () => {
    // Service time fits the SLO up to 8 slots and breaks it at 9, under a steady load that saturates.
    const plant = (slots: number) =>
      slots <= 8
        ? obs({ p95Ms: 35, utilization: 1, queueDepth: 2, serviceMs: 30 })
        : obs({ p95Ms: 80, utilization: 1, queueDepth: 2, serviceMs: 70 });
    const b = { ...bounds, raiseAfterRaiseSeconds: 5 };
    let s = state(8);
    const values: number[] = [];
    for (let t = 0; t < 600; t += 2) {
      const now = T + t * 1000;
      const d = decide(s, plant(s.current), b, now);
      s = advance(s, d, now);
      values.push(s.current);
    }
    // One probe of 9, back to 8 (not 7), and no second probe within five stable windows (150 s).
    expect(values[0]).toBe(9);
    const firstBack = values.indexOf(8, values.indexOf(9));
    expect(values.slice(firstBack, firstBack + 75).every((v) => v === 8)).toBe(true);
    expect(Math.min(...values.slice(firstBack))).toBe(8);
  });
});
