import { describe, expect, it } from 'vitest';
import { signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { RunRegistry } from './run-registry.ts';
import { RunStore, runBytes } from './run-store.ts';

/** The one signal of the runs here (a run is open while a signal of it is). */
const ONLY = signalTo('impl');

function setup(maxEntries: number, maxBytes = 1 << 30) {
  const store = new RunStore({ maxEntries, maxBytes, ttlMs: 60_000 });
  const runs = new RunRegistry(new ManualClock());
  const start = (id: string) => {
    const run = runs.open({
      id,
      traceId: 't',
      entry: 'impl',
      timeoutMs: 1000,
      onEnd: (r) => store.finished(r.view()),
    });
    run.open(ONLY);
    store.add(run);
    return run;
  };
  const finish = (run: ReturnType<typeof start>, content = 'ok') =>
    run.close(ONLY, { results: [{ neuron: 'impl', layer: 'L2', content }] });
  return { store, start, finish };
}

describe('RunStore', () => {
  it('keeps a running request however many finish after it, and finds it when it ends', () => {
    const { store, start, finish } = setup(3);
    const slow = start('slow');
    for (let i = 0; i < 10; i++) finish(start(`quick-${i}`));
    expect(store.get('slow')?.status).toBe('running');
    finish(slow);
    expect(store.get('slow')?.status).toBe('completed');
  });

  it('keeps at most maxEntries finished requests, the most recent', () => {
    const { store, start, finish } = setup(3);
    for (let i = 0; i < 5; i++) finish(start(`r${i}`));
    expect(store.get('r0')).toBeUndefined();
    expect(store.get('r1')).toBeUndefined();
    expect(store.get('r4')?.status).toBe('completed');
  });

  it('keeps finished requests up to maxBytes of their estimated size, dropping the oldest first', () => {
    const big = 'x'.repeat(100_000); // ≈ 200 kB each as estimated
    const { store, start, finish } = setup(1000, 1_048_576);
    for (let i = 0; i < 8; i++) finish(start(`big-${i}`), big);
    const kept = Array.from({ length: 8 }, (_, i) => store.get(`big-${i}`) !== undefined);
    // Five fit in 1 MiB; the three oldest went, the newest are all there.
    expect(kept).toEqual([false, false, false, true, true, true, true, true]);
    expect(store.get('big-7')?.results[0]?.content).toBe(big);
  });

  it('keeps a finished request larger than the whole budget, so its caller still sees how it ended', () => {
    const { store, start, finish } = setup(1000, 1_048_576);
    finish(start('small'));
    finish(start('huge'), 'y'.repeat(600_000));
    expect(store.get('huge')?.status).toBe('completed');
    expect(store.get('small')).toBeUndefined();
  });
});

const flush = () => new Promise((r) => setImmediate(r));

describe('RunStore: reads awaited by a drain', () => {
  it('waits for the runs still running at the drain until each is read after its end', async () => {
    const { store, start, finish } = setup(100);
    finish(start('done-before'));
    const a = start('a');
    const b = start('b');
    const reads = store.awaitReads();
    expect(reads.size).toBe(2);
    const clock = new ManualClock();
    let unread: number | undefined;
    void reads.wait(clock, 5000).then((n) => (unread = n));
    // A read while running is no read of how it ended; an unknown id changes nothing.
    store.delivered('a-typo');
    finish(a);
    finish(b);
    store.delivered('a');
    await flush();
    expect(unread).toBeUndefined();
    store.delivered('b');
    await flush();
    expect(unread).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('gives up after its bound on the clock, and says how many were never read', async () => {
    const { store, start } = setup(100);
    start('never-read');
    const reads = store.awaitReads();
    const clock = new ManualClock();
    let unread: number | undefined;
    void reads.wait(clock, 5000).then((n) => (unread = n));
    clock.advance(4999);
    await flush();
    expect(unread).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(unread).toBe(1);
  });

  it('does not wait when nothing was running, or with no linger', async () => {
    const { store, start } = setup(100);
    expect(await store.awaitReads().wait(new ManualClock(), 5000)).toBe(0);
    start('r');
    expect(await store.awaitReads().wait(new ManualClock(), 0)).toBe(1);
  });
});

describe('runBytes', () => {
  it('counts two bytes a character of each result, and a record per result, trace entry and error', () => {
    const none = runBytes({ results: [], trace: [], errors: [] });
    const one = runBytes({
      results: [{ neuron: 'a', layer: 'L2', content: 'z'.repeat(1000) }],
      trace: [],
      errors: [],
    });
    // The record, its text and its neuron's id.
    expect(one - none).toBe(128 + 2000 + 2);
  });
});
