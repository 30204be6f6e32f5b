import { afterEach, describe, expect, it, vi } from 'vitest';
import { type HeldAnswers, startWithHeldAnswers } from './support/held-answers.ts';
import type { Started } from './support/runtime.ts';

// PUT /v1/admin/performance changes each live knob in effect, not only in the values it answers:
// the upstream permits (max_concurrent_neurons) and the queue bound (max_queue_depth). The answers
// are held behind a gate, so what is in flight is what the test says, however slow the machine.

let started: HeldAnswers | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

async function start(performance: Record<string, unknown>) {
  started = await startWithHeldAnswers(performance);
  return started;
}

const accepted = (r: Started, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => r.post('/v1/signals?wait=false', { content: `s${i}` })));

describe('live tuning takes effect', () => {
  it('max_concurrent_neurons lowered at run time bounds the upstream calls in flight', async () => {
    const { hold, fake, rt } = await start({ max_concurrent_signals: 8, max_concurrent_neurons: 4 });
    const put = await rt.put('/v1/admin/performance', { max_concurrent_neurons: 1 });
    expect([put.status, put.body.max_concurrent_neurons]).toEqual([200, 1]);
    expect((await accepted(rt, 4)).map((r) => r.status)).toEqual([202, 202, 202, 202]);
    await vi.waitFor(() => expect(rt.runtime.engine.occupancy).toMatchObject({ active: 4, permits: 1 }), {
      timeout: 10_000,
      interval: 10,
    });
    expect(fake.requests).toHaveLength(1);
    hold.open();
    await vi.waitFor(() => expect(fake.requests).toHaveLength(4), { timeout: 10_000, interval: 10 });
  });

  it('max_queue_depth lowered at run time refuses what would pass it', async () => {
    const { hold, rt } = await start({ max_concurrent_signals: 1, max_queue_depth: 100 });
    const put = await rt.put('/v1/admin/performance', { max_queue_depth: 1 });
    expect([put.status, put.body.max_queue_depth]).toEqual([200, 1]);
    // One runs (held), one waits in the queue, the rest are refused.
    const statuses = (await accepted(rt, 4)).map((r) => r.status);
    expect(statuses.sort()).toEqual([202, 202, 429, 429]);
    hold.open();
  });
});
