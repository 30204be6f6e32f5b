import { describe, expect, it } from 'vitest';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { aPodProcess } from '../testing/load-reports.ts';
import { type PodHistory, podView } from './pod-view.ts';
import type { RuntimePod } from './runtime-pods.ts';
import { tuningTargets } from './tuning-targets.ts';

const cluster = aHal9Cluster({
  autoscaling: { enabled: true, stableWindowSeconds: 20, panicWindowSeconds: 4 },
});
const t = tuningTargets([aNeuron('impl-1')], { get: () => cluster, list: () => [cluster] }).tune[0]!;
const pod = (name: string): RuntimePod => ({
  name,
  uid: `uid-${name}`,
  instance: `uid-${name}#0`,
  url: `http://${name}:8080`,
});
const reports = (startedAt: number) =>
  aPodProcess('impl-1', startedAt).run([{ seconds: 30, active: 2, rate: 10, latency: 0.1 }]);

describe('podView', () => {
  it('extrapolates a pod that stopped answering, and not a pod too new to have reported', () => {
    const a = reports(1_000_000);
    const now = a.at(-1)!.at;
    const histories = new Map<string, PodHistory>([
      ['uid-a', { neuron: t.key, reports: a, okAt: now, keepMs: 30_000 }],
      // Missed more than two 2 s intervals: left out of the windows, counted as silent.
      ['uid-b', { neuron: t.key, reports: reports(1_000_000), okAt: now - 10_000, keepMs: 30_000 }],
    ]);
    const view = podView({
      target: t,
      ready: [pod('a'), pod('b'), pod('new')],
      histories,
      now,
      intervalMs: 2000,
      refused: 0,
      errors: ['new: ECONNREFUSED'],
    });
    expect(view).toMatchObject({
      ready: 3,
      reporting: 1,
      silent: 1,
      refused: 0,
      errors: ['new: ECONNREFUSED'],
    });
    expect(view.stable?.pods).toBe(1);
    expect(view.stable?.concurrency).toBeCloseTo(2, 1);
    expect(view.panic?.arrivalRate).toBeCloseTo(10, 0);
    expect(view.latest).toBeDefined();
  });

  it('extrapolates a pod Ready for a whole stable window that has never answered (it serves, it is not idle)', () => {
    const a = reports(1_000_000);
    const now = a.at(-1)!.at;
    const histories = new Map<string, PodHistory>([
      ['uid-a', { neuron: t.key, reports: a, okAt: now, keepMs: 30_000 }],
    ]);
    const view = (readyFor: number) =>
      podView({
        target: t,
        ready: [pod('a'), { ...pod('unread'), readySince: now - readyFor }],
        histories,
        now,
        intervalMs: 2000,
        refused: 0,
        errors: ['unread: HTTP 401 UNAUTHORIZED'],
      });
    // The stable window is 20 s: Ready for 25 s and never read, it holds its share of the load.
    expect(view(25_000).silent).toBe(1);
    // Ready for 5 s, it may be new: the window's load was carried by the others before it.
    expect(view(5_000).silent).toBe(0);
  });

  it('keeps the load of a pod that left when another pod’s clock runs ahead', () => {
    const a = reports(1_000_000);
    const now = a.at(-1)!.at;
    // Left 5 s before the end, after holding 2 for the first 15 s of the 20 s window.
    const gone = aPodProcess('impl-1', 1_000_000).run([{ seconds: 25, active: 2, rate: 10, latency: 0.1 }]);
    const ahead = reports(1_000_000).map((r) => ({
      ...r,
      startedAt: r.startedAt + 600_000,
      at: r.at + 600_000,
    }));
    const entry = (r: typeof a) => ({ neuron: t.key, reports: r, okAt: now, keepMs: 30_000 });
    const view = (live: [string, typeof a][]) =>
      podView({
        target: t,
        ready: live.map(([n]) => pod(n)),
        histories: new Map([
          ...live.map(([n, r]) => [`uid-${n}`, entry(r)] as const),
          ['uid-c', entry(gone)],
        ]),
        now,
        intervalMs: 2000,
        refused: 0,
        errors: [],
      });
    expect(
      view([
        ['a', a],
        ['b', reports(1_000_000)],
      ]).stable?.concurrency,
    ).toBeCloseTo(5.5, 1);
    // A pod whose clock is ten minutes ahead adds its own 2, and takes nothing of the others'.
    expect(
      view([
        ['a', a],
        ['b', reports(1_000_000)],
        ['d', ahead],
      ]).stable?.concurrency,
    ).toBeCloseTo(7.5, 1);
  });

  it('holds a pod’s forwards to the Neuron’s own requestBudget.maxFanout per signal it finished', () => {
    const target = (maxFanout: number) =>
      tuningTargets([aNeuron('impl-1', { performance: { requestBudget: { maxFanout } } })], {
        get: () => cluster,
        list: () => [cluster],
      }).tune[0]!;
    // A pod that claims 50 forwards to design-1 for every signal it finished.
    const claimed = aPodProcess('impl-1', 1_000_000).run([
      { seconds: 30, active: 2, rate: 10, latency: 0.1, fanOut: { 'design-1': 50 } },
    ]);
    const now = claimed.at(-1)!.at;
    const fanOut = (maxFanout: number) =>
      podView({
        target: target(maxFanout),
        ready: [pod('a')],
        histories: new Map([
          ['uid-a', { neuron: 'hal9-test/impl-1', reports: claimed, okAt: now, keepMs: 30_000 }],
        ]),
        now,
        intervalMs: 2000,
        refused: 0,
        errors: [],
      }).stable?.fanOut['design-1'];
    expect(fanOut(3)).toBeCloseTo(3, 6);
    expect(fanOut(10)).toBeCloseTo(10, 6);
  });

  it('has no windows before any pod has reported', () => {
    const view = podView({
      target: t,
      ready: [pod('a')],
      histories: new Map(),
      now: 1_000_000,
      intervalMs: 2000,
      refused: 0,
      errors: [],
    });
    expect(view).toMatchObject({ ready: 1, reporting: 0, silent: 0, stable: undefined, panic: undefined });
  });
});
