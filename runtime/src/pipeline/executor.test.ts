import { describe, expect, it } from 'vitest';
import { Executor, type ExecutorOptions } from './executor.ts';

// Work conservation is asserted through ordering and counters, never durations.

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** An executor (queue of 10) whose items each hold their slot until their gate opens. */
function gatedExecutor(limit: number, o: Pick<ExecutorOptions<number>, 'pull'> = {}) {
  const gates = new Map<number, ReturnType<typeof deferred>>();
  const started: number[] = [];
  const ex = new Executor<number>({
    limit,
    maxQueue: 10,
    process: (i) => {
      started.push(i);
      const d = deferred();
      gates.set(i, d);
      return d.promise;
    },
    ...o,
  });
  return { ex, gates, started };
}

describe('Executor', () => {
  it('starts the next queued item in the same turn a slot frees', async () => {
    const { ex, gates, started } = gatedExecutor(2);
    ex.submit([1, 2, 3]);
    expect(started).toEqual([1, 2]);
    expect(ex.queued).toBe(1);
    gates.get(1)!.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([1, 2, 3]);
    expect(ex.active).toBe(2);
  });

  it('pulls from the batching buffer when a slot frees and nothing is queued (no timer involved)', async () => {
    const buffered = [10, 11];
    const { ex, gates, started } = gatedExecutor(1, { pull: (free) => buffered.splice(0, free) });
    ex.submit([1]);
    expect(ex.free).toBe(0);
    gates.get(1)!.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([1, 10]);
    expect(buffered).toEqual([11]);
  });

  it('drops items of ended requests instead of starting them', async () => {
    const started: number[] = [];
    const d = deferred();
    const ex = new Executor<number>({
      limit: 1,
      maxQueue: 10,
      process: (i) => {
        started.push(i);
        return i === 1 ? d.promise : Promise.resolve();
      },
      isStale: (i) => i === 2,
    });
    ex.submit([1, 2, 3]);
    d.resolve();
    await ex.idle();
    expect(started).toEqual([1, 3]);
  });

  it('sheds queued items from the front only while they match, looking at no item past the first kept', async () => {
    const { ex, gates, started } = gatedExecutor(1);
    ex.submit([1, 2, 3, 4, 5]);
    const looked: number[] = [];
    expect(
      ex.shedFront((i) => {
        looked.push(i);
        return i !== 4;
      }),
    ).toBe(2);
    expect(looked).toEqual([2, 3, 4]);
    expect(ex.queued).toBe(2);
    expect(ex.heads).toEqual([4]);
    gates.get(1)!.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([1, 4]);
  });

  it('removes queued items whose work ended while they waited, at once, and keeps the order of the rest', async () => {
    const { ex, gates, started } = gatedExecutor(1);
    const counts: number[] = [];
    const watched = new Executor<number>({
      limit: 0,
      maxQueue: 10,
      process: async () => {},
      onChange: (_a, q) => counts.push(q),
    });
    watched.submit([1, 2, 3]);
    expect(watched.drop((i) => i === 2)).toBe(1);
    expect(watched.queued).toBe(2);
    expect(counts.at(-1)).toBe(2); // the change is reported (load report, queue gauge)
    expect(watched.drop(() => false)).toBe(0);
    ex.submit([1, 2, 3, 4]);
    expect(ex.drop((i) => i === 2 || i === 4)).toBe(2);
    expect(ex.queued).toBe(1);
    gates.get(1)!.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([1, 3]);
  });

  it('resolves idle() when the last queued items are dropped and nothing runs', async () => {
    const ex = new Executor<number>({ limit: 0, maxQueue: 10, process: async () => {} });
    ex.submit([1, 2]);
    let idle = false;
    void ex.idle().then(() => {
      idle = true;
    });
    ex.drop(() => true);
    await Promise.resolve();
    expect(idle).toBe(true);
  });

  it('raising the limit live starts waiting items at once; lowering lets running ones finish', async () => {
    const { ex, gates, started } = gatedExecutor(1);
    ex.submit([1, 2, 3, 4]);
    ex.resize(3);
    expect(started).toEqual([1, 2, 3]);
    ex.resize(1);
    expect(ex.active).toBe(3);
    gates.get(1)!.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([1, 2, 3]);
    expect(ex.active).toBe(2);
  });
});
