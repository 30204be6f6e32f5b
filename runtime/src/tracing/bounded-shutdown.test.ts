import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { shutdownWithin } from './bounded-shutdown.ts';

describe('shutdownWithin (the trace exporter’s final flush)', () => {
  it('reports a flush that finished in time', async () => {
    const clock = new ManualClock();
    expect(await shutdownWithin(async () => {}, clock, 2000)).toEqual({ flushed: true });
    expect(clock.pending).toBe(0);
  });

  it('turns a rejected flush (a collector refusing connections) into a reason, never a rejection', async () => {
    const clock = new ManualClock();
    const out = await shutdownWithin(() => Promise.reject(new Error('connect ECONNREFUSED')), clock, 2000);
    expect(out).toEqual({ flushed: false, reason: 'connect ECONNREFUSED' });
    const thrown = await shutdownWithin(
      () => {
        throw new Error('sync');
      },
      clock,
      2000,
    );
    expect(thrown).toEqual({ flushed: false, reason: 'sync' });
  });

  it('gives up at its deadline on a flush that hangs, and absorbs the flush’s later failure', async () => {
    const clock = new ManualClock();
    let fail!: (e: Error) => void;
    const out = shutdownWithin(() => new Promise<void>((_, reject) => (fail = reject)), clock, 2000);
    clock.advance(1999);
    let settled = false;
    void out.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await out).toEqual({ flushed: false, reason: 'the trace exporter did not finish within 2000 ms' });
    // No unhandled rejection when the exporter gives up after the process stopped waiting.
    fail(new Error('timeout'));
    await new Promise((r) => setImmediate(r));
  });
});
