import { describe, expect, it } from 'vitest';
import { type NeuronFlow, type Prediction, type PredictWork, predict } from './prescale.ts';

// predict() on large and arbitrary graphs: the same predictions as the plain definition below
// (a recursive walk, and every acyclic edge scanned for each Neuron taken from the queue), with work
// linear in the edges and no recursion.

type Edge = { readonly source: string; readonly target: string; readonly fanOut: number };

/** The definition, written as plainly as possible: the reference for predict(). */
function reference(flows: ReadonlyMap<string, NeuronFlow>): Map<string, Prediction> {
  const keys = [...flows.keys()].sort();
  const out = new Map<string, Edge[]>();
  for (const k of keys) {
    const edges = Object.entries(flows.get(k)!.fanOut)
      .filter(([t, f]) => t !== k && flows.has(t) && f > 0)
      .map(([target, fanOut]) => ({ source: k, target, fanOut }))
      .sort((a, b) => (a.target < b.target ? -1 : 1));
    out.set(k, edges);
  }
  const state = new Map<string, 'open' | 'done'>();
  const dag: Edge[] = [];
  const visit = (k: string) => {
    state.set(k, 'open');
    for (const e of out.get(k) ?? []) {
      const s = state.get(e.target);
      if (s === 'open') continue;
      dag.push(e);
      if (!s) visit(e.target);
    }
    state.set(k, 'done');
  };
  for (const k of keys) if (!state.has(k)) visit(k);
  const indegree = new Map(keys.map((k) => [k, 0]));
  for (const e of dag) indegree.set(e.target, indegree.get(e.target)! + 1);
  const queue = keys.filter((k) => indegree.get(k) === 0);
  const eff = new Map<string, number>();
  const result = new Map<string, Prediction>();
  while (queue.length > 0) {
    const k = queue.shift()!;
    const f = flows.get(k)!;
    const from = dag
      .filter((e) => e.target === k && (eff.get(e.source) ?? 0) > 0)
      .map((e) => ({
        source: e.source,
        intake: eff.get(e.source)!,
        fanOut: e.fanOut,
        backlog: Math.max(0, flows.get(e.source)!.backlog ?? 0),
      }));
    const predicted = from.reduce((a, c) => a + c.intake * c.fanOut, 0);
    const burst = from.reduce((a, c) => a + c.backlog * c.fanOut, 0);
    eff.set(k, Math.max(f.intake ?? 0, predicted));
    if (from.length > 0 && f.latencySeconds !== undefined && f.latencySeconds > 0) {
      const sustained = predicted * f.latencySeconds;
      result.set(k, { intake: predicted, concurrency: sustained + burst, sustained, from });
    }
    for (const e of dag) {
      if (e.source !== k) continue;
      indegree.set(e.target, indegree.get(e.target)! - 1);
      if (indegree.get(e.target) === 0) queue.push(e.target);
    }
  }
  return result;
}

/** A seeded generator (mulberry32): the random graphs are the same on every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

const flow = (
  intake: number | undefined,
  fanOut: Record<string, number>,
  latencySeconds?: number,
  backlog?: number,
): NeuronFlow => ({ intake, fanOut, latencySeconds, ...(backlog === undefined ? {} : { backlog }) });

/** Graphs with what real ones carry: cycles, self-edges, unknown targets, zero fan-outs, no data. */
function randomGraph(seed: number): Map<string, NeuronFlow> {
  const r = seeded(seed);
  const n = 1 + r.int(40);
  // Unsorted, so key order is not insertion order.
  const keys = Array.from({ length: n }, (_, i) => `ns/n${(i * 7919) % 1000}`);
  const flows = new Map<string, NeuronFlow>();
  for (const k of keys) {
    const fanOut: Record<string, number> = {};
    for (let e = r.int(6); e > 0; e--) {
      const target = r.next() < 0.1 ? 'ns/gone' : r.next() < 0.05 ? k : r.pick(keys);
      fanOut[target] = r.pick([0, 0.5, 1, 1.5, 2, 3.25, -1]);
    }
    flows.set(
      k,
      flow(
        r.pick([undefined, 0, 1, 2.5, 10, 40]),
        fanOut,
        r.pick([undefined, 0, 0.05, 0.2, 0.55, 1.3]),
        r.pick([undefined, -2, 0, 1, 4.5]),
      ),
    );
  }
  return flows;
}

/** Entries in order: the result's order is part of what must not change. */
const entries = (m: Map<string, Prediction>) => [...m.entries()];

describe('predict on arbitrary graphs', () => {
  const cases: [string, Map<string, NeuronFlow>][] = [
    ['empty', new Map()],
    [
      'a chain',
      new Map([
        ['a', flow(10, { b: 2 })],
        ['b', flow(1, { c: 1 }, 0.1)],
        ['c', flow(undefined, {}, 0.2)],
      ]),
    ],
    [
      'a diamond',
      new Map([
        ['a', flow(10, { b: 1, c: 2 })],
        ['b', flow(1, { d: 1 }, 0.1)],
        ['c', flow(1, { d: 0.5 }, 0.1)],
        ['d', flow(0, {}, 0.3)],
      ]),
    ],
    [
      'a cycle with a tail',
      new Map([
        ['a', flow(10, { b: 2 }, 0.1, 3)],
        ['b', flow(20, { a: 1, c: 1 }, 0.1)],
        ['c', flow(undefined, {}, 0.4)],
      ]),
    ],
    [
      'a self-edge and an unknown target',
      new Map([
        ['a', flow(5, { a: 3, zz: 1, b: 1 }, 0.1)],
        ['b', flow(undefined, {}, 0.2)],
      ]),
    ],
    [
      'keys against insertion order',
      new Map([
        ['z', flow(3, { m: 1 })],
        ['m', flow(1, { a: 2 }, 0.5)],
        ['a', flow(2, { z: 1 }, 0.5)],
      ]),
    ],
  ];
  it.each(cases)('matches the definition: %s', (_, flows) => {
    expect(entries(predict(flows))).toEqual(entries(reference(flows)));
  });

  it('matches the definition on 500 random graphs', () => {
    let predicted = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const flows = randomGraph(seed);
      const want = reference(flows);
      expect(entries(predict(flows)), `seed ${seed}`).toEqual(entries(want));
      predicted += want.size;
    }
    // The graphs do exercise predictions, not only empty results.
    expect(predicted).toBeGreaterThan(1000);
  });
});

describe('predict on large graphs', () => {
  it('carries intake down a chain 20,000 Neurons deep', () => {
    const n = 20_000;
    const key = (i: number) => `ns/n${String(i).padStart(5, '0')}`;
    const flows = new Map<string, NeuronFlow>();
    for (let i = 0; i < n; i++)
      flows.set(key(i), flow(i === 0 ? 1 : 0, i + 1 < n ? { [key(i + 1)]: 1 } : {}, 0.5));
    const p = predict(flows);
    expect(p.size).toBe(n - 1);
    expect(p.get(key(n - 1))).toMatchObject({ intake: 1, concurrency: 0.5 });
  });

  it('looks at each edge a bounded number of times: 3,000 Neurons × 8 edges', () => {
    const n = 3000;
    const degree = 8;
    const key = (i: number) => `ns/n${String(i).padStart(4, '0')}`;
    const flows = new Map<string, NeuronFlow>();
    for (let i = 0; i < n; i++) {
      const fanOut: Record<string, number> = {};
      // Forward edges and, from every third Neuron, backward ones (cycles to cut).
      for (let d = 1; d <= degree; d++)
        fanOut[key((i + (i % 3 === 0 ? -d * 13 : d * 7) + n) % n)] = 1 / degree;
      flows.set(key(i), flow(1, fanOut, 0.2));
    }
    const edges = n * degree;
    const work: PredictWork = { edges: 0 };
    const p = predict(flows, work);
    expect(p.size).toBeGreaterThan(0);
    // Walk, incoming and outgoing: each edge about three times, never once per Neuron.
    expect(work.edges).toBeLessThanOrEqual(3 * edges);
  });
});
