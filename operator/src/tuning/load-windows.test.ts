import { describe, expect, it } from 'vitest';
import { aPodProcess, BOUNDS, type LoadStep, withShed } from '../testing/load-reports.ts';
import type { LatencyHistogram, LoadReport, NeuronLoad } from './load-report.ts';
import {
  appendReport,
  approxBytes,
  histogramQuantile,
  MAX_FANOUT,
  MAX_QUEUE,
  windowPart,
  windowStats,
} from './load-windows.ts';

const history = (reports: readonly LoadReport[], keepMs = 60_000) =>
  reports.reduce<LoadReport[]>((h, r) => appendReport(h, r, keepMs), []);

describe('histogramQuantile', () => {
  it('interpolates within the bucket like Prometheus', () => {
    // 100 samples: 50 in (0.01, 0.02], 50 in (0.05, 0.1].
    const counts = BOUNDS.map((b) => (b >= 0.1 ? 100 : b >= 0.02 ? 50 : 0));
    expect(histogramQuantile(0.95, BOUNDS, [...counts, 100])).toBeCloseTo(0.05 + 0.05 * 0.9, 9);
    expect(histogramQuantile(0.5, BOUNDS, [...counts, 100])).toBeCloseTo(0.02, 9);
  });
  it('gives the highest finite bound in +Inf and nothing without samples', () => {
    expect(histogramQuantile(0.95, BOUNDS, [...BOUNDS.map(() => 0), 10])).toBe(30);
    expect(histogramQuantile(0.95, BOUNDS, [...BOUNDS.map(() => 0), 0])).toBeUndefined();
  });
});

describe('appendReport', () => {
  it('keeps one baseline at or before the oldest window start and drops the rest', () => {
    const h = history(aPodProcess('a').run([{ seconds: 100, active: 1 }]), 10_000);
    expect(h.length).toBe(11);
    expect(h.at(-1)!.at - h[0]!.at).toBe(10_000);
  });
  it('starts again when the process restarted (counters began again), even past the old counts', () => {
    // The new process has counted more than the old one ever did, later: only its startedAt tells.
    const before = history(aPodProcess('a', 1).run([{ seconds: 1, active: 1, rate: 1 }]));
    const after = aPodProcess('a', 2)
      .run([{ seconds: 10, active: 8, rate: 50 }])
      .at(-1)!;
    expect(after.at).toBeGreaterThan(before.at(-1)!.at);
    expect(after.busySeconds).toBeGreaterThan(before.at(-1)!.busySeconds);
    expect(after.arrived).toBeGreaterThan(before.at(-1)!.arrived);
    expect(appendReport(before, after, 60_000)).toEqual([after]);
  });
  it('starts again when a counter went backwards within the same process', () => {
    const h = history(aPodProcess('a').run([{ seconds: 3, active: 1, rate: 5 }]));
    const last = h.at(-1)!;
    const reset = { ...last, at: last.at + 1000, concurrencySeconds: 0, arrived: 0 };
    expect(appendReport(h, reset, 60_000)).toEqual([reset]);
  });
  it('starts again when any counter the windows difference went back: histograms, served, forwarded, per neuron', () => {
    const h = history(
      withShed(
        aPodProcess('impl-1').run([{ seconds: 3, active: 1, rate: 5, fanOut: { 'impl-2': 2 } }]),
        0.25,
      ),
    );
    const last = h.at(-1)!;
    const n = last.neurons['impl-1']!;
    const later = (r: Partial<LoadReport>, neuron: Partial<NeuronLoad> = {}): LoadReport => ({
      ...last,
      at: last.at + 1000,
      ...r,
      neurons: { 'impl-1': { ...n, ...neuron } },
    });
    const lower = (l: LatencyHistogram): LatencyHistogram => ({
      ...l,
      counts: l.counts.map((c, i) => (i === l.counts.length - 1 ? c - 1 : c)),
    });
    // The same report a second later is one process's counting: the history goes on.
    expect(appendReport(h, later({}), 60_000)).toHaveLength(h.length + 1);
    const back: Record<string, LoadReport> = {
      'latency counts': later({ latency: lower(last.latency) }),
      'latency sum': later({ latency: { ...last.latency, sum: last.latency.sum - 0.01 } }),
      'latency bounds (other counters)': later({
        latency: { ...last.latency, bounds: last.latency.bounds.map((b) => b * 2) },
      }),
      served: later({ served: last.served! - 1 }),
      'neuron served': later({}, { served: n.served! - 1 }),
      'neuron latency counts': later({}, { latency: lower(n.latency) }),
      'neuron latency sum': later({}, { latency: { ...n.latency, sum: n.latency.sum - 0.01 } }),
      'neuron forwarded': later({}, { forwarded: { 'impl-2': n.forwarded['impl-2']! - 1 } }),
      'forwarded target gone': later({}, { forwarded: {} }),
      'neuron gone': { ...later({}), neurons: {} },
    };
    for (const [what, r] of Object.entries(back)) expect(appendReport(h, r, 60_000), what).toEqual([r]);
    // A runtime that did not count served signals counted every finished one: served below that is back.
    const older = history(aPodProcess('impl-1').run([{ seconds: 3, active: 1, rate: 5 }]));
    const o = older.at(-1)!;
    const served = {
      ...o,
      at: o.at + 1000,
      neurons: { 'impl-1': { ...o.neurons['impl-1']!, served: o.completed - 1 } },
    };
    expect(appendReport(older, served, 60_000)).toEqual([served]);
  });
  it('keeps at most maxReports, the newest, when the pod clock runs slower than its reads', () => {
    // A report a second whose `at` moves 1 ms each: by its own clock nothing ever leaves the window.
    const r = aPodProcess('a')
      .run([{ seconds: 1, active: 1 }])
      .at(-1)!;
    let h: LoadReport[] = [];
    for (let i = 1; i <= 500; i++)
      h = appendReport(h, { ...r, at: r.at + i, arrived: r.arrived + i }, 60_000, 64);
    expect(h).toHaveLength(64);
    expect(h.at(-1)!.at).toBe(r.at + 500);
    expect(h[0]!.at).toBe(r.at + 437);
  });
  it('keeps at most maxBytes of reports, the newest, and the newest whatever its size', () => {
    const r = aPodProcess('a')
      .run([{ seconds: 1, active: 1 }])
      .at(-1)!;
    const size = approxBytes(r);
    let h: LoadReport[] = [];
    for (let i = 1; i <= 500; i++)
      h = appendReport(h, { ...r, at: r.at + i, arrived: r.arrived + i }, 60_000, 64, 10.5 * size);
    expect(h).toHaveLength(10);
    expect(h.at(-1)!.at).toBe(r.at + 500);
    expect(appendReport(h, { ...r, at: r.at + 501, arrived: r.arrived + 501 }, 60_000, 64, 1)).toHaveLength(
      1,
    );
  });
  it('ignores a report read twice', () => {
    const h = history(aPodProcess('a').run([{ seconds: 3, active: 1 }]));
    expect(appendReport(h, h.at(-1)!, 60_000)).toEqual(h);
  });
  it('starts again when the pod clock stepped back, instead of keeping its last window for good', () => {
    const h = history(aPodProcess('a').run([{ seconds: 3, active: 1 }]));
    const last = h.at(-1)!;
    const back = { ...last, at: last.at - 60_000, concurrencySeconds: last.concurrencySeconds + 1 };
    expect(appendReport(h, back, 60_000)).toEqual([back]);
  });
});

describe('windowPart', () => {
  const histogram = (buckets: number): LatencyHistogram => ({
    bounds: Array.from({ length: buckets }, (_, i) => i + 1),
    counts: new Array<number>(buckets + 1).fill(1),
    sum: 1,
  });
  /** What a pod may send: 140 neurons (one of them `neuron`), each forwarding to 256 targets. */
  const crafted = (neuron: string): LoadReport => {
    const forwarded = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`t${i}`, i]));
    const entry = { arrived: 9, completed: 8, served: 7, latency: histogram(64), forwarded };
    const neurons = Object.fromEntries(Array.from({ length: 139 }, (_, i) => [`n${i}`, entry]));
    const { latency: _, ...counters } = aPodProcess(neuron).run([{ seconds: 1, active: 1 }])[0]!;
    return { ...counters, latency: histogram(64), neurons: { ...neurons, [neuron]: entry } };
  };

  it("keeps the process's counters, the Neuron's entry and its connections' forwards only", () => {
    const r = crafted('impl-1');
    const kept = windowPart(r, 'impl-1', ['t3', 't200', 'not-reported']);
    const { neurons: _, ...counters } = r;
    expect(kept).toMatchObject(counters);
    expect(Object.keys(kept.neurons)).toEqual(['impl-1']);
    expect(kept.neurons['impl-1']).toEqual({ ...r.neurons['impl-1'], forwarded: { t3: 3, t200: 200 } });
    expect(approxBytes(kept)).toBeLessThan(approxBytes(r) / 100);
    // A pod that does not report the Neuron: the windows read its process's counters.
    expect(windowPart(r, 'other', ['t3']).neurons).toEqual({});
    // Neither the report's own keys nor `__proto__` reach a prototype.
    const proto = windowPart(
      {
        ...r,
        neurons: JSON.parse(
          '{"__proto__":{"arrived":1,"completed":1,"latency":{"bounds":[],"counts":[0],"sum":0},"forwarded":{}}}',
        ),
      },
      '__proto__',
      [],
    );
    expect(Object.keys(proto.neurons)).toEqual(['__proto__']);
  });

  it('leaves every window as it was for a pod that forwards along its connections', () => {
    const steps: LoadStep[] = [
      { seconds: 30, active: 2, rate: 10, latency: 0.04, fanOut: { 'impl-2': 2, 'impl-3': 0.5 } },
      {
        seconds: 40,
        active: 5,
        queued: 3,
        rate: 30,
        latency: 0.3,
        throttledPerSecond: 1,
        fanOut: { 'impl-2': 1 },
      },
    ];
    // The pod hosts other neurons too (a shared runtime): their entries are not this Neuron's load.
    const withOthers = (r: LoadReport): LoadReport => ({
      ...r,
      neurons: { ...r.neurons, other: { ...r.neurons['impl-1']!, forwarded: { x: 1 } } },
    });
    const pods = [aPodProcess('impl-1', 1_700_000_000_000), aPodProcess('impl-1', 1_700_000_020_000)].map(
      (p) => p.run(steps).map(withOthers),
    );
    const o = { now: pods[0]!.at(-1)!.at, staleMs: 5000 };
    const whole = pods.map((p) => history(p));
    const parts = pods.map((p) => history(p.map((r) => windowPart(r, 'impl-1', ['impl-2', 'impl-3']))));
    for (const windowMs of [60_000, 6000, 1000]) {
      const w = windowStats(whole, 'impl-1', { ...o, windowMs, departed: [whole[1]!.slice(0, 20)] });
      expect(w?.pods, String(windowMs)).toBe(2);
      expect(windowStats(parts, 'impl-1', { ...o, windowMs, departed: [parts[1]!.slice(0, 20)] })).toEqual(w);
    }
  });
});

describe('windowStats', () => {
  const pod = aPodProcess('impl-1');
  // 60 s quiet-ish, then a step: 4 in flight + 6 queued, 40/s at 200 ms.
  const reports = pod.run([
    { seconds: 60, active: 2, rate: 10, latency: 0.04, limit: 8, fanOut: { 'impl-2': 2 } },
    {
      seconds: 6,
      active: 8,
      queued: 6,
      rate: 40,
      latency: 0.2,
      limit: 8,
      throttledPerSecond: 1,
      fanOut: { 'impl-2': 2 },
    },
  ]);
  const h = history(reports, 60_000);
  const now = reports.at(-1)!.at;

  it('computes the panic window from counter differences', () => {
    const s = windowStats([h], 'impl-1', { now, windowMs: 6000, staleMs: 3000 })!;
    expect(s.pods).toBe(1);
    expect(s.concurrency).toBeCloseTo(14, 9);
    expect(s.active).toBeCloseTo(8, 9);
    expect(s.utilization).toBeCloseTo(1, 9);
    expect(s.queue).toBeCloseTo(6, 9);
    expect(s.arrivalRate).toBeCloseTo(40, 9);
    expect(s.throttledRate).toBeCloseTo(1, 9);
    expect(s.p95Seconds).toBeGreaterThan(0.1);
    expect(s.p95Seconds).toBeLessThanOrEqual(0.25);
    expect(s.meanLatencySeconds).toBeCloseTo(0.2, 9);
    expect(s.fanOut).toEqual({ 'impl-2': 2 });
  });

  it('averages the stable window over both steps', () => {
    const s = windowStats([h], 'impl-1', { now, windowMs: 60_000, staleMs: 3000 })!;
    expect(s.concurrency).toBeCloseTo((54 * 2 + 6 * 14) / 60, 9);
    expect(s.arrivalRate).toBeCloseTo((54 * 10 + 6 * 40) / 60, 9);
  });

  it('sums pods, and leaves out a pod that stopped answering', () => {
    const other = history(aPodProcess('impl-1').run([{ seconds: 66, active: 1, rate: 5 }]));
    const both = windowStats([h, other], 'impl-1', { now, windowMs: 6000, staleMs: 3000 })!;
    expect(both.pods).toBe(2);
    expect(both.concurrency).toBeCloseTo(15, 9);
    const stale = windowStats([h, other.slice(0, -5)], 'impl-1', { now, windowMs: 6000, staleMs: 3000 })!;
    expect(stale.pods).toBe(1);
  });

  it('does not count the load twice when a new pod takes its share within the window', () => {
    // 12 in flight on one pod for 6 s; then a second pod starts and each holds 6 for 4 s.
    const old = aPodProcess('impl-1', 0);
    const young = aPodProcess('impl-1', 6000);
    const a = history([...old.run([{ seconds: 6, active: 12 }]), ...old.run([{ seconds: 4, active: 6 }])]);
    const b = history(young.run([{ seconds: 4, active: 6 }]));
    const s = windowStats([a, b], 'impl-1', { now: a.at(-1)!.at, windowMs: 6000, staleMs: 3000 })!;
    // The true average over the last 6 s: 12 for 2 s, then 6 + 6 for 4 s = 12.
    expect(s.concurrency).toBeCloseTo(12, 9);
  });

  it('averages each pod over its own span when one missed reads across the window start', () => {
    // Two pods hold 6 each for a minute; the second was not read from 50 s to 59 s, so its panic
    // window's baseline is 10 s old. Its long span must not become the other pod's denominator.
    const a = history(aPodProcess('impl-1').run([{ seconds: 60, active: 6 }]));
    const all = aPodProcess('impl-1').run([{ seconds: 60, active: 6 }]);
    const b = history([...all.slice(0, 50), ...all.slice(58)]);
    const now = a.at(-1)!.at;
    const panic = windowStats([a, b], 'impl-1', { now, windowMs: 6000, staleMs: 3000 })!;
    expect(panic.concurrency).toBeCloseTo(12, 9);
  });

  it('says how much of the window the reports cover: all of it for a young pod, only what was read of an old one', () => {
    const old = aPodProcess('impl-1', 0);
    old.run([{ seconds: 600, active: 1 }]);
    const read = history(old.run([{ seconds: 10, active: 1 }]));
    const young = history(aPodProcess('impl-1', 600_000).run([{ seconds: 10, active: 1 }]));
    const o = { now: 610_000, windowMs: 60_000, staleMs: 3000 };
    expect(windowStats([young], 'impl-1', o)!.coveredMs).toBe(60_000);
    // Read from its report at 601 s on: 9 s of the minute.
    expect(windowStats([young, read], 'impl-1', o)!.coveredMs).toBe(9000);
    expect(windowStats([h], 'impl-1', { now, windowMs: 6000, staleMs: 3000 })!.coveredMs).toBe(6000);
  });

  it('does not let a pod whose clock jumped dilute the other pods', () => {
    const a = history(aPodProcess('impl-1').run([{ seconds: 60, active: 6 }]));
    const [first, second] = aPodProcess('impl-1').run([{ seconds: 2, active: 6 }]);
    // Its second report claims a day went by in a second.
    const b = history([first!, { ...second!, at: first!.at + 86_400_000 }]);
    const s = windowStats([a, b], 'impl-1', { now: a.at(-1)!.at, windowMs: 60_000, staleMs: 3000 })!;
    expect(s.concurrency).toBeGreaterThanOrEqual(6);
  });

  it('keeps the load of a pod that left within the window, so a scale-down does not cascade', () => {
    // Four pods hold 6 each for 50 s; then two are removed and the other two hold 12 each for 10 s.
    const stay = [0, 1].map(() => aPodProcess('impl-1'));
    const leave = [0, 1].map(() => aPodProcess('impl-1'));
    const kept = stay.map((p) =>
      history([
        ...p.run([{ seconds: 50, active: 6, rate: 10 }]),
        ...p.run([{ seconds: 10, active: 12, rate: 20 }]),
      ]),
    );
    const gone = leave.map((p) => history(p.run([{ seconds: 50, active: 6, rate: 10 }])));
    const now = kept[0]!.at(-1)!.at;
    const o = { now, windowMs: 60_000, staleMs: 3000 };
    const s = windowStats(kept, 'impl-1', { ...o, departed: gone })!;
    // The true average over the minute: 24 in the system all along, 40 arrivals/s.
    expect(s.concurrency).toBeCloseTo(24, 9);
    expect(s.arrivalRate).toBeCloseTo(40, 9);
    // Pods, slots and the queue are the live pods' alone.
    expect(s.pods).toBe(2);
    expect(s.queue).toBeCloseTo(0, 9);
    // Without them the window shows the load falling by a third with every pod removed.
    expect(windowStats(kept, 'impl-1', o)!.concurrency).toBeCloseTo(14, 9);
    // A pod that left before the window began adds nothing.
    expect(windowStats(kept, 'impl-1', { ...o, windowMs: 6000, departed: gone })!.concurrency).toBeCloseTo(
      24,
      9,
    );
  });

  it('averages a rollout over the window: the pods that left and their young replacements share it', () => {
    // The old pod held 5 at 10/s for 40 s and left 1 s before the end; its replacement started 2 s
    // before the end and holds 5 at 10/s. Every live pod is 2 s old.
    const t0 = 1_700_000_000_000;
    const old = history(aPodProcess('impl-1', t0).run([{ seconds: 39, active: 5, rate: 10 }]));
    const fresh = history(aPodProcess('impl-1', t0 + 38_000).run([{ seconds: 2, active: 5, rate: 10 }]));
    const now = t0 + 40_000;
    const stable = windowStats([fresh], 'impl-1', {
      now,
      windowMs: 20_000,
      staleMs: 3000,
      departed: [old],
    })!;
    // (19 s × 5 + 2 s × 5) / 20 s in the system; (190 + 20) / 20 s arrivals. Over the new pod's 2 s
    // alone it read 52.5 and 105/s, and the Neuron went to its maximum at every rollout.
    expect(stable.concurrency).toBeCloseTo(5.25, 9);
    expect(stable.arrivalRate).toBeCloseTo(10.5, 9);
    // The panic window the same way: (3 s × 5 + 2 s × 5) / 4 s.
    const panic = windowStats([fresh], 'impl-1', { now, windowMs: 4000, staleMs: 3000, departed: [old] })!;
    expect(panic.concurrency).toBeCloseTo(6.25, 9);
    // A Neuron whose pods are all new, with none gone, still reads over its pods' own span.
    expect(windowStats([fresh], 'impl-1', { now, windowMs: 20_000, staleMs: 3000 })!.concurrency).toBeCloseTo(
      5,
      9,
    );
  });

  it('holds a pod to the slot time its limit allows', () => {
    // An honest pod holds 2 of its 10 slots; another, also at limit 10, claims a million slot-seconds
    // a second. The honest one was at 8 for the first 10 s: the highest limit of the span counts.
    const t0 = 1_700_000_000_000;
    const honest = history(aPodProcess('impl-1', t0 - 120_000).run([{ seconds: 120, active: 2, limit: 10 }]));
    const crafted = history(
      aPodProcess('impl-1', t0 - 120_000)
        .run([{ seconds: 120, active: 2, limit: 10 }])
        .map((r) => ({ ...r, busySeconds: (r.at - (t0 - 120_000)) * 1000 })),
    );
    const stepped = history(
      aPodProcess('impl-1', t0 - 120_000)
        .run([{ seconds: 120, active: 9 }])
        .map((r) => ({ ...r, limit: r.at < t0 - 50_000 ? 8 : 10 })),
    );
    const o = { now: t0, windowMs: 60_000, staleMs: 3000 };
    const s = windowStats([honest, crafted], 'impl-1', o)!;
    // 2 + at most 10 of 20 slots, where the claim read 5 × 10⁴.
    expect(s.active).toBeCloseTo(12, 9);
    expect(s.utilization).toBeCloseTo(0.6, 9);
    // A claim within the limits stands: 9 busy, the limit 10 for the last 50 s of the minute.
    expect(windowStats([stepped], 'impl-1', o)!.active).toBeCloseTo(9, 9);
  });

  it('holds the limit a pod reports to what its Neuron runs (maxLimit): a claim of 10,000 slots neither dilutes nor inflates', () => {
    // Two honest pods saturated at 8 of 8; a third claims 10,000 slots, all busy, and 10,000 in flight.
    const t0 = 1_700_000_000_000;
    const run = () => aPodProcess('impl-1', t0 - 120_000).run([{ seconds: 120, active: 8, limit: 8 }]);
    const honest = [0, 1].map(() => history(run()));
    const crafted = history(
      run().map((r) => ({
        ...r,
        limit: 10_000,
        busySeconds: (r.at - (t0 - 120_000)) * 10,
        concurrencySeconds: (r.at - (t0 - 120_000)) * 10,
      })),
    );
    const o = { now: t0, windowMs: 60_000, staleMs: 3000, maxQueue: 0, maxLimit: 16 };
    const s = windowStats([...honest, crafted], 'impl-1', o)!;
    // Its slots count as 16 at most: 8 + 8 + 16, all busy (utilization 1, where 10,000 slots read 0.0016).
    expect(s.slots).toBe(32);
    expect(s.active).toBeCloseTo(32, 9);
    expect(s.utilization).toBeCloseTo(1, 9);
    expect(s.concurrency).toBeCloseTo(32, 9);
    // Without the Neuron's bound, the runtime's own (10,000).
    expect(windowStats([...honest, crafted], 'impl-1', { ...o, maxLimit: undefined })!.slots).toBe(10_016);
  });

  it('holds a pod to the arrivals it finished or holds, and to latencies within its deadline', () => {
    // An honest pod finishes 10 signals a second at 50 ms; a second, otherwise the same, claims 10⁹
    // arrivals a second and 10⁹ s for each signal it finished.
    const t0 = 1_700_000_000_000;
    const run = () =>
      aPodProcess('impl-1', t0 - 120_000).run([{ seconds: 120, active: 1, rate: 10, limit: 8 }]);
    const honest = history(run());
    const crafted = history(
      run().map((r) => {
        const arrived = r.arrived + (r.at - (t0 - 120_000)) * 1e6;
        const latency = { ...r.latency, sum: r.latency.sum * 2e10 };
        return {
          ...r,
          arrived,
          latency,
          neurons: { 'impl-1': { ...r.neurons['impl-1']!, arrived, latency } },
        };
      }),
    );
    const o = { now: t0, windowMs: 60_000, staleMs: 3000, maxQueue: 100, maxLatencySeconds: 30 };
    const s = windowStats([honest, crafted], 'impl-1', o)!;
    // 10 + 10 finished a second, and at most 108 held across the minute.
    expect(s.arrivalRate).toBeLessThanOrEqual(20 + 108 / 60 + 1e-9);
    expect(s.arrivalRate).toBeGreaterThanOrEqual(20 - 1e-9);
    // Half the signals at 50 ms, half held to the 30 s deadline.
    expect(s.meanLatencySeconds).toBeCloseTo((0.05 + 30) / 2, 6);
    expect(windowStats([honest], 'impl-1', o)!.meanLatencySeconds).toBeCloseTo(0.05, 9);
  });

  it('holds a pod to the signals its slots and queue can hold, live or departed', () => {
    // Three honest pods hold 3 each; a fourth, otherwise honest, claims a billion signal-seconds a
    // second. The replica law reads this concurrency alone: uncapped, it asked for maxReplicas.
    const t0 = 1_700_000_000_000;
    const run = () => aPodProcess('impl-1', t0 - 120_000).run([{ seconds: 120, active: 3, limit: 8 }]);
    const honest = [0, 1, 2].map(() => history(run()));
    const crafted = history(run().map((r) => ({ ...r, concurrencySeconds: (r.at - (t0 - 120_000)) * 1e6 })));
    const o = { now: t0, windowMs: 60_000, staleMs: 3000, maxQueue: 100 };
    expect(windowStats(honest, 'impl-1', o)!.concurrency).toBeCloseTo(9, 9);
    // 9 + at most 8 slots and 100 waiting.
    expect(windowStats([...honest, crafted], 'impl-1', o)!.concurrency).toBeCloseTo(9 + 108, 9);
    // Without the Neuron's queue bound, the CRDs' largest.
    expect(
      windowStats([...honest, crafted], 'impl-1', { ...o, maxQueue: undefined })!.concurrency,
    ).toBeCloseTo(9 + 8 + MAX_QUEUE, 6);
    // A departed pod's claim is held the same way.
    const left = windowStats(honest, 'impl-1', { ...o, departed: [crafted.slice(0, -10)] })!;
    expect(left.concurrency).toBeLessThanOrEqual(9 + 108);
    expect(left.concurrency).toBeGreaterThan(9);
  });

  it('counts a pod that started and left within the window from its start, its counters zero then', () => {
    // A live pod holds 2 the whole minute at 5/s; another starts 30 s in, holds 3 at 10/s of this
    // neuron (and 4/s of another it also hosts) for 20 s, and is gone 10 s before the end.
    const t0 = 1_700_000_000_000;
    const live = history(aPodProcess('impl-1', t0).run([{ seconds: 60, active: 2, rate: 5 }]));
    const brief = aPodProcess('impl-1', t0 + 30_000).run([{ seconds: 20, active: 3, rate: 10 }]);
    // Its whole-process counters also hold the other neuron's arrivals; the window reads this one's.
    const gone = history(
      brief.map((r) => ({
        ...r,
        arrived: r.arrived + Math.round((r.at - (t0 + 30_000)) / 250),
        completed: r.completed,
      })),
    );
    const s = windowStats([live], 'impl-1', {
      now: t0 + 60_000,
      windowMs: 60_000,
      staleMs: 3000,
      departed: [gone],
    })!;
    // 2 + 3 × 20 s / 60 s in the system; 5 + 200 arrivals / 60 s.
    expect(s.concurrency).toBeCloseTo(3, 9);
    expect(s.arrivalRate).toBeCloseTo(5 + 200 / 60, 9);
  });

  it('is no data, not zero, when no pod spans a window', () => {
    expect(windowStats([], 'impl-1', { now, windowMs: 6000, staleMs: 3000 })).toBeUndefined();
    expect(windowStats([h.slice(-1)], 'impl-1', { now, windowMs: 6000, staleMs: 3000 })).toBeUndefined();
    expect(windowStats([h], 'impl-1', { now: now + 10_000, windowMs: 6000, staleMs: 3000 })).toBeUndefined();
  });

  it('counts the signals that held a slot apart from every finished one, and all of them for older pods', () => {
    // Of 40 finishing per second, 10 were shed past their latency objective: they held no slot.
    const served = (r: LoadReport) => Math.round(r.completed * 0.75);
    const newer = reports.map((r) => ({
      ...r,
      served: served(r),
      neurons: { 'impl-1': { ...r.neurons['impl-1']!, served: served(r) } },
    }));
    const o = { now, windowMs: 6000, staleMs: 3000 };
    const s = windowStats([history(newer)], 'impl-1', o)!;
    expect(s.completionRate).toBeCloseTo(40, 9);
    expect(s.servedRate).toBeCloseTo(30, 9);
    // A runtime that does not report served: every finished signal held a slot, as it counted them.
    expect(windowStats([h], 'impl-1', o)!.servedRate).toBeCloseTo(40, 9);
    // A pod younger than the window starts from zero served, as from zero completed.
    const young = aPodProcess('impl-1', now - 3000);
    const y = young.run([{ seconds: 3, active: 4, rate: 20 }]).map((r) => ({
      ...r,
      served: r.completed / 2,
      neurons: { 'impl-1': { ...r.neurons['impl-1']!, served: r.completed / 2 } },
    }));
    expect(windowStats([history(y)], 'impl-1', o)!.servedRate).toBeCloseTo(10, 9);
  });

  it('brings no negative difference to the laws: a pod whose histogram or served count went back is left out', () => {
    const honest = [0, 1, 2].map(() =>
      history(withShed(aPodProcess('impl-1').run([{ seconds: 60, active: 8, rate: 100, latency: 0.03 }]), 0)),
    );
    const now = honest[0]!.at(-1)!.at;
    const o = { now, windowMs: 6000, staleMs: 3000 };
    const alone = windowStats(honest, 'impl-1', o)!;
    const reports = withShed(
      aPodProcess('impl-1').run([{ seconds: 60, active: 8, rate: 100, latency: 0.03 }]),
      0,
    );
    // Its latency counts fall every report (a bug, or a pod that says anything): differenced, the
    // window's total went negative, p95 was undefined and the decision NoData while thousands finished.
    const histBack = reports.map((r, i) => {
      const latency = { ...r.latency, counts: r.latency.counts.map(() => 1e9 - i * 1000) };
      return { ...r, latency, neurons: { 'impl-1': { ...r.neurons['impl-1']!, latency } } };
    });
    // Its served count falls: a negative served rate, a negative service time that "fits the SLO".
    const servedBack = reports.map((r, i) => ({
      ...r,
      neurons: { 'impl-1': { ...r.neurons['impl-1']!, served: 1e6 - i } },
    }));
    for (const [what, bad] of Object.entries({ histBack, servedBack })) {
      // Through appendReport (a new history at each report), and a history built otherwise.
      for (const h of [history(bad), bad]) {
        const s = windowStats([...honest, h], 'impl-1', o)!;
        expect(s, what).toEqual(alone);
        expect(s.completed, what).toBe(1800);
        expect(s.servedRate, what).toBeCloseTo(300, 9);
        expect(s.p95Seconds, what).toBeGreaterThan(0.02);
      }
    }
  });

  it("holds a pod's forwarded counts to maxFanout per signal it finished: one pod of four moves the fan-out by a quarter of it at most", () => {
    const run = () =>
      aPodProcess('impl-1').run([{ seconds: 60, active: 1, rate: 10, fanOut: { 'impl-2': 1 } }]);
    const honest = [0, 1, 2].map(() => history(run()));
    // Increasing counts under the 1e15 field bound: 1e13 forwarded a second, on a connected edge.
    const bad = (targets: readonly string[]) =>
      history(
        run().map((r, i) => ({
          ...r,
          neurons: {
            'impl-1': {
              ...r.neurons['impl-1']!,
              forwarded: Object.fromEntries(targets.map((t) => [t, 1e13 * (i + 1)])),
            },
          },
        })),
      );
    const now = honest[0]!.at(-1)!.at;
    const o = { now, windowMs: 60_000, staleMs: 3000 };
    // 600 finished per pod in the minute; the honest pods forwarded 600 each, the bad one claims 6e14.
    expect(windowStats(honest, 'impl-1', o)!.fanOut).toEqual({ 'impl-2': 1 });
    expect(windowStats(honest, 'impl-1', { ...o, maxFanout: 1 })!.fanOut).toEqual({ 'impl-2': 1 });
    const all = [...honest, bad(['impl-2'])];
    // Was 2.5e11: every pod's forwards summed, then divided by every pod's finished signals.
    expect(windowStats(all, 'impl-1', o)!.fanOut['impl-2']).toBeCloseTo((3 + MAX_FANOUT) / 4, 9);
    expect(windowStats(all, 'impl-1', { ...o, maxFanout: 10 })!.fanOut['impl-2']).toBeCloseTo(13 / 4, 9);
    // An answer's targets count together toward max_fanout: a claim split over two edges is held too.
    const split = windowStats([...honest, bad(['impl-2', 'impl-3'])], 'impl-1', { ...o, maxFanout: 10 })!;
    expect(split.fanOut['impl-2']).toBeCloseTo((3 + 5) / 4, 9);
    expect(split.fanOut['impl-3']).toBeCloseTo(5 / 4, 9);
  });

  it("reads the latency of the bucket layout most pods report: one pod of another layout neither hides the others' nor decides", () => {
    // One more bound (a runtime whose buckets changed, or a pod that says anything): the same counts.
    const relaid = (l: LatencyHistogram): LatencyHistogram => ({
      bounds: [...l.bounds, 60],
      counts: [...l.counts, l.counts.at(-1)!],
      sum: l.sum,
    });
    const otherLayout = (reports: readonly LoadReport[]) =>
      reports.map((r) => ({
        ...r,
        latency: relaid(r.latency),
        neurons: Object.fromEntries(
          Object.entries(r.neurons).map(([id, n]) => [id, { ...n, latency: relaid(n.latency) }]),
        ),
      }));
    const slow = () =>
      history(aPodProcess('impl-1').run([{ seconds: 10, active: 8, rate: 100, latency: 0.8 }]));
    const fast = (rate = 10) =>
      history(otherLayout(aPodProcess('impl-1').run([{ seconds: 10, active: 1, rate, latency: 0.004 }])));
    const at = slow().at(-1)!.at;
    const o = { now: at, windowMs: 6000, staleMs: 3000 };
    // Two slow pods of the runtime's layout and one fast pod of another, in either order.
    for (const order of [
      [fast(), slow(), slow()],
      [slow(), slow(), fast()],
      [slow(), fast(), slow()],
    ]) {
      const s = windowStats(order, 'impl-1', o)!;
      expect(s.pods).toBe(3);
      expect(s.p95Seconds).toBeGreaterThan(0.5);
      expect(s.p95Seconds).toBeLessThanOrEqual(1);
      expect(s.meanLatencySeconds).toBeCloseTo(0.8, 9);
      // Every pod's load counts all the same.
      expect(s.active).toBeCloseTo(17, 9);
    }
    // Most pods on the other layout: theirs is read.
    expect(windowStats([slow(), fast(), fast()], 'impl-1', o)!.p95Seconds).toBeLessThanOrEqual(0.005);
    // Pods of a layout that finished nothing in the window say nothing of latency: the other's is read.
    const idle = () => history(otherLayout(aPodProcess('impl-1').run([{ seconds: 10, active: 0 }])));
    expect(windowStats([slow(), idle(), idle()], 'impl-1', o)!.p95Seconds).toBeGreaterThan(0.5);
    expect(windowStats([slow(), idle(), idle()], 'impl-1', o)!.meanLatencySeconds).toBeCloseTo(0.8, 9);
    // As many pods of each: the layout with more signals finished.
    expect(windowStats([fast(10), slow()], 'impl-1', o)!.p95Seconds).toBeGreaterThan(0.5);
    expect(windowStats([fast(1000), slow()], 'impl-1', o)!.p95Seconds).toBeLessThanOrEqual(0.005);
  });

  it('has no latency when nothing finished, but a real zero concurrency for an idle pod', () => {
    const idle = history(aPodProcess('impl-1').run([{ seconds: 10, active: 0 }]));
    const s = windowStats([idle], 'impl-1', { now: idle.at(-1)!.at, windowMs: 6000, staleMs: 3000 })!;
    expect(s.concurrency).toBe(0);
    expect(s.p95Seconds).toBeUndefined();
    expect(s.meanLatencySeconds).toBeUndefined();
    expect(s.fanOut).toEqual({});
  });
});
