import { describe, expect, it } from 'vitest';
import { signalTo } from '../testing/builders.ts';
import { watched } from './peer-cancels.ts';

describe('watched', () => {
  const signals = ['a', 'b', 'c', 'd'].map((id) => signalTo('impl', { id }));
  const first = new AbortController().signal;
  const second = new AbortController().signal;
  const ends = [first, second, first, second];

  it("groups a batch's signal ids by their request's end", () => {
    const w = watched(signals, ends);
    expect(w.byEnd.size).toBe(2);
    expect(w.byEnd.get(first)).toEqual(['a', 'c']);
    expect(w.byEnd.get(second)).toEqual(['b', 'd']);
    expect(w.all).toBe(ends);
  });

  it("groups only a part's signals, and keeps every request of the batch", () => {
    const w = watched(signals, ends, [2, 3]);
    expect(w.byEnd.size).toBe(2);
    expect(w.byEnd.get(first)).toEqual(['c']);
    expect(w.byEnd.get(second)).toEqual(['d']);
    expect(w.all).toBe(ends);
  });

  it('leaves out a signal with no request end', () => {
    const w = watched(signals, [first]);
    expect(w.byEnd.size).toBe(1);
    expect(w.byEnd.get(first)).toEqual(['a']);
  });
});
