import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { SignalBuffer } from './buffer.ts';

function setup(opts: { size?: number; flushMs?: number; capacity: () => number; coalesce?: boolean }) {
  const clock = new ManualClock();
  const batches: number[][] = [];
  const buffer = new SignalBuffer<number>({
    size: opts.size ?? 10,
    flushMs: opts.flushMs ?? 50,
    clock,
    capacity: opts.capacity,
    flush: (b) => batches.push(b),
    ...(opts.coalesce ? { coalesce: true } : {}),
  });
  return { clock, batches, buffer };
}

describe('SignalBuffer', () => {
  it('hands a signal over at once, without a timer, while the consumer has capacity', () => {
    const { clock, batches, buffer } = setup({ capacity: () => 1 });
    buffer.add(1);
    expect(batches).toEqual([[1]]);
    expect(clock.pending).toBe(0);
  });

  it('holds signals only while the consumer is busy, and flushes them after flush_ms', () => {
    const { clock, batches, buffer } = setup({ capacity: () => 0 });
    buffer.add(1);
    buffer.add(2);
    expect(batches).toEqual([]);
    clock.advance(49);
    expect(batches).toEqual([]);
    clock.advance(1);
    expect(batches).toEqual([[1, 2]]);
  });

  it('drops the items named, and stops the timer once none is left', () => {
    const { clock, batches, buffer } = setup({ capacity: () => 0 });
    for (const i of [1, 2, 3]) buffer.add(i);
    expect(buffer.drop((i) => i !== 2)).toBe(2);
    expect(buffer.pending).toBe(1);
    expect(buffer.drop((i) => i === 2)).toBe(1);
    expect(buffer.pending).toBe(0);
    expect(clock.pending).toBe(0);
    clock.advance(50);
    expect(batches).toEqual([]);
  });

  it('flushes a full batch at once', () => {
    const { batches, buffer } = setup({ size: 3, capacity: () => 0 });
    for (const i of [1, 2, 3, 4]) buffer.add(i);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(buffer.pending).toBe(1);
  });

  it('gives a pulling consumer at most one batch and stops the timer when emptied', () => {
    const { clock, batches, buffer } = setup({ size: 2, capacity: () => 0 });
    buffer.add(1);
    expect(clock.pending).toBe(1);
    expect(buffer.take(5)).toEqual([1]);
    expect(clock.pending).toBe(0);
    clock.advance(100);
    expect(batches).toEqual([]);
  });

  it('coalesces a synchronous burst into one batch on the next microtask', async () => {
    const { clock, batches, buffer } = setup({ capacity: () => 1, coalesce: true });
    for (const i of [1, 2, 3]) buffer.add(i);
    expect(batches).toEqual([]);
    await Promise.resolve();
    expect(batches).toEqual([[1, 2, 3]]);
    expect(clock.pending).toBe(0);
  });

  it('keeps the meaning of size and flush_ms when resized live', () => {
    const { clock, batches, buffer } = setup({ size: 10, flushMs: 50, capacity: () => 0 });
    buffer.add(1);
    buffer.add(2);
    buffer.resize(2, 5);
    expect(batches).toEqual([[1, 2]]);
    buffer.add(3);
    clock.advance(5);
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('bounds a wait already under way by a shorter flush_ms, not by the one it started under', () => {
    const { clock, batches, buffer } = setup({ size: 10, flushMs: 60_000, capacity: () => 0 });
    buffer.add(1);
    clock.advance(1_000);
    buffer.resize(10, 50);
    clock.advance(50);
    expect(batches).toEqual([[1]]);
  });
});
