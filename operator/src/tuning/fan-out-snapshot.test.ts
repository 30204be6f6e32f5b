import { describe, expect, it } from 'vitest';
import { fanOutSnapshot } from './fan-out-snapshot.ts';

describe('fanOutSnapshot', () => {
  const previous = { a: '1.5', b: '0.33' };

  it('keeps the last snapshot while the edges are the same and nothing was decided', () => {
    expect(fanOutSnapshot({ b: 0.4, a: 1.61 }, previous, false)).toBe(previous);
  });

  it('takes a new one, sorted and to two decimals, at a decision or when an edge appears', () => {
    expect(fanOutSnapshot({ b: 0.404, a: 1.616 }, previous, true)).toEqual({ a: '1.62', b: '0.4' });
    const grown = fanOutSnapshot({ c: 2, a: 1.5, b: 0.33 }, previous, false);
    expect(Object.entries(grown)).toEqual([
      ['a', '1.5'],
      ['b', '0.33'],
      ['c', '2'],
    ]);
  });
});
