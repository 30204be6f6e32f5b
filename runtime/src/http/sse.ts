import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.ts';
import type { Clock, Timer } from '../pipeline/clock.ts';
import type { RequestRun, RunEvent } from '../pipeline/request-run.ts';

// Server-sent events of one request: `trace` per finished signal, `result` per result, `end` last.
// Ids are the run's event numbers, so a client reconnecting with Last-Event-ID gets what it missed.
//
// Backpressure: the stream writes while the socket takes it; once a write says the socket's buffer is
// full, it waits for 'drain' and then writes on from its cursor, reading the events the run keeps
// (RequestRun.event). So the stream holds a cursor, never copies, and many events written in one
// turn (a replay, a peer's sub-tree arriving whole) reach a reader that keeps up at its own pace.
//
// A reader that does not keep up never slows the pipeline: while the stream waits for a drain, the
// events that arrive after the turn it began waiting in are what the reader leaves unsent; past
// `maxBufferedBytes` of them the stream ends with an `error` event (STREAM_OVERFLOW) and the request
// goes on. The latest event is not counted, so one event larger than the limit still reaches a reader
// that keeps up; nor is what was already there when the wait began (its own burst or replay). A reader
// that takes nothing for a whole heartbeat interval while events wait gets STREAM_OVERFLOW too (it
// would otherwise hold the run, and its kept events, for as long as it keeps the connection). A reader
// so far behind that its next event is no longer kept (only the latest 10,000 are) gets EVENTS_EXPIRED.
//
// Progress is what is left to send going down, not only a 'drain' (which comes once all of it is
// sent). A socket's buffer goes down only as whole writes complete, and what one turn writes to a
// chunked response leaves as one write (Node corks it for the turn): so a large event is written in
// slices of WRITE_SLICE_BYTES, each once the one before it is in the kernel, and a reader that takes
// a big event steadily but slowly is seen taking it, not cut off as stalled. What is written while
// slices are out (the end, an error) waits behind them.
//
// However a stream ends, what its reader has not taken yet (the events written before the end, the
// `error` frame) is held in this process until the reader takes it: a reader that takes none of it for
// a whole heartbeat interval has its connection destroyed, so those bytes and the socket are freed
// (a reader that stopped reading would otherwise hold them for as long as it keeps the connection).

export interface SseOptions {
  readonly clock: Clock;
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
}

/** The most one socket write holds: what is left to send then goes down as each slice is taken. */
export const WRITE_SLICE_BYTES = 64 * 1024;

const frame = (e: RunEvent): string => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
const errorFrame = (code: ErrorCode, message: string): string =>
  `event: error\ndata: ${JSON.stringify({ code, message })}\n\n`;
const expired = (run: RequestRun, after: number): string =>
  errorFrame('EVENTS_EXPIRED', `events after ${after} are no longer kept; GET /v1/signals/${run.id}`);

/** The head of a run's event stream (a HEAD request gets it alone). */
export function streamHead(run: RequestRun): Record<string, string> {
  const traced = run.span?.traceresponse();
  return {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // No `connection`: Node's own (keep-alive, or close when the request asked for it) must stand.
    'x-accel-buffering': 'no',
    // The request's trace (W3C traceresponse), for a reader that correlates it with its own.
    ...(traced ? { traceresponse: traced } : {}),
  };
}

/** `onEnd`: the stream has written the run's `end` event (its reader has seen how it ended). */
export function streamRun(
  res: ServerResponse,
  run: RequestRun,
  lastEventId: number,
  o: SseOptions,
  onEnd?: () => void,
): void {
  // A caller gone before its stream started (it closed after the body, while the auth hook ran): its
  // 'close' has fired already, so nothing would stop the heartbeat or count its end as read. The
  // request runs on, kept by id, for the caller to come back to.
  if (res.destroyed) return;
  res.writeHead(200, streamHead(run));
  // The reconnect delay a client should use, then a first byte so proxies see the stream open.
  res.write(`retry: 1000\n: ${run.id}\n\n`);
  // The stream reads missed events back from the run while it waits for a drain.
  run.record();
  let heartbeat: Timer | undefined;
  /** After the end: checks each heartbeat interval that the reader takes what is left. */
  let reaper: Timer | undefined;
  let unsubscribe: (() => void) | undefined;
  let ended = false;
  /** The id of the latest event written. */
  let cursor = lastEventId;
  /** Waiting for 'drain': events are left in the run, and written from the cursor on. */
  let waiting = false;
  /** While waiting, events with an id above this are the reader's lag (undefined: still the first turn). */
  let countAfter: number | undefined;
  /** Bytes of those events not yet written. */
  let lagBytes = 0;
  /**
   * While waiting: the events after the cursor, as they came (from `heldAt` on). The run keeps only
   * its latest MAX_RECORDED_EVENTS, which one burst can pass (an answer gives up to 100 results), and
   * a reader that keeps up must get every event whatever the burst's size; later turns are bounded by
   * the lag above. References to the run's own events, no copies.
   */
  let held: RunEvent[] = [];
  let heldAt = 0;
  /**
   * The reader took something since the last heartbeat (a drain, or less left to send than then:
   * `left`); `stalled`: it did not in the interval before either.
   */
  let drained = false;
  let left = 0;
  let stalled = false;
  /** Slices of a large frame (or what came after it) not written yet; `sending`: one is in the socket. */
  const slices: Buffer[] = [];
  let sliceBytes = 0;
  let sending = false;
  /** The stream has ended: the response ends once the slices are out. */
  let endAfterSlices = false;
  /** What is left to send: the socket's buffer and the slices not written yet. */
  const unsent = () => res.writableLength + sliceBytes;
  /** Writes `text`, a large one (or any behind one) in slices; false when the stream must wait. */
  const send = (text: string): boolean => {
    // Characters are at most 3 UTF-8 bytes each (4 for a surrogate pair's two).
    if (!sending && text.length * 3 <= WRITE_SLICE_BYTES) return res.write(text);
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += WRITE_SLICE_BYTES) {
      const slice = bytes.subarray(at, at + WRITE_SLICE_BYTES);
      slices.push(slice);
      sliceBytes += slice.length;
    }
    if (!sending) sendSlice();
    return false;
  };
  /** Writes the next slice; once all are out, ends the response or writes on from the cursor. */
  const sendSlice = (): void => {
    const slice = slices.shift();
    if (!slice) {
      sending = false;
      if (endAfterSlices) res.end();
      else resume();
      return;
    }
    sliceBytes -= slice.length;
    sending = true;
    res.write(slice, (err) => {
      if (!err && !res.destroyed) sendSlice();
    });
  };
  const overflow = (why: string) =>
    finish(errorFrame('STREAM_OVERFLOW', `the client read too slowly (${why})`));

  const finish = (last?: string) => {
    if (ended) return;
    ended = true;
    o.clock.clearTimeout(heartbeat);
    unsubscribe?.();
    res.off('drain', resume);
    // A reader that closed the connection has freed what it held: nothing to write or reap (a reaper
    // would hold the stream, and the run, for a heartbeat interval more).
    if (res.destroyed) return;
    if (last) send(last);
    if (sending) endAfterSlices = true;
    else res.end();
    if (!res.writableFinished) reapUnlessTaken(unsent());
  };
  /**
   * Ends the connection of a reader that stopped reading, with a reset: closed gracefully, its socket
   * would linger in the kernel (FIN-WAIT-1) with the unsent bytes (megabytes) for minutes.
   */
  const abort = () => {
    const socket = res.socket as (Socket & { resetAndDestroy?: () => void }) | null | undefined;
    if (socket?.resetAndDestroy) socket.resetAndDestroy();
    else res.destroy();
  };
  /** Destroys the connection when the reader took nothing of the `left` unsent bytes in an interval. */
  const reapUnlessTaken = (left: number) => {
    reaper = o.clock.setTimeout(() => {
      reaper = undefined;
      if (res.writableFinished || res.destroyed) return;
      const now = unsent();
      if (now < left) reapUnlessTaken(now);
      else abort();
    }, o.heartbeatMs);
  };
  /** Writes one event; false when the socket's buffer is full (then the stream waits for a drain). */
  const write = (e: RunEvent): boolean => {
    const text = frame(e);
    cursor = e.id;
    if (countAfter !== undefined && e.id > countAfter) lagBytes -= Buffer.byteLength(text);
    const more = send(text);
    if (e.type === 'end') {
      finish();
      onEnd?.();
    }
    return more;
  };
  const wait = () => {
    waiting = true;
    countAfter = undefined;
    lagBytes = 0;
    held = [];
    heldAt = 0;
    // What the run emits in this turn is its own burst; the reader's lag counts from the next turn.
    setImmediate(() => {
      if (waiting && !ended && countAfter === undefined) countAfter = run.lastEventId;
    });
  };
  /** The socket drained: write on from the cursor until caught up or the buffer is full again. */
  function resume(): void {
    // While slices are out, the last one's completion resumes (a drain between two slices is not one).
    if (ended || sending) return;
    drained = true;
    while (cursor < run.lastEventId) {
      while (heldAt < held.length && held[heldAt]!.id <= cursor) heldAt++;
      const e = held[heldAt]?.id === cursor + 1 ? held[heldAt++] : run.event(cursor + 1);
      if (!e) {
        finish(expired(run, cursor));
        return;
      }
      if (!write(e) || ended) {
        if (heldAt > 1024 && heldAt * 2 > held.length) {
          held = held.slice(heldAt);
          heldAt = 0;
        }
        return;
      }
    }
    waiting = false;
    countAfter = undefined;
    lagBytes = 0;
    held = [];
    heldAt = 0;
  }
  const beat = () => {
    // Two heartbeats in a row with nothing taken while events wait: a whole interval with nothing taken.
    const now = unsent();
    if (waiting && !drained && now >= left) {
      if (stalled) {
        overflow(`it took nothing for ${o.heartbeatMs} ms`);
        return;
      }
      stalled = true;
    } else stalled = false;
    drained = false;
    left = now;
    if (!waiting) res.write(': ping\n\n');
    heartbeat = o.clock.setTimeout(beat, o.heartbeatMs);
  };
  res.on('close', () => {
    o.clock.clearTimeout(reaper);
    finish();
  });
  res.on('drain', resume);
  unsubscribe = run.subscribe((e) => {
    if (ended || e.id <= cursor) return;
    if (waiting) {
      if (countAfter !== undefined && e.id > countAfter) {
        // The unsent events before this one, while the reader has not drained since the last turn.
        if (lagBytes > o.maxBufferedBytes) {
          overflow(`over ${o.maxBufferedBytes} bytes waiting`);
          return;
        }
        lagBytes += Buffer.byteLength(frame(e));
      }
      held.push(e);
      return;
    }
    if (!write(e) && !ended) wait();
  }, lastEventId);
  if (unsubscribe === undefined) {
    finish(expired(run, lastEventId));
    return;
  }
  if (!ended) heartbeat = o.clock.setTimeout(beat, o.heartbeatMs);
}
