import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.ts';
import { exponentialFailureRateLimiter } from './rate-limiter.ts';
import { type QueueObserver, WorkQueue } from './work-queue.ts';

function aQueue(observer?: QueueObserver, standby = false) {
  const clock = new FakeClock();
  const queue = new WorkQueue({
    clock,
    rateLimiter: exponentialFailureRateLimiter(5, 1_000_000),
    ...(observer ? { observer } : {}),
    standby,
  });
  return { clock, queue };
}

function recording() {
  const seen = {
    depth: [] as number[],
    adds: 0,
    retries: 0,
    queued: [] as number[],
    worked: [] as number[],
  };
  const observer: QueueObserver = {
    depth: (n) => seen.depth.push(n),
    added: () => seen.adds++,
    retried: () => seen.retries++,
    queued: (s) => seen.queued.push(s),
    worked: (s) => seen.worked.push(s),
  };
  return { seen, observer };
}

describe('WorkQueue', () => {
  it('hands out a key added many times before processing only once', async () => {
    const { queue } = aQueue();
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(queue.len()).toBe(0);
  });

  it('never hands a key being processed to a second worker; re-adds it after done', async () => {
    const { queue } = aQueue();
    queue.add('k');
    const first = await queue.get();
    queue.add('k');
    expect(queue.len()).toBe(0);
    let second: string | undefined;
    void queue.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done(first!);
    await Promise.resolve();
    expect(second).toBe('k');
  });

  it('keeps only the earliest pending addAfter per key', async () => {
    const { clock, queue } = aQueue();
    queue.addAfter('k', 1000);
    queue.addAfter('k', 100);
    queue.addAfter('k', 5000);
    clock.advance(99);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    await queue.get();
    queue.done('k');
    clock.advance(10_000);
    expect(queue.len()).toBe(0);
  });

  it('backs off a failing key exponentially and forget resets it', () => {
    const { clock, queue } = aQueue();
    queue.addRateLimited('k');
    clock.advance(4);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(queue.numRequeues('k')).toBe(1);
    queue.forget('k');
    expect(queue.numRequeues('k')).toBe(0);
  });

  it('hands out none of the keys still queued once shut down', async () => {
    const { queue } = aQueue();
    for (const k of ['a', 'b', 'c']) queue.add(k);
    expect(await queue.get()).toBe('a');
    queue.shutDown();
    expect(await queue.get()).toBeUndefined();
    queue.done('a');
    expect(await queue.get()).toBeUndefined();
  });

  it('wakes waiting workers with undefined on shutdown and drops pending delays', async () => {
    const { clock, queue } = aQueue();
    const waiting = queue.get();
    queue.addAfter('later', 1000);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    clock.advance(2000);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('reports depth, adds, retries and durations to its observer', async () => {
    const { seen, observer } = recording();
    const { clock, queue } = aQueue(observer);
    queue.add('a');
    queue.add('a');
    clock.advance(2000);
    const k = await queue.get();
    clock.advance(500);
    queue.done(k!);
    queue.addRateLimited('a');
    expect(seen.adds).toBe(1);
    expect(seen.retries).toBe(1);
    expect(seen.queued).toEqual([2]);
    expect(seen.worked).toEqual([0.5]);
    expect(seen.depth).toEqual([1, 0]);
  });

  it('standing by, holds its keys unreported, and counts their wait from when it starts', async () => {
    // A standby replica: its informers feed the queue for ten minutes before it leads.
    const { seen, observer } = recording();
    const { clock, queue } = aQueue(observer, true);
    queue.add('a');
    queue.add('b');
    queue.add('a');
    queue.addAfter('c', 1000);
    clock.advance(600_000);
    expect(queue.len()).toBe(0);
    expect(seen).toMatchObject({ depth: [], adds: 0, queued: [] });
    let first: string | undefined;
    void queue.get().then((k) => {
      first = k;
    });
    await Promise.resolve();
    expect(first).toBeUndefined();
    // Leading: every key held, once each, as if added now.
    queue.start();
    await Promise.resolve();
    expect(first).toBe('a');
    expect(queue.len()).toBe(2);
    expect(seen.adds).toBe(3);
    expect(seen.depth.at(-1)).toBe(2);
    clock.advance(100);
    expect(await queue.get()).toBe('b');
    expect(seen.queued).toEqual([0, 0.1]);
    // Started, it queues as any other.
    queue.add('d');
    expect(queue.len()).toBe(2);
  });

  it('standing by, drops what it held when shut down', async () => {
    const { queue } = aQueue(undefined, true);
    queue.add('a');
    queue.shutDown();
    queue.start();
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });
});
