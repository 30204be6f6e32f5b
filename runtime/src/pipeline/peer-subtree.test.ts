import { describe, expect, it } from 'vitest';
import { signalTo } from '../testing/builders.ts';
import { PeerSubtree } from './peer-subtree.ts';
import type { TraceEntry } from './signal.ts';

// The lead's signal `lead-1` forwarded `s1` to `worker` at a peer pod.
const sent = signalTo('worker', { id: 's1', parentId: 'lead-1', hop: 1, path: ['lead'] });

const entry = (signal: string, parent: string | null, neuron: string, hop: number): TraceEntry => ({
  signal,
  parent,
  neuron,
  layer: 'L2',
  hop,
  cached: false,
  durationMs: 1,
  forwardedTo: [],
  dropped: [],
});
const root = entry('s1', 'lead-1', 'worker', 1);

describe('PeerSubtree', () => {
  it('takes the signal’s own entry, then entries descending from it, and results of neurons that ran', () => {
    const sub = new PeerSubtree(sent);
    expect(sub.answered).toBe(false);
    expect(sub.entry(root)).toBe(true);
    expect(sub.entry(entry('p2', 's1', 'impl', 2))).toBe(true);
    expect(sub.entry(entry('p3', 'p2', 'impl-b', 3))).toBe(true);
    expect(sub.result({ neuron: 'impl-b', layer: 'L2', content: 'done' })).toBe(true);
    expect(sub.answered).toBe(true);
    expect(sub.problem()).toBeUndefined();
  });

  it.each([
    ['the root with another parent', entry('s1', 'x', 'worker', 1), 'is not the signal sent'],
    ['the root at another hop', entry('s1', 'lead-1', 'worker', 0), 'is not the signal sent'],
    ['the root at another neuron', entry('s1', 'lead-1', 'impl', 1), 'is not the signal sent'],
    ['the sender’s own signal', entry('lead-1', null, 'lead', 0), 'descends from no signal of the sub-tree'],
    ['an orphan', entry('p9', 'nowhere', 'impl', 2), 'descends from no signal of the sub-tree'],
    ['a child two hops on', entry('p2', 's1', 'impl', 3), 'is not one hop past its parent'],
    [
      'a neuron its branch visited',
      entry('p2', 's1', 'lead', 2),
      'names neuron "lead", which its branch had visited',
    ],
    [
      'the neuron of its parent',
      entry('p2', 's1', 'worker', 2),
      'names neuron "worker", which its branch had visited',
    ],
  ])('leaves out %s, and names it', (_what, bad, why) => {
    const sub = new PeerSubtree(sent);
    if (bad.signal !== 's1') expect(sub.entry(root)).toBe(true);
    expect(sub.entry(bad)).toBe(false);
    expect(sub.problem()).toContain(why);
  });

  it('looks for a cycle along the entry’s own ancestors only: a sibling branch may run the same neuron', () => {
    const sub = new PeerSubtree(sent);
    expect(sub.entry(root)).toBe(true);
    expect(sub.entry(entry('a2', 's1', 'impl', 2))).toBe(true);
    expect(sub.entry(entry('b2', 's1', 'design', 2))).toBe(true);
    // impl again under design: another branch. impl under impl's own child: a cycle.
    expect(sub.entry(entry('b3', 'b2', 'impl', 3))).toBe(true);
    expect(sub.entry(entry('a3', 'a2', 'leaf', 3))).toBe(true);
    expect(sub.entry(entry('a4', 'a3', 'impl', 4))).toBe(false);
    expect(sub.problem()).toBe(
      'the trace entry of signal "a4" names neuron "impl", which its branch had visited',
    );
  });

  it('leaves out a repeated entry and a result of a neuron that ran nothing there', () => {
    const sub = new PeerSubtree(sent);
    expect(sub.entry(root)).toBe(true);
    expect(sub.entry(root)).toBe(false);
    expect(sub.problem()).toBe('the trace entry of signal "s1" repeats');
    const other = new PeerSubtree(sent);
    other.entry(root);
    expect(other.result({ neuron: 'lead', layer: 'L3', content: 'FORGED' })).toBe(false);
    expect(other.problem()).toContain('a result names neuron "lead", which ran no signal of the sub-tree');
  });

  it('names a report without the signal’s own entry, and keeps what belongs of an outcome', () => {
    const empty = new PeerSubtree(sent);
    expect(empty.outcome({ results: [], trace: [], errors: [] }).trace).toEqual([]);
    expect(empty.problem()).toBe('it sent no trace entry of signal "s1"');
    const mixed = new PeerSubtree(sent);
    const forged = entry('lead-1', null, 'lead', 0);
    const out = mixed.outcome({
      results: [
        { neuron: 'worker', layer: 'L2', content: 'ok' },
        { neuron: 'lead', layer: 'L3', content: 'FORGED' },
      ],
      trace: [root, forged],
      errors: [],
    });
    expect(out.trace).toEqual([root]);
    expect(out.results.map((r) => r.content)).toEqual(['ok']);
    // Untouched when all of it belongs.
    const whole = { results: [], trace: [root], errors: [] };
    expect(new PeerSubtree(sent).outcome(whole)).toBe(whole);
  });
});
