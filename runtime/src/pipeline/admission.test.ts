import { describe, expect, it } from 'vitest';
import { admissionRefusal, type SlotsNow } from './admission.ts';

const slots = (o: Partial<SlotsNow> = {}): SlotsNow => ({
  limit: 2,
  active: 0,
  queued: 0,
  maxQueue: 3,
  ...o,
});

describe('admissionRefusal', () => {
  it('refuses everything while draining', () => {
    expect(admissionRefusal(true, 1, slots(), 0, 0)).toMatchObject({
      code: 'DRAINING',
      details: { retryAfterSeconds: 1 },
    });
  });

  it.each([
    ['free slots take new signals before the queue counts them', 5, slots(), 0, 0, undefined],
    ['one past the queue', 6, slots(), 0, 0, 'QUEUE_FULL'],
    ['signals waiting in the buffer count', 1, slots({ active: 2 }), 3, 0, 'QUEUE_FULL'],
    ['signals in the executor’s queue count', 1, slots({ active: 2, queued: 3 }), 0, 0, 'QUEUE_FULL'],
    ['free slots never take signals waiting on a peer', 2, slots(), 0, 3, undefined],
    ['signals waiting on a peer fill the queue too', 3, slots(), 0, 3, 'QUEUE_FULL'],
  ])('%s', (_, incoming, now, pending, peerWaiting, code) => {
    const refused = admissionRefusal(false, incoming, now, pending, peerWaiting);
    expect(refused?.code).toBe(code);
    if (refused)
      expect(refused).toMatchObject({
        message: 'the signal queue is full (performance.max_queue_depth, 3); retry later',
        details: { field: 'performance.max_queue_depth', retryAfterSeconds: 1 },
      });
  });

  it('refuses content past what requests in progress may hold, but always takes a request alone', () => {
    const refused = admissionRefusal(false, 1, slots(), 0, 0, { held: 700, max: 1000, incoming: 400 });
    expect(refused).toMatchObject({
      code: 'QUEUE_FULL',
      message:
        'the requests in progress hold 700 bytes of content, and 400 more would pass performance.max_in_flight_content_bytes (1000); retry later',
      details: { field: 'performance.max_in_flight_content_bytes', retryAfterSeconds: 1 },
    });
    expect(
      admissionRefusal(false, 1, slots(), 0, 0, { held: 600, max: 1000, incoming: 400 }),
    ).toBeUndefined();
    // Nothing held: one over the bound is still taken (its body passed the body limit).
    expect(admissionRefusal(false, 1, slots(), 0, 0, { held: 0, max: 1000, incoming: 5000 })).toBeUndefined();
  });
});
