import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.ts';
import type { Clock, Timer } from '../pipeline/clock.ts';
import type { RequestRun, RunEvent } from '../pipeline/request-run.ts';

// Server-sent events of one request: `trace` per finished signal, `result` per result, `end` last.
// Ids are the run's event numbers, so a client reconnecting with Last-Event-ID gets what it missed.
// A reader that does not keep up never slows the pipeline: past `maxBufferedBytes` of unsent data the
// stream ends with an `error` event (STREAM_OVERFLOW) and the request itself goes on. The latest event
// is not counted: what the socket has not yet sent of an event just written says nothing about the
// reader, so one event larger than the limit still reaches a reader that keeps up.

export interface SseOptions {
  readonly clock: Clock;
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
}

const frame = (e: RunEvent): string => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
const errorFrame = (code: ErrorCode, message: string): string =>
  `event: error\ndata: ${JSON.stringify({ code, message })}\n\n`;

/** `onEnd`: the stream has written the run's `end` event (its reader has seen how it ended). */
export function streamRun(
  res: ServerResponse,
  run: RequestRun,
  lastEventId: number,
  o: SseOptions,
  onEnd?: () => void,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // The reconnect delay a client should use, then a first byte so proxies see the stream open.
  res.write(`retry: 1000\n: ${run.id}\n\n`);
  let heartbeat: Timer | undefined;
  let unsubscribe: (() => void) | undefined;
  let ended = false;
  const finish = (last?: string) => {
    if (ended) return;
    ended = true;
    o.clock.clearTimeout(heartbeat);
    unsubscribe?.();
    if (last) res.write(last);
    res.end();
  };
  const beat = () => {
    res.write(': ping\n\n');
    heartbeat = o.clock.setTimeout(beat, o.heartbeatMs);
  };
  res.on('close', () => finish());
  let latestBytes = 0;
  unsubscribe = run.subscribe((e) => {
    if (ended) return;
    if (res.writableLength - latestBytes > o.maxBufferedBytes) {
      finish(
        errorFrame(
          'STREAM_OVERFLOW',
          `the client read too slowly (over ${o.maxBufferedBytes} bytes waiting)`,
        ),
      );
      return;
    }
    const text = frame(e);
    latestBytes = Buffer.byteLength(text);
    res.write(text);
    if (e.type === 'end') {
      finish();
      onEnd?.();
    }
  }, lastEventId);
  if (unsubscribe === undefined) {
    finish(
      errorFrame(
        'EVENTS_EXPIRED',
        `events after ${lastEventId} are no longer kept; GET /v1/signals/${run.id}`,
      ),
    );
    return;
  }
  if (!ended) heartbeat = o.clock.setTimeout(beat, o.heartbeatMs);
}
