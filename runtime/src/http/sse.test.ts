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
  buffered = 0;
  ended = false;
  readonly room: number;
  constructor(room: number) {
    super();
    this.room = room;
  }
  writeHead(): this {
    return this;
  }
  /** The byte length of each write. */
  readonly writes: number[] = [];
  readonly bytes: Buffer[] = [];
  write(chunk: string | Buffer): boolean {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.bytes.push(b);
    this.writes.push(b.length);
    this.text = Buffer.concat(this.bytes).toString();
    this.buffered += b.length;
    return this.buffered < this.room;
  }
  /** The reader took `n` bytes, not all: no 'drain' yet. */
  take(n: number): void {
    this.buffered = Math.max(0, this.buffered - n);
  }
  destroyed = false;
  end(): void {
    this.ended = true;
  }
  /** Ended, and the reader took everything. */
  get writableFinished(): boolean {
    return this.ended && this.buffered === 0;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  get writableLength(): number {
    return this.buffered;
  }
  /** The reader took everything buffered. */
  drain(): void {
    this.buffered = 0;
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
    s.res.buffered = 0;
    s.res.emit('drain');
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
    // Far more than two heartbeat intervals, each with a slice taken and the buffer never empty.
    for (let i = 0; i < 12 && s.res.buffered > WRITE_SLICE_BYTES; i++) {
      s.res.take(WRITE_SLICE_BYTES);
      s.clock.advance(1000);
      expect(s.res.text).not.toContain('STREAM_OVERFLOW');
    }
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
    expect(Math.max(...s.res.writes)).toBeLessThanOrEqual(WRITE_SLICE_BYTES);
    expect(s.res.writes.filter((n) => n === WRITE_SLICE_BYTES)).toHaveLength(5);
    const data = /^event: result\ndata: (.*)$/m.exec(s.res.text)?.[1];
    expect(JSON.parse(data ?? 'null')).toMatchObject({ content });
  });

  it('ends with EVENTS_EXPIRED when the next event to write is no longer kept', async () => {
    const s = setup({ room: 1000, maxBufferedBytes: 1_000_000_000 });
    s.results(10_100, 1); // one turn: the first events leave the run's 10,000 before they are written
    await nextTurn();
    s.res.drain();
    expect(s.res.ended).toBe(true);
    expect(s.res.text).toContain('EVENTS_EXPIRED');
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
    for (let i = 0; i < 5; i++) {
      s.res.buffered = Math.floor(s.res.buffered / 2);
      s.clock.advance(1000);
      expect(s.res.destroyed).toBe(false);
    }
    s.res.buffered = 0;
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
