import { describe, expect, it } from 'vitest';
import { LiveList } from './live-list.ts';

describe('LiveList', () => {
  it('holds what was added and not yet removed, newest first', () => {
    const list = new LiveList<string>();
    const a = list.add('a');
    list.add('b');
    const c = list.add('c');
    expect(list.values()).toEqual(['c', 'b', 'a']);
    list.remove(c);
    expect(list.values()).toEqual(['b', 'a']);
    list.remove(a);
    expect(list.values()).toEqual(['b']);
    expect(list.size).toBe(1);
  });

  it('removes from the middle, the head and the tail, and ignores a second removal', () => {
    const list = new LiveList<number>();
    const e = [1, 2, 3, 4, 5].map((n) => list.add(n));
    list.remove(e[2]!);
    list.remove(e[2]!);
    list.remove(e[4]!);
    list.remove(e[0]!);
    expect(list.values()).toEqual([4, 2]);
    expect(list.size).toBe(2);
    list.remove(e[1]!);
    list.remove(e[3]!);
    expect(list.values()).toEqual([]);
    expect(list.size).toBe(0);
    list.add(6);
    expect(list.values()).toEqual([6]);
  });

  it('gives a copy: removing every value while walking it is safe', () => {
    const list = new LiveList<{ n: number }>();
    const entries = new Map<{ n: number }, ReturnType<typeof list.add>>();
    for (let n = 0; n < 5; n++) {
      const v = { n };
      entries.set(v, list.add(v));
    }
    for (const v of list.values()) list.remove(entries.get(v)!);
    expect(list.size).toBe(0);
    expect(list.values()).toEqual([]);
  });
});
