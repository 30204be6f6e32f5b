import { describe, expect, it } from 'vitest';
import { TwoClassQueue } from './two-class-queue.ts';

// `+x` is urgent (work under way); each class keeps its own arrival order.
const queueOf = (...items: string[]) => {
  const q = new TwoClassQueue<string>((i) => i.startsWith('+'));
  for (const i of items) q.push(i);
  return q;
};

describe('TwoClassQueue', () => {
  it('hands out the urgent class first, each class in arrival order', () => {
    const q = queueOf('a', '+x', 'b', '+y', 'c');
    expect(q.length).toBe(5);
    expect(q.heads()).toEqual(['+x', 'a']);
    expect(q.take(3)).toEqual(['+x', '+y', 'a']);
    expect(q.shift()).toBe('b');
    expect(q.take(5)).toEqual(['c']);
    expect(q.shift()).toBeUndefined();
    expect(q.heads()).toEqual([]);
  });

  it('is plain arrival order without an urgency', () => {
    const q = new TwoClassQueue<string>();
    for (const i of ['a', '+x', 'b']) q.push(i);
    expect(q.take(3)).toEqual(['a', '+x', 'b']);
  });

  it('drops named items anywhere and sheds from the head of each class only', () => {
    const q = queueOf('a', '+x', 'b', '+y', 'c', '+z');
    expect(q.drop((i) => i === 'b' || i === '+y')).toBe(2);
    expect(q.length).toBe(4);
    // Shedding stops at the first item of each class that is not gone: c stays.
    const looked: string[] = [];
    const gone = (i: string) => {
      looked.push(i);
      return i === 'a' || i === '+x' || i === '+z';
    };
    expect(q.shedHeads(gone)).toBe(3);
    expect(q.take(4)).toEqual(['c']);
    expect(looked).toEqual(['+x', '+z', 'a', 'c']);
  });

  it('keeps its order past many items taken from the head', () => {
    const q = new TwoClassQueue<number>((i) => i % 2 === 0);
    for (let i = 0; i < 5000; i++) q.push(i);
    const out = q.take(5000);
    expect(out.slice(0, 3)).toEqual([0, 2, 4]);
    expect(out.slice(2500, 2503)).toEqual([1, 3, 5]);
    expect(q.length).toBe(0);
  });
});
