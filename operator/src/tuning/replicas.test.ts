import { describe, expect, it } from 'vitest';
import {
  decideReplicas,
  perPodTarget,
  type ReplicaBounds,
  type ReplicaInputs,
  type ReplicaState,
} from './replicas.ts';

const bounds: ReplicaBounds = {
  min: 1,
  max: 20,
  targetPerPod: 32,
  targetUtilization: 0.7,
  panicThreshold: 2,
  stableWindowMs: 60_000,
  scaleDownDelayMs: 0,
};
const calm = (current: number): ReplicaState => ({ current, panicUntil: 0, recent: [] });
const load = (
  stable: number | undefined,
  panic: number | undefined,
  extra: Partial<ReplicaInputs> = {},
): ReplicaInputs => ({
  readyPods: 2,
  stableConcurrency: stable,
  panicConcurrency: panic,
  slotsPerPod: 8,
  throttled: false,
  ...extra,
});

/** Runs a recorded sequence of (stable, panic) concurrencies, one decision every 2 s. */
function run(
  start: ReplicaState,
  seq: readonly [number | undefined, number | undefined][],
  b = bounds,
  extra: Partial<ReplicaInputs> = {},
) {
  let s = start;
  let now = 1_000_000;
  return seq.map(([stable, panic]) => {
    const d = decideReplicas(s, load(stable, panic, { readyPods: s.current, ...extra }), b, now);
    s = d.state;
    now += 2000;
    return d;
  });
}

interface Pass {
  /** Seconds into the bench profile. */
  readonly t: number;
  readonly stable: number;
  readonly panic: number;
  readonly slots: number;
}

/**
 * The graph bench's entry Neuron (L4) from its step 10 → 20/s at 30 s, one pass every 2 s, rebuilt
 * from the values its decisions logged (2026-12-01): a call holds a slot 0.56 s, so 20/s is 11.2 in
 * flight, exactly 16 slots × 70 %. The stable window climbs from 4.4 to the new load over a minute,
 * then wobbles around 11.1 (11.2+ at 90.3 s, 11.0 at 94.4 s); the panic window holds a backlog
 * while the slots go 8 → 14 → 16, then wobbles 10.7–11.3.
 */
function atTarget(): Pass[] {
  const out: Pass[] = [
    { t: 31.5, stable: 4.4, panic: 6.3, slots: 8 },
    { t: 33.5, stable: 5.0, panic: 11.0, slots: 14 },
    { t: 35.5, stable: 5.6, panic: 12.0, slots: 14 },
    { t: 37.5, stable: 6.0, panic: 11.5, slots: 14 },
    { t: 39.5, stable: 6.3, panic: 11.2, slots: 16 },
    { t: 41.5, stable: 6.6, panic: 10.9, slots: 16 },
  ];
  const wobble = [10.7, 11.0, 11.3, 10.9, 10.7, 11.2];
  for (let t = 43.5, i = 0; t < 100; t += 2, i++) {
    const stable =
      t < 90 ? 6.6 + ((11.0 - 6.6) * (t - 41.5)) / 48.5 : [11.23, 11.0, 11.1, 11.25, 11.0][i % 5]!;
    out.push({ t, stable, panic: wobble[i % wobble.length]!, slots: 16 });
  }
  return out;
}

/** The law over recorded passes (ready = the count decided), demand = the panic window's value. */
function replay(passes: readonly Pass[], start: ReplicaState = calm(1)) {
  let s = start;
  return passes.map((p, i) => {
    const d = decideReplicas(
      s,
      load(p.stable, p.panic, { readyPods: s.current, slotsPerPod: p.slots, panicDemand: p.panic }),
      { ...bounds, max: 2 },
      1_000_000 + i * 2000,
    );
    s = d.state;
    return d;
  });
}

describe('perPodTarget', () => {
  // What a pod runs at once (its slots, held to the model calls it runs at once) × utilization,
  // at most targetConcurrencyPerPod: a signal in a slot past the calls waits like a queued one.
  it.each<[string, number, number | undefined, number]>([
    ['slots under the target, no cap', 32, undefined, 22.4],
    ['32 slots held to the default 10 calls', 32, 10, 7],
    ['slots under the calls', 8, 10, 5.6],
    ['64 calls: the slots decide', 32, 64, 22.4],
    ['64 slots and 64 calls: targetConcurrencyPerPod decides', 64, 64, 32],
  ])('%s', (_, slots, calls, want) => {
    const b = { ...bounds, ...(calls === undefined ? {} : { callsPerPod: calls }) };
    expect(perPodTarget(b, slots)).toBeCloseTo(want, 9);
  });

  it('sizes the pods by the held target and says so', () => {
    // 28 in flight and queued on 3 pods of 32 slots: at 22.4 per pod 2 would do, with 14 each of
    // which 4 wait for a call; the 10 calls a pod runs at once hold 7 per pod, so 4.
    const x = load(28, 28, { readyPods: 3, slotsPerPod: 32 });
    const d = decideReplicas(calm(3), x, { ...bounds, callsPerPod: 10 }, 0);
    expect(d).toMatchObject({ value: 4, reason: 'Concurrency', perPodTarget: 7 });
    expect(d.message).toContain('per-pod target 7.0 (limit 32 held to 10 model calls × 70 %, at most 32)');
    expect(decideReplicas(calm(3), x, bounds, 0).perPodTarget).toBeCloseTo(22.4, 9);
  });
});

describe('decideReplicas', () => {
  it('sizes pods for the stable concurrency at the per-pod target (limit × utilization)', () => {
    // 8 slots × 0.7 = 5.6 per pod; 20 concurrency → 4 pods.
    const d = decideReplicas(calm(3), load(20, 22, { readyPods: 3 }), bounds, 0);
    expect(d).toMatchObject({ value: 4, changed: true, reason: 'Concurrency', panic: false });
    expect(d.perPodTarget).toBeCloseTo(5.6, 9);
    expect(d.message).toContain('per-pod target 5.6');
  });

  it('caps the per-pod target at targetConcurrencyPerPod', () => {
    const d = decideReplicas(
      calm(1),
      load(100, 100, { slotsPerPod: 64 }),
      { ...bounds, targetPerPod: 10 },
      0,
    );
    expect(d.value).toBe(10);
  });

  it('panics on a burst of twice the ready pods and scales at once from the panic window', () => {
    const d = decideReplicas(calm(2), load(8, 40), bounds, 0);
    expect(d).toMatchObject({ value: 8, reason: 'Panic', panic: true });
    expect(d.state.panicUntil).toBe(60_000);
  });

  it('does not scale down while in panic, and calms down a stable window after the last burst', () => {
    const seq: [number, number][] = [[8, 40], ...Array.from({ length: 35 }, (): [number, number] => [6, 6])];
    const ds = run(calm(2), seq);
    expect(ds[0]!.value).toBe(8);
    // 60 s of panic = 30 decisions at 2 s: held at 8.
    expect(ds.slice(0, 30).every((d) => d.value === 8)).toBe(true);
    const after = ds.slice(30);
    expect(after[0]!.panic).toBe(false);
    // Then down at most halving per decision: 8 → 4 → 2.
    expect(after.map((d) => d.value).slice(0, 3)).toEqual([4, 2, 2]);
  });

  it('holds on no data (an empty window is not a zero), but moves into new bounds', () => {
    expect(decideReplicas(calm(5), load(undefined, undefined), bounds, 0)).toMatchObject({
      value: 5,
      changed: false,
      reason: 'NoData',
    });
    expect(decideReplicas(calm(5), load(undefined, undefined), { ...bounds, max: 3 }, 0)).toMatchObject({
      value: 3,
      reason: 'OutOfBounds',
    });
  });

  it('takes a concurrency that is not a finite number for no data, not as a count to compare', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(decideReplicas(calm(5), load(v, v), bounds, 0)).toMatchObject({ value: 5, reason: 'NoData' });
    }
  });

  it('scales an idle Neuron down to minReplicas: zero reported is a measurement', () => {
    const ds = run(
      calm(8),
      [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
      { ...bounds, min: 2 },
    );
    expect(ds.map((d) => d.value)).toEqual([4, 2, 2, 2]);
  });

  it('delays scale-down to the highest count wanted over the delay window', () => {
    const b = { ...bounds, scaleDownDelayMs: 10_000 };
    // 4 pods wanted, then 2 pods wanted for 14 s.
    const ds = run(
      calm(4),
      [
        [20, 20],
        [10, 10],
        [10, 10],
        [10, 10],
        [10, 10],
        [10, 10],
        [10, 10],
        [10, 10],
      ],
      b,
    );
    // The 4 wanted at t = 0 leaves the window at t = 10 s (the sixth decision).
    expect(ds.map((d) => d.value)).toEqual([4, 4, 4, 4, 4, 2, 2, 2]);
    expect(ds[1]!.reason).toBe('ScaleDownStabilized');
  });

  it('does not add pods while the upstream pushes back', () => {
    const d = decideReplicas(calm(2), load(30, 30, { throttled: true }), bounds, 0);
    expect(d).toMatchObject({ value: 2, reason: 'UpstreamThrottling', changed: false });
    // …but still scales down.
    expect(decideReplicas(calm(6), load(5, 5, { throttled: true }), bounds, 0).value).toBe(3);
  });

  it('pre-scales from the predicted concurrency before the own concurrency rises', () => {
    const d = decideReplicas(calm(2), load(8, 8, { predictedConcurrency: 30 }), bounds, 0);
    expect(d).toMatchObject({ value: 6, reason: 'PreScaled' });
    expect(d.message).toContain('30.0 predicted');
  });

  it('holds a pre-scale for a stable window when the predicted intake dips before the pods are ready', () => {
    // Recorded in the end-to-end bench: design pre-scaled 1 → 2 at 8.0 s, then 2 → 1 at 10.4 s on
    // its own (still low) concurrency, before the new pod ran.
    const first = decideReplicas(calm(1), load(2, 2, { readyPods: 1, predictedConcurrency: 10 }), bounds, 0);
    expect(first).toMatchObject({ value: 2, reason: 'PreScaled' });
    const dip = decideReplicas(
      first.state,
      load(2, 2, { readyPods: 1, predictedConcurrency: 3 }),
      bounds,
      2_400,
    );
    expect(dip.value).toBe(2);
    // A stable window later, with no prediction asking for it, the capacity may go.
    const later = decideReplicas(dip.state, load(2, 2, { readyPods: 2 }), bounds, 2_400 + 60_001);
    expect(later.value).toBe(1);
  });

  it("holds a pre-scale for the upstream's intake, not for the backlog it passed on once", () => {
    // Recorded in the graph bench: L3 was pre-scaled 1 → 2 for 41 in flight (L4's intake 20/s ×
    // 0.55 s = 11, plus L4's queue of 30 released at once when its slots doubled), with 17 slots
    // per pod; holding 41 for a stable window kept a pod the intake never needed until 97.7 s.
    const b = { ...bounds, max: 2 };
    const x = { slotsPerPod: 17, predictedConcurrency: 41, predictedDemand: 9 };
    const first = decideReplicas(calm(1), load(5, 5, { readyPods: 1, ...x }), b, 0);
    expect(first).toMatchObject({ value: 2, reason: 'PreScaled' });
    // The backlog has passed: 9 in flight, which one pod of 17 slots holds (9 ≤ 0.9 × 11.9).
    const after = { readyPods: 2, slotsPerPod: 17, predictedConcurrency: 9, predictedDemand: 9 };
    expect(decideReplicas(first.state, load(9, 9, after), b, 10_000).value).toBe(1);
    // Without the split (a prediction of unknown make-up) the whole prediction is held, as before.
    const { predictedDemand: _, ...whole } = x;
    const held = decideReplicas(calm(1), load(5, 5, { readyPods: 1, ...whole }), b, 0);
    const { predictedDemand: __, ...afterWhole } = after;
    expect(decideReplicas(held.state, load(9, 9, afterWhole), b, 10_000).value).toBe(2);
  });

  it('releases a pre-scale the load did not need after its hold (two panic windows), not a stable window', () => {
    // Recorded in the graph bench (2026-12-02 03:42): L3 pre-scaled 1 → 2 when L4's intake doubled,
    // its slots raised 9 → 17 (per-pod target 11.9), then 10.7 in flight, which one pod holds
    // (≤ 0.9 × 11.9). Held for the stable window, the second pod went 67 s after the step.
    const b = { ...bounds, max: 4 };
    const seq = (hold: number | undefined) => {
      let s = calm(1);
      const out: { t: number; value: number }[] = [];
      for (let t = 0; t <= 80_000; t += 2_000) {
        const x: Partial<ReplicaInputs> =
          t === 0
            ? { slotsPerPod: 9, predictedConcurrency: 6.5 }
            : t <= 4_000
              ? { slotsPerPod: 17, predictedConcurrency: 16, predictedDemand: 13 }
              : { slotsPerPod: 17, predictedConcurrency: 10.7, predictedDemand: 10.7 };
        // The stable window climbs from the old load over a minute; the panic window has the new one.
        const stable = Math.min(10.7, 4.1 + (6.6 * t) / 60_000);
        const panic = t === 0 ? 5.2 : 10.7;
        const d = decideReplicas(
          s,
          load(stable, panic, { readyPods: s.current, ...x }),
          { ...b, ...(hold === undefined ? {} : { prescaleHoldMs: hold }) },
          t,
        );
        s = d.state;
        out.push({ t, value: d.value });
      }
      return out;
    };
    const changes = (xs: { t: number; value: number }[]) =>
      xs.filter((x, i) => i > 0 && x.value !== xs[i - 1]!.value).map((x) => [x.t, x.value]);
    expect(seq(12_000)[0]!.value).toBe(2);
    expect(changes(seq(12_000))).toEqual([[16_000, 1]]);
    // Held for the stable window (the default), the same load steps down a minute late.
    expect(changes(seq(undefined))).toEqual([[64_000, 1]]);
  });

  it('holds what a panic peak asked for at the per-pod target, so slots raised since let the burst pod go', () => {
    // Recorded in the graph bench (2026-12-02 04:00): L4 panicked 1 → 2 at 8 slots (per-pod target
    // 5.6) when its intake doubled, its slots went 8 → 15 → 17 (11.9) over the next passes, and its
    // load settled at 10.7 in flight after a peak of 11.2. Holding the peak with the scale-down
    // margin (11.2 > 0.9 × 11.9) kept the second pod for the whole stable window: gone at 65 s.
    let s = calm(1);
    const values: [number, number][] = [];
    for (let t = 0; t <= 80_000; t += 2_000) {
      const slotsPerPod = t < 2_000 ? 8 : t < 8_000 ? 15 : 17;
      const panic = t === 0 ? 6.4 : t <= 6_000 ? 11.2 : 10.7;
      const stable = Math.min(10.7, 4.5 + (6.2 * t) / 60_000);
      const d = decideReplicas(
        s,
        load(stable, panic, { readyPods: s.current, slotsPerPod, panicDemand: panic }),
        bounds,
        t,
      );
      s = d.state;
      values.push([t, d.value]);
    }
    const changes = values.filter(([, v], i) => i > 0 && v !== values[i - 1]![1]);
    expect(values[0]![1]).toBe(2);
    // One step down, once the slots make one pod enough, and nothing after it.
    expect(changes).toEqual([[8_000, 1]]);
  });

  it('follows a step down within a panic window, and the old load in the stable window does not scale back up', () => {
    // Recorded from the bench: 50 → 15 requests/s at 500 ms calls, 24 slots per pod (16.8 per pod):
    // concurrency 27 → 8. The panic window (6 s) falls in three passes, the stable one (60 s) over 30.
    const seq: [number, number][] = Array.from({ length: 45 }, (_, i) => [
      Math.max(8, 27 - (19 * (i + 1)) / 30),
      Math.max(8, 27 - (19 * (i + 1)) / 3),
    ]);
    const ds = run(calm(2), seq, bounds, { slotsPerPod: 24 });
    const first = ds.findIndex((d) => d.changed);
    // Down within 10 s (5 passes), not after the stable window's 32 s.
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(5);
    expect(ds[first]).toMatchObject({ value: 1, reason: 'Concurrency' });
    expect(ds[first]!.message).toContain('load dropped');
    // The stable window still wants 2 pods for a while: the drop holds 1 throughout.
    expect(ds.slice(first).every((d) => d.value === 1)).toBe(true);
  });

  it('scales up at once from the panic window when load rises again during a drop', () => {
    const seq: [number, number][] = [
      [27, 10],
      [26, 8],
      [25, 8],
      [25, 30],
    ];
    const ds = run(calm(2), seq, bounds, { slotsPerPod: 24 });
    expect(ds.map((d) => d.value)).toEqual([1, 1, 1, 2]);
  });

  it('sizes a burst during a drop on the panic window, not on the load that left the stable window', () => {
    // 4 pods × 5.5 in flight (8 slots: 5.6 a pod), then idle: the drop takes the count down fast.
    // A burst of 10 on the one pod left panics while the stable window still averages the old load
    // (17): it needs 2 pods, not the 4 the stable window would ask for.
    const idle: [number, number][] = Array.from({ length: 5 }, (_, i) => [21 - i, 0]);
    const ds = run(calm(4), [[22, 22], ...idle, [17, 10], [16.5, 10], [16, 10]], bounds, { slotsPerPod: 8 });
    expect(ds[5]!.value).toBe(1);
    expect(ds[6]).toMatchObject({ value: 2, reason: 'Panic', panic: true });
    // Held through the panic, and no more.
    expect(ds.slice(6).map((d) => d.value)).toEqual([2, 2, 2]);
  });

  it('does not read a dip of the panic window under steady load as a drop', () => {
    // 27 in the stable window, the panic window between 14 and 40: never at most half.
    const seq: [number, number][] = Array.from({ length: 30 }, (_, i) => [27, 14 + ((i * 7) % 27)]);
    const ds = run(calm(2), seq, bounds, { slotsPerPod: 24 });
    expect(ds.every((d) => d.value === 2 || d.reason === 'Panic')).toBe(true);
    expect(ds.some((d) => d.message.includes('load dropped'))).toBe(false);
  });

  it('holds what the arrivals of a burst need, not the backlog it built, so it settles within the stable window', () => {
    // Recorded from the bench's step 15 → 50/s (500 ms calls, max 4 pods): the panic window's
    // concurrency peaks at 70 with the backlog while the slots go 8 → 14 → 28 → 32; the arrivals
    // need 50/s × 0.55 s = 27.5 in flight throughout.
    const seq: [number, number, number][] = [
      [8, 22, 8],
      [10, 46, 14],
      [12, 70, 28],
      [14, 60, 32],
      [16, 40, 32],
      ...Array.from({ length: 25 }, (_, i): [number, number, number] => [18 + i * 0.4, 27, 32]),
    ];
    const replay = (demand: number | undefined) => {
      let st = calm(2);
      let now = 1_000_000;
      return seq.map(([stable, panic, slotsPerPod]) => {
        const d = decideReplicas(
          st,
          load(stable, panic, { readyPods: st.current, slotsPerPod, panicDemand: demand }),
          { ...bounds, max: 4 },
          now,
        );
        st = d.state;
        now += 2000;
        return d;
      });
    };
    const values = replay(27.5).map((d) => d.value);
    // Up at once on the burst; down to what 27.5 needs at 22.4 per pod once the backlog drains,
    // while still in panic (at most halving), and nothing after.
    expect(values.slice(0, 5)).toEqual([4, 4, 4, 3, 2]);
    expect(new Set(values.slice(4))).toEqual(new Set([2]));
    // Holding the backlog's peak instead keeps all 4 pods for the whole panic.
    expect(new Set(replay(undefined).map((d) => d.value))).toEqual(new Set([4]));
  });

  it('does not scale down below what the panic window asks for when a panic ends before the stable window caught up', () => {
    // Recorded from the bench: a panic from start-up ends 35 s after a step 15 → 50/s; the stable
    // window (21.6) still holds the lower load from before it, the panic window (26.4) the new one;
    // 18 slots × 70 % = 12.6 per pod. Down to 2 here came back up to 3 twelve seconds later.
    const d = decideReplicas(calm(3), load(21.6, 26.4, { readyPods: 3, slotsPerPod: 18 }), bounds, 0);
    expect(d).toMatchObject({ value: 3, changed: false });
    // Once the panic window agrees (2 pods hold it at 90 % of their target, 22.7), down it goes.
    expect(decideReplicas(calm(3), load(21.6, 22, { readyPods: 3, slotsPerPod: 18 }), bounds, 0).value).toBe(
      2,
    );
  });

  it('does not flap when the load sits on the per-pod target (the graph bench, L4 at 20/s)', () => {
    // Recorded: 1 → 2 Panic at 31.5 s, 2 → 1 at 41.8 s (panic 10.9 under 11.2), 1 → 2 at 90.3 s
    // (stable 11.2+ over 11.2), 2 → 1 at 94.4 s (stable 11.0): settled 64 s after the step.
    const ds = replay(atTarget());
    expect(ds[0]).toMatchObject({ value: 2, reason: 'Panic' });
    // One step up, then nothing: the load never falls to 90 % of one pod's target.
    expect(ds.slice(1).every((d) => d.value === 2 && !d.changed)).toBe(true);
    const held = ds.find((d) => d.reason === 'ScaleDownStabilized');
    expect(held?.message).toContain('hysteresis');
  });

  it('from one pod, a load on the target costs at most one step up and none back', () => {
    const steady = atTarget().filter((p) => p.t >= 90);
    const ds = replay([...steady, ...steady, ...steady], calm(1));
    const values = ds.map((d) => d.value);
    expect(values.filter((v, i) => i > 0 && v !== values[i - 1]).length).toBeLessThanOrEqual(1);
    expect(values.at(-1)).toBe(values.includes(2) ? 2 : 1);
  });

  it('still scales down once the smaller count holds the load at 90 % of its target', () => {
    // 16 slots × 70 % = 11.2 per pod: 10.5 is 94 % of one pod's target (held), 9.5 is 85 % (down).
    const at = (c: number) =>
      decideReplicas(calm(2), load(c, c, { readyPods: 2, slotsPerPod: 16, panicDemand: c }), bounds, 0);
    expect(at(10.5)).toMatchObject({ value: 2, reason: 'ScaleDownStabilized', changed: false });
    expect(at(9.5)).toMatchObject({ value: 1, reason: 'Concurrency', changed: true });
  });

  it('keeps within [min, max]', () => {
    expect(decideReplicas(calm(2), load(1000, 1000), bounds, 0).value).toBe(20);
    expect(decideReplicas(calm(1), load(0, 0), { ...bounds, min: 3 }, 0)).toMatchObject({
      value: 3,
      reason: 'OutOfBounds',
    });
  });

  it('settles under steady load: one value, no oscillation', () => {
    const noisy: [number, number][] = Array.from({ length: 60 }, (_, i) => [
      22 + (i % 3) * 0.1,
      20 + (i % 5),
    ]);
    const values = run(calm(4), noisy).map((d) => d.value);
    expect(new Set(values)).toEqual(new Set([4]));
  });

  it('adds no pod on the stable window alone when the panic window holds the load with the pods there are', () => {
    // 56 s after a step up (the closed-loop tuner's figures): 6 pods hold a steady 30 in flight, but the
    // stable window still averages the step's backlog, 43.3, as the quieter seconds before it left.
    const b = { ...bounds, callsPerPod: 10 };
    const x = load(43.3, 30, { readyPods: 6, panicDemand: 30, slotsPerPod: 10 });
    expect(decideReplicas(calm(6), x, b, 1_000_000)).toMatchObject({ value: 6, changed: false });
    // In a panic the same: its peak and the panic window decide what to add.
    const panic = { ...calm(6), panicUntil: 1_010_000, panicPeak: 30 };
    expect(decideReplicas(panic, x, b, 1_000_000)).toMatchObject({ value: 6, changed: false });
    // A load still rising is in the panic window too, and then the stable window sizes the step.
    expect(decideReplicas(calm(6), { ...x, panicConcurrency: 45 }, b, 1_000_000)).toMatchObject({
      value: 7,
      reason: 'Concurrency',
    });
    // Without a panic window, the stable window decides as before.
    expect(decideReplicas(calm(6), { ...x, panicConcurrency: undefined }, b, 1_000_000).value).toBe(7);
  });
});
