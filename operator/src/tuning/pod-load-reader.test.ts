import { describe, expect, it } from 'vitest';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { aPodProcess } from '../testing/load-reports.ts';
import type { LatencyHistogram, LoadReport } from './load-report.ts';
import { approxBytes } from './load-windows.ts';
import { earlierProcesses, MAX_EARLIER_PROCESSES, nextReports, REPORT_BYTES } from './pod-load-reader.ts';
import { type PodHistory, podView } from './pod-view.ts';
import { tuningTargets } from './tuning-targets.ts';

const histogram = (buckets: number): LatencyHistogram => ({
  bounds: Array.from({ length: buckets }, (_, i) => i + 1),
  counts: new Array<number>(buckets + 1).fill(0),
  sum: 0,
});

const bytes = (h: readonly LoadReport[]) => h.reduce((a, r) => a + approxBytes(r), 0);

describe('nextReports', () => {
  // The CRD's longest stable window (600 s) at the shortest interval (1 s): the most reports kept.
  const o = { neuron: 'impl-1', targets: ['impl-2'], keepMs: 610_000, intervalMs: 1000 };
  const most = 2 * 610 + 4;

  it("holds a pod whose clock advances 1 ms a report to the Neuron's part of each, within its budget", () => {
    // Valid and about 256 KiB: 140 neurons, each with a 64-bucket histogram and 256 targets.
    const forwarded = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`t${i}`, 0]));
    const entry = {
      arrived: 0,
      completed: 0,
      latency: histogram(64),
      forwarded: { ...forwarded, 'impl-2': 0 },
    };
    const neurons = Object.fromEntries(Array.from({ length: 139 }, (_, i) => [`n${i}`, entry]));
    const first = aPodProcess('impl-1').run([{ seconds: 1, active: 0 }])[0]!;
    const big: LoadReport = { ...first, latency: histogram(64), neurons: { ...neurons, 'impl-1': entry } };
    let reports: LoadReport[] = [];
    for (let i = 0; i < 2 * most; i++)
      reports = nextReports({ reports, targets: o.targets }, { ...big, at: big.at + i }, o);
    expect(reports).toHaveLength(most);
    expect(bytes(reports)).toBeLessThanOrEqual(most * REPORT_BYTES);
    // Whole, the same reports weighed 300 times as much.
    expect(bytes(reports) * 300).toBeLessThan(most * approxBytes(big));
    for (const r of reports) {
      expect(Object.keys(r.neurons)).toEqual(['impl-1']);
      expect(Object.keys(r.neurons['impl-1']!.forwarded)).toEqual(['impl-2']);
    }
  });

  it('keeps every report of the largest honest part: the budget cuts no window', () => {
    const targets = Array.from({ length: 32 }, (_, i) => `${'t'.repeat(61)}${String(i).padStart(2, '0')}`);
    const forwarded = Object.fromEntries(targets.map((t) => [t, 1e15]));
    const first = aPodProcess('impl-1').run([{ seconds: 1, active: 1 }])[0]!;
    const largest: LoadReport = {
      ...first,
      served: 1e15,
      latency: histogram(64),
      neurons: { 'impl-1': { arrived: 1, completed: 1, served: 1, latency: histogram(64), forwarded } },
    };
    let reports: LoadReport[] = [];
    for (let i = 0; i < most; i++)
      reports = nextReports({ reports, targets }, { ...largest, at: largest.at + i }, { ...o, targets });
    expect(Object.keys(reports[0]!.neurons['impl-1']!.forwarded)).toHaveLength(32);
    expect(approxBytes(reports[0])).toBeLessThanOrEqual(REPORT_BYTES);
    expect(reports).toHaveLength(most);
  });

  it('trims the kept reports again when the connections change, instead of starting over', () => {
    const run = aPodProcess('impl-1').run([{ seconds: 10, active: 1, rate: 5, fanOut: { a: 1, b: 1 } }]);
    const both = { ...o, targets: ['a', 'b'] };
    let reports: LoadReport[] = [];
    for (const r of run.slice(0, -1)) reports = nextReports({ reports, targets: both.targets }, r, both);
    expect(Object.keys(reports.at(-1)!.neurons['impl-1']!.forwarded)).toEqual(['a', 'b']);
    // `b` dropped from the newest but kept in the older would read as a count gone back.
    const after = nextReports({ reports, targets: ['a', 'b'] }, run.at(-1)!, { ...o, targets: ['a'] });
    expect(after).toHaveLength(run.length);
    for (const r of after) expect(Object.keys(r.neurons['impl-1']!.forwarded)).toEqual(['a']);
  });
});

describe('earlierProcesses', () => {
  const keepMs = 30_000;
  const o = { neuron: 'impl-1', targets: [], keepMs, intervalMs: 1000 };
  // Each read as the reader makes it: the new history, and the pod's earlier processes beside it.
  const read = (prior: PodHistory | undefined, r: LoadReport): PodHistory => {
    const reports = nextReports(prior, r, o);
    const earlier = earlierProcesses(prior, reports, keepMs);
    return {
      neuron: 'default/impl-1',
      reports,
      ...(earlier.length > 0 ? { earlier } : {}),
      okAt: r.at,
      keepMs,
    };
  };
  const readAll = (prior: PodHistory | undefined, rs: readonly LoadReport[]) =>
    rs.reduce<PodHistory | undefined>(read, prior)!;
  const T0 = 1_700_000_000_000;

  it("keeps the load a pod's process carried before its container restarted, as a pod that left", () => {
    const cluster = aHal9Cluster({
      autoscaling: { enabled: true, stableWindowSeconds: 20, panicWindowSeconds: 4 },
    });
    const t = tuningTargets([aNeuron('impl-1')], { get: () => cluster, list: () => [cluster] }).tune[0]!;
    // Two pods hold 6 signals each throughout; b's container restarts 35 s in (a new process).
    const a = readAll(undefined, aPodProcess('impl-1', T0).run([{ seconds: 40, active: 6 }]));
    const before = readAll(undefined, aPodProcess('impl-1', T0).run([{ seconds: 35, active: 6 }]));
    const b = readAll(before, aPodProcess('impl-1', T0 + 35_000).run([{ seconds: 5, active: 6 }]));
    expect(b.reports.every((r) => r.startedAt === T0 + 35_000)).toBe(true);
    expect(b.earlier).toEqual([before.reports]);
    const now = T0 + 40_000;
    const view = podView({
      target: { ...t, key: 'default/impl-1' },
      ready: ['a', 'b'].map((n) => ({ name: n, uid: n, instance: `${n}#0`, url: `http://${n}:8080` })),
      histories: new Map([
        ['a', a],
        ['b', b],
      ]),
      now,
      intervalMs: 1000,
      refused: 0,
      errors: [],
    });
    // Without the earlier process: 6 + 6 × 5 s / 20 s = 7.5, read as load falling by more than a third.
    expect(view.stable?.concurrency).toBeCloseTo(12, 6);
    expect(view.stable?.pods).toBe(2);
  });

  it('keeps no process for a read of the same process, and none no window reaches', () => {
    const one = readAll(undefined, aPodProcess('impl-1', T0).run([{ seconds: 10, active: 1 }]));
    expect(one.earlier).toBeUndefined();
    const restarted = readAll(one, aPodProcess('impl-1', T0 + 10_000).run([{ seconds: 5, active: 1 }]));
    expect(restarted.earlier).toHaveLength(1);
    // keepMs (by the pod's clock) after the old process's last report, it is dropped.
    const later = readAll(
      restarted,
      aPodProcess('impl-1', T0 + 10_000)
        .run([{ seconds: 40, active: 1 }])
        .slice(5),
    );
    expect(later.earlier).toBeUndefined();
  });

  it('keeps at most MAX_EARLIER_PROCESSES, the newest, for a container in a crash loop', () => {
    let h: PodHistory | undefined;
    for (let i = 0; i < 10; i++)
      h = readAll(h, aPodProcess('impl-1', T0 + i * 2000).run([{ seconds: 2, active: 1 }]));
    expect(h!.earlier).toHaveLength(MAX_EARLIER_PROCESSES);
    expect(h!.earlier!.map((e) => e[0]!.startedAt)).toEqual([5, 6, 7, 8].map((i) => T0 + i * 2000));
  });
});
