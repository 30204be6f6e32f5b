import { describe, expect, it } from 'vitest';
import { aPodProcess } from '../testing/load-reports.ts';
import type { LoadReport } from './load-report.ts';
import { appendReport, windowStats } from './load-windows.ts';
import { neuronFlow } from './neuron-flow.ts';
import type { PodView } from './pod-view.ts';
import { intakeOf, type NeuronFlow, predict } from './prescale.ts';

const flow = (
  intake: number | undefined,
  fanOut: Record<string, number>,
  latencySeconds?: number,
): NeuronFlow => ({
  intake,
  fanOut,
  latencySeconds,
});

describe('predict', () => {
  it("predicts a downstream's intake from upstream intake × fan-out, and its concurrency by Little's law", () => {
    const p = predict(
      new Map([
        ['ns/l4', flow(20, { 'ns/l3': 2 })],
        ['ns/l3', flow(20, { 'ns/l2': 1.5 }, 0.1)],
        ['ns/l2', flow(30, {}, 0.2)],
      ]),
    );
    // l4 doubled to 20/s while l3 still sees 20/s: l3 will get 40/s × 0.1 s = 4 in flight.
    expect(p.get('ns/l3')).toMatchObject({ intake: 40, from: [{ source: 'ns/l4', intake: 20, fanOut: 2 }] });
    expect(p.get('ns/l3')!.concurrency).toBeCloseTo(4, 9);
    // Two hops: l2 gets l3's predicted 40/s × 1.5 = 60/s × 0.2 s = 12.
    expect(p.get('ns/l2')!.intake).toBeCloseTo(60, 9);
    expect(p.get('ns/l2')!.concurrency).toBeCloseTo(12, 9);
    expect(p.has('ns/l4')).toBe(false);
  });

  it('sums several upstream Neurons', () => {
    const p = predict(
      new Map([
        ['a', flow(10, { c: 1 })],
        ['b', flow(5, { c: 2 })],
        ['c', flow(0, {}, 0.5)],
      ]),
    );
    expect(p.get('c')!.intake).toBe(20);
    expect(p.get('c')!.concurrency).toBe(10);
  });

  it('stays bounded on cycles (backward connections)', () => {
    const p = predict(
      new Map([
        ['a', flow(10, { b: 2 }, 0.1)],
        ['b', flow(20, { a: 1 }, 0.1)],
      ]),
    );
    expect(p.get('b')!.intake).toBe(20);
    expect(p.has('a')).toBe(false);
  });

  it('predicts nothing without a latency or without upstream intake (no data is not zero)', () => {
    const p = predict(
      new Map([
        ['a', flow(10, { b: 2 })],
        ['b', flow(undefined, {})],
        ['c', flow(undefined, { d: 1 })],
        ['d', flow(1, {}, 0.1)],
      ]),
    );
    expect(p.size).toBe(0);
  });
});

/**
 * The graph bench's entry Neuron around its step 10 → 20/s at 30 s (0.55 s per call), read every
 * 2 s as the operator reads it, the last read 1.5 s after the step (when the bench's first
 * pre-scale was decided).
 */
function stepReads() {
  const proc = aPodProcess('strategy', 1_700_000_000_000);
  const reports = [
    ...proc.run([{ seconds: 30, active: 5.5, rate: 10, latency: 0.55, fanOut: { design: 1 } }], 500),
    ...proc.run([{ seconds: 1.5, active: 11, rate: 20, latency: 0.55, fanOut: { design: 1 } }], 500),
  ];
  const read = reports.filter((r) => (r.at - proc.startedAt - 1500) % 2000 === 0);
  const now = read.at(-1)!.at;
  const w = (ms: number) =>
    windowStats([read], 'strategy', { now, windowMs: ms, staleMs: Number.POSITIVE_INFINITY })!;
  return { panic: w(6000), latest: w(1500) };
}

describe('one bad pod of an upstream Neuron', () => {
  it('cannot raise the downstream intake past what max_fanout allows: fan-out is learned per pod, bounded', () => {
    // A has four pods finishing 10/s each and forwarding each to B; one claims 1e13 forwards a second.
    // B (one pod) forwards each to C. Before: A's fan-out 2.5e11, B and C pre-scaled to maxReplicas.
    const pod = (id: string, fw: (i: number) => Record<string, number>) =>
      aPodProcess(id)
        .run([{ seconds: 60, active: 1, rate: 10 }])
        .map((r, i) => ({ ...r, neurons: { [id]: { ...r.neurons[id]!, forwarded: fw(i + 1) } } }))
        .reduce<LoadReport[]>((h, r) => appendReport(h, r, 70_000), []);
    const honest = (to: string) => pod(to === 'B' ? 'A' : 'B', (s) => ({ [to]: 10 * s }));
    const a = [honest('B'), honest('B'), honest('B'), pod('A', (s) => ({ B: 1e13 * s }))];
    const b = [honest('C')];
    const c = [pod('C', () => ({}))];
    const now = a[0]!.at(-1)!.at;
    const view = (hs: LoadReport[][], id: string, maxFanout?: number): PodView => {
      const w = (windowMs: number) => windowStats(hs, id, { now, windowMs, staleMs: 3000, maxFanout });
      return {
        ready: hs.length,
        reporting: hs.length,
        silent: 0,
        refused: 0,
        errors: [],
        stable: w(60_000),
        panic: w(6000),
        latest: w(1500),
        limits: new Map(),
      };
    };
    const downstream = (maxFanout?: number) => {
      const [va, vb, vc] = [view(a, 'A', maxFanout), view(b, 'B', maxFanout), view(c, 'C', maxFanout)];
      return predict(
        new Map([
          ['ns/A', neuronFlow('ns', va, va.stable!.fanOut, 0.05, ['B'])],
          ['ns/B', neuronFlow('ns', vb, vb.stable!.fanOut, 0.05, ['C'])],
          ['ns/C', neuronFlow('ns', vc, {}, 0.05, [])],
        ]),
      );
    };
    // A's intake is 40/s; the bad pod's own forwards are held to max_fanout × its 10/s.
    const with10 = downstream(10);
    expect(with10.get('ns/B')!.intake).toBeCloseTo((40 * (3 + 10)) / 4, 6);
    expect(with10.get('ns/C')!.intake).toBeCloseTo((40 * (3 + 10)) / 4, 6);
    // Unset: the runtime's bound, 1,000.
    expect(downstream().get('ns/B')!.intake).toBeCloseTo((40 * (3 + 1000)) / 4, 6);
    expect(downstream().get('ns/C')!.intake).toBeLessThanOrEqual(40 * 1000);
  });
});

describe('the upstream backlog', () => {
  it("adds what an upstream has queued × fan-out to the downstream's predicted concurrency", () => {
    // Recorded in the graph bench 1.7 s after L4's step: 17.5/s in the newest interval, about 4.5
    // queued at L4 (19 by 34 s, which reached L3 at once when L4's slots doubled).
    const with4 = predict(
      new Map([
        ['ns/strategy', { ...flow(17.5, { 'ns/design': 1 }), backlog: 4.5 }],
        ['ns/design', flow(10, { 'ns/impl': 2 }, 0.55)],
        ['ns/impl', flow(20, {}, 0.5)],
      ]),
    );
    expect(with4.get('ns/design')!.concurrency).toBeCloseTo(17.5 * 0.55 + 4.5, 9);
    expect(with4.get('ns/design')!.from).toEqual([
      { source: 'ns/strategy', intake: 17.5, fanOut: 1, backlog: 4.5 },
    ]);
    // One hop only: impl gets design's own queue (none here), not strategy's again.
    expect(with4.get('ns/impl')!.concurrency).toBeCloseTo(17.5 * 2 * 0.5, 9);
    const none = predict(
      new Map([
        ['ns/strategy', flow(17.5, { 'ns/design': 2 })],
        ['ns/design', flow(10, {}, 0.55)],
      ]),
    );
    expect(none.get('ns/design')!.concurrency).toBeCloseTo(35 * 0.55, 9);
    const doubled = predict(
      new Map([
        ['ns/strategy', { ...flow(17.5, { 'ns/design': 2 }), backlog: 3 }],
        ['ns/design', flow(10, {}, 0.55)],
      ]),
    );
    expect(doubled.get('ns/design')!.concurrency).toBeCloseTo(35 * 0.55 + 6, 9);
  });
});

describe('intakeOf', () => {
  it('takes the newest interval, or the panic window when higher, extrapolating silent pods', () => {
    expect(intakeOf({ arrivalRate: 12, pods: 1 }, { arrivalRate: 18, pods: 1 }, 0)).toBe(18);
    // A burst the newest interval missed is still in the panic window.
    expect(intakeOf({ arrivalRate: 12, pods: 1 }, { arrivalRate: 9, pods: 1 }, 0)).toBe(12);
    expect(intakeOf({ arrivalRate: 10, pods: 2 }, undefined, 1)).toBe(15);
    expect(intakeOf(undefined, { arrivalRate: 10, pods: 2 }, 0)).toBe(10);
    // No data is not a zero.
    expect(intakeOf(undefined, undefined, 0)).toBeUndefined();
  });

  it('pre-scales for about the whole step at the first read after it, not for the filling panic window', () => {
    const { panic, latest } = stepReads();
    // The recorded case: the 6 s window still says 12.5/s; the newest 2 s interval 17.5/s.
    expect(panic.arrivalRate).toBeCloseTo(12.5, 1);
    expect(latest.arrivalRate).toBeCloseTo(17.5, 1);
    const downstream = (intake: number | undefined) =>
      predict(
        new Map([
          ['ns/strategy', flow(intake, { 'ns/design': 1 })],
          ['ns/design', flow(10, {}, 0.55)],
        ]),
      ).get('ns/design')!.concurrency;
    const need = 20 * 0.55;
    const now = downstream(intakeOf(panic, latest, 0));
    const before = downstream(intakeOf(panic, undefined, 0));
    expect(now).toBeGreaterThan(0.85 * need);
    expect(before).toBeLessThan(0.65 * need);
  });
});
