import { describe, expect, it } from 'vitest';
import { neuronConfig } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { createLoadTracker } from './load-report.ts';

const n = (id: string) => neuronConfig(id);

describe('load report', () => {
  it('integrates busy slots and concurrency over time, so averages between two reports are exact', () => {
    const clock = new ManualClock();
    const t = createLoadTracker(clock, [n('a')]);
    t.executor(2, 3, 8, 0); // 2 busy, 3 waiting
    clock.advance(1000);
    t.executor(1, 0, 8, 0);
    clock.advance(2000);
    const r = t.report();
    expect(r.busySeconds).toBeCloseTo(2 * 1 + 1 * 2);
    expect(r.concurrencySeconds).toBeCloseTo(5 * 1 + 1 * 2);
    expect(r).toMatchObject({ limit: 8, active: 1, queued: 0, onPeers: 0 });
  });

  it('reports signals waiting on peer pods apart: they are not this pod’s concurrency', () => {
    const clock = new ManualClock();
    const t = createLoadTracker(clock, [n('a')]);
    t.executor(1, 2, 8, 40); // 1 busy, 2 waiting for a slot, 40 forwarded and not answered
    clock.advance(1000);
    const r = t.report();
    expect(r).toMatchObject({ active: 1, queued: 2, onPeers: 40 });
    expect(r.concurrencySeconds).toBeCloseTo(3);
  });

  it('counts arrivals, completions, throttling, edges and the arrival-to-answer latency per neuron', () => {
    const clock = new ManualClock();
    const t = createLoadTracker(clock, [n('a'), n('b')]);
    t.arrived(n('a'));
    t.arrived(n('a'));
    t.finished(n('a'), { outcome: 'ok', cached: false, latencyMs: 30, processingMs: 1 });
    t.forwarded(n('a'), 'b', 'local');
    t.forwarded(n('a'), 'b', 'local');
    t.upstream('claude-api', '429', 1);
    t.upstream('claude-api', '529', 1);
    t.upstream('claude-api', '500', 1);
    // A peer pod's full queue is downstream capacity, not the model API's push-back.
    t.upstream('peer:b', '429', 1);
    const r = t.report();
    expect(r).toMatchObject({ arrived: 2, completed: 1, served: 1, throttled: 2 });
    expect(r.neurons.a).toMatchObject({ arrived: 2, completed: 1, served: 1, forwarded: { b: 2 } });
    // 30 ms lands in the 0.05 s bucket (index 5): cumulative counts are 0 below it and 1 from it on.
    const counts = r.neurons.a!.latency.counts;
    expect(counts.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(counts.slice(5).every((c) => c === 1)).toBe(true);
    expect(r.neurons.b).toMatchObject({ arrived: 0, completed: 0, served: 0 });
  });

  it('counts a signal shed or cancelled before its turn as completed but not served: it held no slot', () => {
    const clock = new ManualClock();
    const t = createLoadTracker(clock, [n('a')]);
    for (let i = 0; i < 4; i++) t.arrived(n('a'));
    // Held a slot: answered, a cache hit, failed in the slot, cut off by its request's end in the slot.
    t.finished(n('a'), { outcome: 'ok', cached: false, latencyMs: 30, processingMs: 20 });
    t.finished(n('a'), { outcome: 'ok', cached: true, latencyMs: 2, processingMs: 1 });
    t.finished(n('a'), { outcome: 'error', cached: false, latencyMs: 40, processingMs: 30 });
    t.finished(n('a'), { outcome: 'cancelled', cached: false, latencyMs: 50, processingMs: 10 });
    // Never held one: shed past the latency objective, cancelled while waiting.
    t.finished(n('a'), { outcome: 'error', cached: false, latencyMs: 500 });
    t.finished(n('a'), { outcome: 'cancelled', cached: false, latencyMs: 900 });
    const r = t.report();
    expect(r).toMatchObject({ completed: 6, served: 4 });
    expect(r.neurons.a).toMatchObject({ completed: 6, served: 4 });
  });
});
