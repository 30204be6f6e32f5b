import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { SignalBuffer } from './buffer.ts';

// A bounded buffer (a peer pod's dispatch: at most max_connections_per_host batches in flight) hands
// over nothing beyond its consumer's capacity: not a full batch, not after flush_ms, not at a drain.

function setup(size: number) {
  const clock = new ManualClock();
  const batches: number[][] = [];
  let room = 0;
  const buffer = new SignalBuffer<number>({
    size,
    flushMs: 50,
    clock,
    capacity: () => room - batches.length,
    flush: (b) => batches.push(b),
    coalesce: true,
    bounded: true,
  });
  return {
    clock,
    batches,
    buffer,
    allow: (n: number) => {
      room = n;
    },
  };
}

const microtask = () => new Promise<void>((r) => queueMicrotask(r));

describe('SignalBuffer, bounded', () => {
  it('holds full batches and timed-out ones while the consumer has no room', async () => {
    const { clock, batches, buffer } = setup(5);
    for (let i = 0; i < 23; i++) buffer.add(i);
    await microtask();
    clock.advance(10_000);
    await microtask();
    buffer.flushNow();
    expect(batches).toEqual([]);
    expect(buffer.pending).toBe(23);
    expect(clock.pending).toBe(0);
  });

  it('hands over as many batches as the consumer has room for when it pokes, the rest later', async () => {
    const { clock, batches, buffer, allow } = setup(5);
    for (let i = 0; i < 12; i++) buffer.add(i);
    allow(2);
    buffer.poke();
    await microtask();
    expect(batches).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
    ]);
    clock.advance(10_000);
    buffer.flushNow();
    expect(batches).toHaveLength(2);
    allow(3);
    buffer.poke();
    await microtask();
    expect(batches.at(-1)).toEqual([10, 11]);
    expect(buffer.pending).toBe(0);
  });
});
