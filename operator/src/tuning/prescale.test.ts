import { describe, expect, it } from 'vitest';
import { type NeuronFlow, predict } from './prescale.ts';

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
