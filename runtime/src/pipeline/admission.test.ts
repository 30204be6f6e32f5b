import { describe, expect, it } from 'vitest';
import { admissionRefusal, MAX_RETRY_AFTER_SECONDS, retryAfterFor, type SlotsNow } from './admission.ts';

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
        message: 'the signal queue is full (performance.max_queue_depth, 3); retry in 1 s',
        details: { field: 'performance.max_queue_depth', retryAfterSeconds: 1 },
      });
  });

  it('refuses content past what requests in progress may hold, but always takes a request alone', () => {
    const refused = admissionRefusal(false, 1, slots(), 0, 0, { held: 700, max: 1000, incoming: 400 });
    expect(refused).toMatchObject({
      code: 'QUEUE_FULL',
      message:
        'the requests in progress hold 700 bytes of content, and 400 more would pass performance.max_in_flight_content_bytes (1000); retry in 1 s',
      details: { field: 'performance.max_in_flight_content_bytes', retryAfterSeconds: 1 },
    });
    expect(
      admissionRefusal(false, 1, slots(), 0, 0, { held: 600, max: 1000, incoming: 400 }),
    ).toBeUndefined();
    // Nothing held: one over the bound is still taken (its body passed the body limit).
    expect(admissionRefusal(false, 1, slots(), 0, 0, { held: 0, max: 1000, incoming: 5000 })).toBeUndefined();
  });

  it('tells a refused caller how long the signals waiting ahead take at the rate lately served', () => {
    // 200 waiting (queue full at 200), 80 served a second: 2.5 s, told 3.
    const full = slots({ limit: 4, active: 4, queued: 200, maxQueue: 200 });
    expect(admissionRefusal(false, 1, full, 0, 0, undefined, () => 80)).toMatchObject({
      message: 'the signal queue is full (performance.max_queue_depth, 200); retry in 3 s',
      details: { retryAfterSeconds: 3 },
    });
    // Those waiting on peers are ahead too.
    expect(admissionRefusal(false, 1, full, 0, 400, undefined, () => 80)?.details.retryAfterSeconds).toBe(8);
    // A slow drain is held to the most a caller is told; nothing served lately says nothing: 1.
    expect(retryAfterFor(10_000, 1)).toBe(MAX_RETRY_AFTER_SECONDS);
    expect(retryAfterFor(200, 0)).toBe(1);
    expect(retryAfterFor(0, 80)).toBe(1);
    expect(retryAfterFor(10, 1e6)).toBe(1);
  });
});
