import { describe, expect, it } from 'vitest';
import { signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { RunRegistry } from './run-registry.ts';
import { MAX_DROPPED_IDS, RunStore, runBytes } from './run-store.ts';

/** The one signal of the runs here (a run is open while a signal of it is). */
const ONLY = signalTo('impl');

const TTL_MS = 60_000;

function setup(maxEntries: number, maxBytes = 1 << 30) {
  const clock = new ManualClock();
  const store = new RunStore({ maxEntries, maxBytes, ttlMs: TTL_MS }, clock);
  const runs = new RunRegistry(clock);
  const start = (id: string, owner?: string) => {
    const run = runs.open({
      id,
      traceId: 't',
      entry: 'impl',
      timeoutMs: 1000,
      onEnd: (r) => store.finished(r.view()),
    });
    run.open(ONLY);
    store.add(run, owner);
    return run;
  };
  const finish = (run: ReturnType<typeof start>, content = 'ok') =>
    run.close(ONLY, { results: [{ neuron: 'impl', layer: 'L2', content }] });
  return { store, start, finish, clock };
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

  it("with client keys, a full store makes room from the client holding the most, not from the others' unread results", () => {
    const { store, start, finish } = setup(4);
    finish(start('alice-1', 'alice'));
    finish(start('bob-1', 'bob'));
    // A flood by mallory: it fills the store, and then evicts its own oldest, never alice's or bob's.
    for (let i = 0; i < 10; i++) finish(start(`mallory-${i}`, 'mallory'));
    expect(store.get('alice-1')?.status).toBe('completed');
    expect(store.get('bob-1')?.status).toBe('completed');
    expect([8, 9].map((i) => store.get(`mallory-${i}`)?.status)).toEqual(['completed', 'completed']);
    expect(store.get('mallory-7')).toBeUndefined();
    expect(store.notFound('mallory-0').details.field).toBe('server.results_max_entries');
    // Alice adding one takes the room from mallory, who holds the most.
    finish(start('alice-2', 'alice'));
    expect(['alice-1', 'alice-2', 'bob-1'].map((id) => store.get(id)?.status)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    expect(store.size).toBe(4);
  });

  it('names the TTL for a run it made room from that had expired but was not freed yet', () => {
    const { store, start, finish, clock } = setup(2);
    finish(start('mallory-1', 'mallory'));
    // Past its TTL, before the next sweep (every eighth of the TTL) frees it.
    clock.advance(TTL_MS + 1);
    finish(start('alice-1', 'alice'));
    finish(start('mallory-2', 'mallory'));
    expect(store.get('alice-1')?.status).toBe('completed');
    expect(store.notFound('mallory-1').details.field).toBe('server.results_ttl_seconds');
  });

  it('with client keys, the byte limit also takes from the client holding the most bytes', () => {
    const big = 'x'.repeat(100_000); // ≈ 200 kB each as estimated: five fit in 1 MiB
    const { store, start, finish } = setup(1000, 1_048_576);
    finish(start('small', 'alice'));
    for (let i = 0; i < 8; i++) finish(start(`big-${i}`, 'mallory'), big);
    expect(store.get('small')?.status).toBe('completed');
    expect(store.get('big-7')?.results[0]?.content).toBe(big);
    expect(store.get('big-0')).toBeUndefined();
    expect(store.notFound('big-0').details.field).toBe('server.results_max_bytes');
  });

  it('with client keys, counts the run a client adds to its own bytes: its own goes before another’s unread one', () => {
    // Bob keeps one result of ≈ 1.0 MB; alice adds two of ≈ 0.9 MB to a 2 MB store. The second fits
    // only if one goes: alice's first, not bob's (alice would hold 1.8 MB, bob nothing).
    const { store, start, finish } = setup(1000, 2_000_000);
    finish(start('bob-1', 'bob'), 'b'.repeat(500_000));
    finish(start('alice-1', 'alice'), 'a'.repeat(450_000));
    finish(start('alice-2', 'alice'), 'a'.repeat(450_000));
    expect(store.get('bob-1')?.status).toBe('completed');
    expect(store.get('alice-2')?.status).toBe('completed');
    expect(store.get('alice-1')).toBeUndefined();
    expect(store.notFound('alice-1', 'alice').details.field).toBe('server.results_max_bytes');
  });

  it('tells only the client that sent it why an id is no longer kept: to another it is unknown', () => {
    const { store, start, finish } = setup(2);
    for (const id of ['a0', 'a1', 'a2']) finish(start(id, 'alice'));
    expect(store.get('a0')).toBeUndefined();
    expect(store.notFound('a0', 'alice').details.field).toBe('server.results_max_entries');
    expect(store.notFound('a0', 'bob')).toMatchObject({ details: { field: 'id' } });
    expect(store.notFound('a0', 'bob').message).toBe(
      store.notFound('never-sent', 'bob').message.replace('never-sent', 'a0'),
    );
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

  it('frees finished requests once their TTL has passed, with no lookup to find them expired', () => {
    const { store, start, finish, clock } = setup(100);
    finish(start('a'));
    clock.advance(TTL_MS / 2);
    finish(start('b'));
    expect(store.size).toBe(2);
    clock.advance(TTL_MS / 2 + TTL_MS / 8);
    expect(store.size).toBe(1);
    clock.advance(TTL_MS / 2);
    expect(store.size).toBe(0);
    expect(store.get('b')).toBeUndefined();
    // Nothing left to free: the timer stops once the ids it remembers are gone too.
    clock.advance(2 * TTL_MS);
    expect(clock.pending).toBe(0);
  });
});

describe('RunStore: a lookup of a request it does not keep', () => {
  it('names the limit that let it go: its TTL, the count or the bytes of those kept', () => {
    const byTtl = setup(100);
    byTtl.finish(byTtl.start('old'));
    byTtl.clock.advance(TTL_MS + 1);
    expect(byTtl.store.get('old')).toBeUndefined();
    expect(byTtl.store.notFound('old')).toMatchObject({
      code: 'NOT_FOUND',
      details: { field: 'server.results_ttl_seconds' },
      message: 'request old is no longer kept: it ended more than server.results_ttl_seconds (60 s) ago',
    });

    const byCount = setup(2);
    for (const id of ['c0', 'c1', 'c2']) byCount.finish(byCount.start(id));
    expect(byCount.store.get('c0')).toBeUndefined();
    expect(byCount.store.notFound('c0')).toMatchObject({
      details: { field: 'server.results_max_entries' },
      message:
        'request c0 is no longer kept: requests that ended after it filled server.results_max_entries (2)',
    });

    const byBytes = setup(100, 1_048_576);
    for (const id of ['b0', 'b1', 'b2']) byBytes.finish(byBytes.start(id), 'x'.repeat(200_000));
    expect(byBytes.store.get('b0')).toBeUndefined();
    expect(byBytes.store.notFound('b0')).toMatchObject({
      details: { field: 'server.results_max_bytes' },
      message:
        'request b0 is no longer kept: requests that ended after it filled server.results_max_bytes (1048576 bytes)',
    });
  });

  it('says an id it never kept is unknown, and which requests are kept and for how long', () => {
    const { store } = setup(100);
    expect(store.notFound('nope')).toMatchObject({
      code: 'NOT_FOUND',
      details: { field: 'id' },
      message:
        'no request nope: unknown, or no longer kept (requests sent with ?wait=false or ?stream=true are kept by id for server.results_ttl_seconds (60 s) after they end)',
    });
  });

  it(`remembers at most the latest ${MAX_DROPPED_IDS} ids it let go, for one TTL`, () => {
    const { store, start, finish, clock } = setup(1);
    for (let i = 0; i <= MAX_DROPPED_IDS + 1; i++) finish(start(`r${i}`));
    expect(store.notFound('r0').details.field).toBe('id');
    expect(store.notFound('r1').details.field).toBe('server.results_max_entries');
    clock.advance(2 * TTL_MS);
    expect(store.notFound('r1').details.field).toBe('id');
  });
});

const flush = () => new Promise((r) => setImmediate(r));

describe('RunStore: reads awaited by a drain', () => {
  it('waits for the runs still running at the drain until each is read after its end', async () => {
    const { store, start, finish } = setup(100);
    finish(start('done-before'));
    // Read before the drain: nothing to wait for.
    store.delivered('done-before');
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

  it('waits for a run that ended before the drain and was not read yet, not for one read or no longer kept', async () => {
    const { store, start, finish, clock } = setup(2);
    finish(start('read'));
    store.delivered('read');
    finish(start('unread'));
    finish(start('evicted'));
    const reads = store.awaitReads();
    // 'read' went when 'evicted' ended (two are kept); 'unread' and 'evicted' wait for their callers.
    expect(reads.size).toBe(2);
    let unread: number | undefined;
    void reads.wait(new ManualClock(), 5000).then((n) => (unread = n));
    expect(store.get('unread')?.status).toBe('completed');
    store.delivered('unread');
    // A run the store lets go (here: its TTL passed) can no longer be read: it is not waited for.
    clock.advance(TTL_MS + TTL_MS / 8);
    await flush();
    expect(unread).toBe(0);
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
