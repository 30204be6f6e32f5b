import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { createLocalSlots } from './local-slots.ts';
import { LOCAL_BATCH_TARGET, silentObserver } from './observer.ts';

// The buffer and the executor wired to each other: items run in a script of held promises.

function setup(limit = 1) {
  const clock = new ManualClock();
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const batches: number[] = [];
  const stale = new Set<string>();
  const slots = createLocalSlots<string>({
    performance: {
      signal_buffer_size: 4,
      buffer_flush_ms: 50,
      max_concurrent_signals: limit,
      max_queue_depth: 100,
    },
    clock,
    observer: {
      ...silentObserver(),
      batch: (target, size) => {
        expect(target).toBe(LOCAL_BATCH_TARGET);
        batches.push(size);
      },
    },
    process: (item) => {
      started.push(item);
      return new Promise<void>((r) => finish.set(item, r));
    },
    isStale: (item) => stale.has(item),
    // `+x`: a signal continuing a request already under way (a forwarded one).
    urgent: (item) => item.startsWith('+'),
    onChange: () => {},
  });
  const end = async (item: string) => {
    finish.get(item)!();
    await Promise.resolve();
    await Promise.resolve();
  };
  return { clock, slots, started, batches, stale, end };
}

describe('createLocalSlots', () => {
  it('starts an item at once while a slot is free; the rest wait in the buffer for the next free slot', async () => {
    const { slots, started, batches, end } = setup();
    slots.buffer.add('a');
    slots.buffer.add('b');
    slots.buffer.add('c');
    expect(started).toEqual(['a']);
    expect(slots.buffer.pending).toBe(2);
    await end('a');
    expect(started).toEqual(['a', 'b']);
    expect(batches).toEqual([1, 1]);
    expect(slots.buffer.pending).toBe(1);
  });

  it('sends a batch that waited buffer_flush_ms to the executor’s queue', () => {
    const { clock, slots, started, batches } = setup();
    for (const i of ['a', 'b', 'c']) slots.buffer.add(i);
    clock.advance(50);
    expect(batches).toEqual([1, 2]);
    expect(slots.buffer.pending).toBe(0);
    expect(slots.executor.queued).toBe(2);
    expect(started).toEqual(['a']);
  });

  it('starts a signal of a request under way before new requests’ signals that waited longer, in the buffer and in the queue', async () => {
    const { clock, slots, started, end } = setup();
    for (const i of ['a', 'b', 'c']) slots.buffer.add(i);
    // b and c wait in the buffer; a's forwarded signal arrives after them.
    slots.buffer.add('+a1');
    await end('a');
    expect(started).toEqual(['a', '+a1']);
    // Now in the executor's queue: b to e flushed there (a full batch), then +b1 and +b2 after them.
    for (const i of ['d', 'e']) slots.buffer.add(i);
    expect(slots.executor.queued).toBe(4);
    for (const i of ['+b1', '+b2']) slots.buffer.add(i);
    clock.advance(50);
    expect(slots.buffer.pending).toBe(0);
    expect(slots.executor.queued).toBe(6);
    for (const i of ['+a1', '+b1', '+b2', 'b', 'c', 'd']) await end(i);
    // Each class in its own arrival order.
    expect(started).toEqual(['a', '+a1', '+b1', '+b2', 'b', 'c', 'd', 'e']);
  });

  it('starts a forwarded signal still in the buffer before new requests’ signals already in the executor’s queue', async () => {
    const { clock, slots, started, end } = setup();
    for (const i of ['a', 'b', 'c']) slots.buffer.add(i);
    clock.advance(50);
    expect(slots.executor.queued).toBe(2);
    // a's forwarded signal waits in the buffer (its flush timer not due) when a's slot frees.
    slots.buffer.add('+a1');
    expect(slots.buffer.pending).toBe(1);
    await end('a');
    expect(started).toEqual(['a', '+a1']);
    await end('+a1');
    expect(started).toEqual(['a', '+a1', 'b']);
  });

  it('skips an item whose turn came too late', async () => {
    const { slots, started, stale, end } = setup();
    for (const i of ['a', 'b', 'c']) slots.buffer.add(i);
    stale.add('b');
    await end('a');
    expect(started).toEqual(['a', 'c']);
  });
});
