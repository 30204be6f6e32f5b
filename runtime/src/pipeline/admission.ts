import { Hal9Error } from '../errors.ts';

// Whether new signals (a request's first, or a peer's batch) are taken: not while the runtime drains,
// nor when they would overfill the signal queue (performance.max_queue_depth). Pure.

/** The executor's slots and queue, as admission reads them. */
export interface SlotsNow {
  readonly limit: number;
  readonly active: number;
  /** Signals waiting in the executor's queue. */
  readonly queued: number;
  readonly maxQueue: number;
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
): Hal9Error | undefined {
  if (draining) return new Hal9Error('DRAINING', undefined, { retryAfterSeconds: 1 });
  const free = Math.max(0, slots.limit - slots.active);
  const local = Math.max(0, slots.queued + pending + incoming - free);
  if (local + peerWaiting <= slots.maxQueue) return undefined;
  return new Hal9Error(
    'QUEUE_FULL',
    `the signal queue is full (performance.max_queue_depth, ${slots.maxQueue}); retry later`,
    { field: 'performance.max_queue_depth', retryAfterSeconds: 1 },
  );
}
