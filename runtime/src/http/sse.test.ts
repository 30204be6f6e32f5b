import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { openRun } from '../testing/open-run.ts';
import { streamRun, WRITE_SLICE_BYTES } from './sse.ts';

/** The one signal of the runs here (a run is open while a signal of it is). */
const ONLY = signalTo('impl');

// The event stream's backpressure against a socket that takes `room` bytes and then asks to wait for
// 'drain', with a manual clock for the heartbeats. Turns are real (setImmediate): what one turn emits
// is a burst, what later turns emit while the stream waits is the reader's lag.

class FakeSocket extends EventEmitter {
  text = '';
  ended = false;
  destroyed = false;
  readonly room: number;
  /** The byte length of each write. */
  readonly writes: number[] = [];
  readonly bytes: Buffer[] = [];
  /**
   * What the socket sends as one write: all a turn wrote (Node corks a chunked response for the rest
   * of its turn). Its length counts in writableLength until the whole of it is taken, as in a socket.
   */
  readonly #units: { size: number; left: number; done: (() => void)[] }[] = [];
  #open: { size: number; left: number; done: (() => void)[] } | undefined;
  constructor(room: number) {
    super();
    this.room = room;
  }
  writeHead(): this {
    return this;
  }
  write(chunk: string | Buffer, done?: (err?: Error) => void): boolean {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.bytes.push(b);
    this.writes.push(b.length);
    this.text = Buffer.concat(this.bytes).toString();
    if (!this.#open) {
      const unit = { size: 0, left: 0, done: [] as (() => void)[] };
      this.#open = unit;
      this.#units.push(unit);
      setImmediate(() => {
        if (this.#open === unit) this.#open = undefined;
      });
    }
    this.#open.size += b.length;
    this.#open.left += b.length;
    if (done) this.#open.done.push(done);
    return this.buffered < this.room;
  }
  end(): void {
    this.ended = true;
  }
  /** Bytes the reader has not taken. */
  get buffered(): number {
    return this.#units.reduce((n, u) => n + u.left, 0);
  }
  /** Ended, and the reader took everything. */
  get writableFinished(): boolean {
    return this.ended && this.#units.length === 0;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  get writableLength(): number {
    return this.#units.reduce((n, u) => n + u.size, 0);
  }
  /** The reader took `n` bytes: writes taken whole complete (their callbacks run); no 'drain'. */
  take(n: number): void {
    while (n > 0 && this.#units.length > 0) {
      const unit = this.#units[0]!;
      const taken = Math.min(n, unit.left);
      unit.left -= taken;
      n -= taken;
      if (unit.left > 0) break;
      this.#units.shift();
      if (this.#open === unit) this.#open = undefined;
      for (const done of unit.done) done();
    }
  }
  /** The reader took the oldest write whole. */
  takeOne(): void {
    this.take(this.#units[0]?.left ?? 0);
  }
  /** The reader took everything buffered. */
  drain(): void {
    this.take(this.buffered);
    this.emit('drain');
  }
}

const nextTurn = () => new Promise((r) => setImmediate(r));

function setup(o: { room: number; maxBufferedBytes: number; heartbeatMs?: number }) {
  const clock = new ManualClock();
  const run = openRun(clock, ONLY);
  const res = new FakeSocket(o.room);
  let delivered = false;
  streamRun(
    res as unknown as ServerResponse,
    run,
    0,
    { clock, heartbeatMs: o.heartbeatMs ?? 1000, maxBufferedBytes: o.maxBufferedBytes },
    () => (delivered = true),
  );
  const results = (n: number, size = 100) =>
    run.progress(
      {
        results: Array.from({ length: n }, (_, i) => ({
          neuron: 'w',
          layer: 'L2' as const,
          content: `${i}`.padEnd(size),
        })),
      },
      ONLY,
    );
  const ids = () => [...res.text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  return { clock, run, res, results, ids, delivered: () => delivered };
}

describe('streamRun on a connection already closed', () => {
  it('writes nothing, arms no heartbeat and never counts the end as read', () => {
    const clock = new ManualClock();
    const run = openRun(clock, ONLY);
    const res = new FakeSocket(1000);
    res.destroyed = true;
    let delivered = false;
    const timers = clock.pending;
    streamRun(
      res as unknown as ServerResponse,
      run,
      0,
      { clock, heartbeatMs: 1000, maxBufferedBytes: 2000 },
      () => (delivered = true),
    );
    expect(clock.pending).toBe(timers);
    run.close(ONLY, { results: [{ neuron: 'w', layer: 'L2', content: 'done' }] });
    expect(res.text).toBe('');
    expect(delivered).toBe(false);
  });
});

describe('streamRun backpressure', () => {
  it('writes a burst far over the limit to a reader that keeps up, from its cursor at each drain', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 2000 });
    s.results(500); // ~65 KB in one turn
    s.run.close(ONLY);
    expect(s.ids().length).toBeLessThan(20);
    for (let i = 0; i < 200 && !s.res.ended; i++) {
      await nextTurn();
      s.res.drain();
    }
    expect(s.res.text).not.toContain('event: error');
    expect(s.ids()).toEqual(Array.from({ length: 501 }, (_, i) => i + 1));
    expect(s.res.text).toContain('event: end');
    expect(s.delivered()).toBe(true);
  });

  it('ends with STREAM_OVERFLOW once the events of later turns left unsent pass the limit', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 2000 });
    s.results(20); // fills the socket: the stream waits
    await nextTurn();
    for (let turn = 0; turn < 30 && !s.res.ended; turn++) {
      s.results(1);
      await nextTurn();
    }
    expect(s.res.ended).toBe(true);
    expect(s.res.text).toContain('STREAM_OVERFLOW');
    expect(s.res.text).toContain('over 2000 bytes waiting');
    expect(s.res.text).not.toContain('event: end');
    // The request goes on.
    expect(s.run.running).toBe(true);
  });

  it('does not count what a reader that drains meanwhile has taken', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 2000 });
    for (let turn = 0; turn < 100; turn++) {
      s.results(3);
      await nextTurn();
      s.res.drain();
    }
    s.run.close(ONLY);
    await nextTurn();
    s.res.drain();
    expect(s.res.text).not.toContain('event: error');
    expect(s.ids()).toHaveLength(301);
  });

  it('ends a reader that takes nothing for a whole heartbeat interval while events wait', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 1_000_000, heartbeatMs: 1000 });
    s.results(50);
    s.run.close(ONLY);
    await nextTurn();
    // A drain in each interval: a slow reader, not a stalled one.
    s.clock.advance(1000);
    s.res.drain();
    s.clock.advance(1000);
    expect(s.res.ended).toBe(false);
    // Two heartbeats with nothing taken.
    s.clock.advance(1000);
    expect(s.res.ended).toBe(false);
    s.clock.advance(1000);
    expect(s.res.ended).toBe(true);
    expect(s.res.text).toContain('STREAM_OVERFLOW');
    expect(s.res.text).toContain('it took nothing for 1000 ms');
  });

  it('keeps a reader that takes one large event slowly, part of it in each interval, with no drain until the end', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 1_000_000, heartbeatMs: 1000 });
    s.results(1, 600_000);
    s.run.close(ONLY);
    await nextTurn();
    // Far more than two heartbeat intervals, each with a slice's worth taken (a whole write done in
    // each) and the buffer never empty; the stream ends once the last slice is taken.
    for (let i = 0; i < 40 && !s.res.ended; i++) {
      s.res.take(WRITE_SLICE_BYTES);
      s.clock.advance(1000);
      expect(s.res.text).not.toContain('STREAM_OVERFLOW');
    }
    expect(s.res.ended).toBe(true);
    s.res.drain();
    expect(s.res.text).not.toContain('event: error');
    expect(s.res.text).toContain('event: end');
    expect(s.delivered()).toBe(true);
  });

  it('writes a large event in slices, its multi-byte characters whole', async () => {
    const s = setup({ room: 10_000_000, maxBufferedBytes: 1_000_000 });
    const content = 'é🚀x'.repeat(50_000);
    s.run.progress({ results: [{ neuron: 'w', layer: 'L2' as const, content }] }, ONLY);
    await nextTurn();
    // One slice in the socket at a time: the next once the reader took it.
    expect(s.res.writes.filter((n) => n === WRITE_SLICE_BYTES)).toHaveLength(1);
    for (let i = 0; i < 10; i++) {
      await nextTurn();
      s.res.takeOne();
    }
    expect(Math.max(...s.res.writes)).toBeLessThanOrEqual(WRITE_SLICE_BYTES);
    expect(s.res.writes.filter((n) => n === WRITE_SLICE_BYTES)).toHaveLength(5);
    const data = /^event: result\ndata: (.*)$/m.exec(s.res.text)?.[1];
    expect(JSON.parse(data ?? 'null')).toMatchObject({ content });
  });

  it('writes a burst of more events than the run keeps to a reader that keeps up', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 2000 });
    // One turn: the first events leave the run's latest 10,000 before the stream can write them.
    s.results(10_100, 1);
    s.run.close(ONLY);
    for (let i = 0; i < 5000 && !s.res.ended; i++) {
      await nextTurn();
      s.res.drain();
    }
    expect(s.res.text).not.toContain('event: error');
    expect(s.ids()).toEqual(Array.from({ length: 10_101 }, (_, i) => i + 1));
    expect(s.delivered()).toBe(true);
  });

  it('ends with EVENTS_EXPIRED a stream resumed after an event the run no longer keeps', () => {
    const clock = new ManualClock();
    const run = openRun(clock, ONLY);
    run.record();
    run.progress(
      {
        results: Array.from({ length: 10_100 }, () => ({ neuron: 'w', layer: 'L2' as const, content: 'x' })),
      },
      ONLY,
    );
    const res = new FakeSocket(1000);
    streamRun(res as unknown as ServerResponse, run, 5, { clock, heartbeatMs: 1000, maxBufferedBytes: 2000 });
    expect(res.ended).toBe(true);
    expect(res.text).toContain('EVENTS_EXPIRED');
  });

  it('destroys the connection of a reader that takes nothing of what is left after an overflow', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 2000, heartbeatMs: 1000 });
    s.results(20); // fills the socket: the stream waits
    await nextTurn();
    for (let turn = 0; turn < 30 && !s.res.ended; turn++) {
      s.results(1);
      await nextTurn();
    }
    expect(s.res.text).toContain('STREAM_OVERFLOW');
    // Ended, with bytes unsent: the end alone frees nothing while the reader takes nothing.
    expect(s.res.ended).toBe(true);
    expect(s.res.destroyed).toBe(false);
    s.clock.advance(999);
    expect(s.res.destroyed).toBe(false);
    s.clock.advance(1);
    expect(s.res.destroyed).toBe(true);
  });

  it('leaves the connection of a reader that takes what is left, however slowly', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 2000, heartbeatMs: 1000 });
    s.results(20);
    await nextTurn();
    for (let turn = 0; turn < 30 && !s.res.ended; turn++) {
      s.results(1);
      await nextTurn();
    }
    expect(s.res.ended).toBe(true);
    // Some of it in each interval: a slow reader, not a stalled one.
    while (s.res.buffered > 0) {
      s.res.takeOne();
      s.clock.advance(1000);
      expect(s.res.destroyed).toBe(false);
    }
    s.clock.advance(10_000);
    expect(s.res.destroyed).toBe(false);
  });

  it('leaves no timer behind when the reader closes the connection mid-stream, events waiting or not', async () => {
    for (const room of [100_000, 500]) {
      const s = setup({ room, maxBufferedBytes: 1_000_000, heartbeatMs: 1000 });
      s.results(10);
      await nextTurn();
      // The run's deadline, and the stream's heartbeat.
      const armed = s.clock.pending;
      s.res.destroy();
      // The heartbeat goes, and no reaper comes: what the stream held goes with the connection.
      expect(s.clock.pending).toBe(armed - 1);
      s.run.close(ONLY);
      expect(s.res.text).not.toContain('event: end');
      expect(s.delivered()).toBe(false);
    }
  });

  it('destroys the connection of a reader that stopped reading before the end of a completed request', async () => {
    const s = setup({ room: 100_000, maxBufferedBytes: 1_000_000, heartbeatMs: 1000 });
    s.results(10);
    s.run.close(ONLY);
    await nextTurn();
    expect(s.res.text).toContain('event: end');
    expect(s.res.ended).toBe(true);
    s.clock.advance(1000);
    expect(s.res.destroyed).toBe(true);
  });
});
