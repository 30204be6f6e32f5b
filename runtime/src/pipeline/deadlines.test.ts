import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { Deadlines } from './deadlines.ts';

function setup() {
  const clock = new ManualClock();
  const fired: string[] = [];
  const deadlines = new Deadlines(clock);
  const add = (name: string, at: number) => deadlines.add(at, () => fired.push(`${name}@${clock.now()}`));
  return { clock, fired, deadlines, add };
}

describe('Deadlines', () => {
  it('fires each deadline once, at its time, in deadline order, on one timer', () => {
    const { clock, fired, deadlines, add } = setup();
    add('c', 300);
    add('a', 100);
    add('b', 200);
    expect(clock.pending).toBe(1);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['a@100']);
    clock.advance(500);
    expect(fired).toEqual(['a@100', 'b@200', 'c@300']);
    expect(deadlines.size).toBe(0);
  });

  it('keeps one timer however many deadlines are pending, and adds and removes without touching it', () => {
    const { clock, fired, deadlines, add } = setup();
    const first = add('first', 1_000);
    expect(clock.pending).toBe(1);
    for (let i = 0; i < 1_000; i++) deadlines.remove(add(`r${i}`, 2_000 + i));
    expect(clock.pending).toBe(1);
    expect(deadlines.size).toBe(1);
    deadlines.remove(first);
    add('later', 5_000);
    // The timer armed for the removed deadline finds nothing due and re-arms for the next.
    clock.advance(1_000);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(1);
    clock.advance(4_000);
    expect(fired).toEqual(['later@5000']);
  });

  it('re-arms for a deadline earlier than the one armed', () => {
    const { clock, fired, add } = setup();
    add('late', 30_000);
    add('early', 50);
    expect(clock.pending).toBe(1);
    clock.advance(50);
    expect(fired).toEqual(['early@50']);
  });

  it('never fires a removed deadline; removing twice is harmless', () => {
    const { clock, fired, deadlines, add } = setup();
    const a = add('a', 10);
    add('b', 20);
    deadlines.remove(a);
    deadlines.remove(a);
    clock.advance(100);
    expect(fired).toEqual(['b@20']);
  });

  it('stops on close: nothing fires and no timer is left', () => {
    const { clock, fired, deadlines, add } = setup();
    add('a', 10);
    add('b', 20);
    deadlines.close();
    expect(clock.pending).toBe(0);
    clock.advance(100);
    expect(fired).toEqual([]);
    expect(deadlines.size).toBe(0);
  });

  it('keeps firing later deadlines when one of the callbacks throws', () => {
    const { clock, fired, deadlines, add } = setup();
    deadlines.add(10, () => {
      throw new Error('boom');
    });
    add('b', 20);
    expect(() => clock.advance(10)).toThrow('boom');
    clock.advance(10);
    expect(fired).toEqual(['b@20']);
  });

  it('agrees with a sorted list under random adds and removes', () => {
    const { clock, fired, deadlines, add } = setup();
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const live = new Map<string, { at: number; handle: ReturnType<typeof add> }>();
    for (let i = 0; i < 2_000; i++) {
      if (live.size > 0 && rand(3) === 0) {
        const keys = [...live.keys()];
        const k = keys[rand(keys.length)]!;
        deadlines.remove(live.get(k)!.handle);
        live.delete(k);
      } else {
        const at = 1 + rand(10_000);
        live.set(`d${i}`, { at, handle: add(`d${i}`, at) });
      }
    }
    clock.advance(20_000);
    const expected = [...live.entries()].sort((x, y) => x[1].at - y[1].at).map(([k, v]) => `${k}@${v.at}`);
    expect(fired.map((f) => Number(f.split('@')[1]))).toEqual(expected.map((f) => Number(f.split('@')[1])));
    expect(new Set(fired)).toEqual(new Set(expected));
  });
});
