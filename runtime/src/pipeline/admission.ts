import { Hal9Error } from '../errors.ts';

// Whether new signals (a request's first, or a peer's batch) are taken: not while the runtime drains,
// nor when they would overfill the signal queue (performance.max_queue_depth), nor when their content
// would pass what requests in progress may hold (performance.max_in_flight_content_bytes). Pure.

/** The content the requests in progress brought, against its bound (performance.max_in_flight_content_bytes). */
export interface ContentNow {
  readonly held: number;
  readonly max: number;
}

/** The executor's slots and queue, as admission reads them. */
export interface SlotsNow {
  readonly limit: number;
  readonly active: number;
  /** Signals waiting in the executor's queue. */
  readonly queued: number;
  readonly maxQueue: number;
}

/** The most a refused caller is told to wait (Retry-After), however deep the backlog. */
export const MAX_RETRY_AFTER_SECONDS = 30;

/**
 * Seconds until `waiting` signals would be served at `perSecond` (this pod's recent rate), 1 to
 * MAX_RETRY_AFTER_SECONDS: a caller told 1 s behind a queue of several seconds retried into a full
 * queue again and again. With no rate known (nothing served lately), 1.
 */
export function retryAfterFor(waiting: number, perSecond: number): number {
  if (!(perSecond > 0) || waiting <= 0) return 1;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(waiting / perSecond)));
}

/**
 * Why `incoming` new signals are refused, or undefined. The queue holds every signal waiting: for a
 * slot here (in the executor's queue, `pending` in the buffer, and the new ones the free slots do not
 * take) and on a peer pod (`peerWaiting`). Free slots take new signals, never those waiting on a peer.
 */
export function admissionRefusal(
  draining: boolean,
  incoming: number,
  slots: SlotsNow,
  pending: number,
  peerWaiting: number,
  content: ContentNow & { readonly incoming: number } = {
    held: 0,
    max: Number.POSITIVE_INFINITY,
    incoming: 0,
  },
  /** Signals this pod served per second lately (service-rate.ts), read only for a refusal. */
  servedPerSecond: () => number = () => 0,
): Hal9Error | undefined {
  if (draining) return new Hal9Error('DRAINING', undefined, { retryAfterSeconds: 1 });
  const free = Math.max(0, slots.limit - slots.active);
  const local = Math.max(0, slots.queued + pending + incoming - free);
  // How long the signals waiting ahead take to be served: what a refused caller is told to wait.
  const retryAfter = () =>
    retryAfterFor(Math.max(0, slots.queued + pending - free) + peerWaiting, servedPerSecond());
  // One request alone is always taken (its body passed server.body_limit_bytes already).
  if (content.held > 0 && content.held + content.incoming > content.max) {
    const retryAfterSeconds = retryAfter();
    return new Hal9Error(
      'QUEUE_FULL',
      `the requests in progress hold ${content.held} bytes of content, and ${content.incoming} more would pass performance.max_in_flight_content_bytes (${content.max}); retry in ${retryAfterSeconds} s`,
      { field: 'performance.max_in_flight_content_bytes', retryAfterSeconds },
    );
  }
  if (local + peerWaiting <= slots.maxQueue) return undefined;
  const retryAfterSeconds = retryAfter();
  return new Hal9Error(
    'QUEUE_FULL',
    `the signal queue is full (performance.max_queue_depth, ${slots.maxQueue}); retry in ${retryAfterSeconds} s`,
    { field: 'performance.max_queue_depth', retryAfterSeconds },
  );
}
