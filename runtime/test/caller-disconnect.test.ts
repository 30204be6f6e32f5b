import { describe, expect, it, vi } from 'vitest';
import { apiRuntimes } from './support/api-runtimes.ts';
import { gate, hang, message } from './support/fake-messages-api.ts';
import { leavable } from './support/leavable.ts';
import { neuron, type Started } from './support/runtime.ts';

// A waiting caller that closes its connection before the answer cancels its requests: the model calls
// are cut off (the fake upstream sees its connection close), the executor slots and permits are free,
// and the metrics count the cut as a cancellation, never as an upstream failure. The request deadline
// is the default 30 s, far past every wait here: only the caller leaving can end these calls.

const runtimes = apiRuntimes();
const api = (performance: Record<string, unknown> = {}) => runtimes.api({ performance });

/** A request whose caller gives up once `when` holds (it aborts the fetch, closing the connection). */
async function leaveWhen(url: string, body: unknown, when: () => void): Promise<void> {
  const request = leavable(url, body);
  await vi.waitFor(when, { timeout: 5_000, interval: 5 });
  await request.leave();
}

const idle = async (rt: Started) => {
  expect(rt.runtime.engine.occupancy).toEqual({ active: 0, queued: 0, onPeers: 0, permits: 0 });
  expect((await rt.get('/v1/admin/load')).body).toMatchObject({ active: 0, queued: 0 });
};

describe('a caller that closes its connection before the answer', () => {
  it('POST /v1/signals: cancels the model call and frees the slot, counted as cancelled', async () => {
    const { fake, rt } = await api();
    fake.respond(hang());
    await leaveWhen(`${rt.url}/v1/signals`, { content: 'never answered' }, () =>
      expect(fake.inFlight).toBe(1),
    );
    // The upstream sees its connection closed, long before the request's deadline.
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 5_000, interval: 10 });
    await vi.waitFor(() => idle(rt), { timeout: 5_000, interval: 10 });
    expect(await rt.metric('hal9_upstream_requests_total', { status: 'cancelled' })).toBe(1);
    expect(await rt.metric('hal9_signals_total', { neuron: 'impl-1', outcome: 'cancelled' })).toBe(1);
    expect(await rt.metric('hal9_signals_total', { neuron: 'impl-1', outcome: 'error' })).toBe(0);
    // Not an error of ours: the error-rate alerts count failed and timed_out, not cancelled.
    expect(await rt.metric('hal9_requests_total', { outcome: 'cancelled' })).toBe(1);
    expect(await rt.metric('hal9_requests_total', { outcome: 'timed_out' })).toBe(0);
    expect(rt.runtime.engine.breakerState).toBe('closed');
    // The runtime serves on.
    fake.respond(message('RESULT: next'));
    const next = await rt.post('/v1/signals', { content: 'next' });
    expect(next.status).toBe(200);
    expect(next.body.results[0].content).toBe('next');
  });

  it('POST /v1/signals/batch: cancels every request of the batch', async () => {
    const { fake, rt } = await api();
    fake.respond(hang());
    await leaveWhen(`${rt.url}/v1/signals/batch`, { signals: [{ content: 'a' }, { content: 'b' }] }, () =>
      expect(fake.inFlight).toBe(2),
    );
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 5_000, interval: 10 });
    await vi.waitFor(() => idle(rt), { timeout: 5_000, interval: 10 });
    expect(await rt.metric('hal9_upstream_requests_total', { status: 'cancelled' })).toBe(2);
    expect(await rt.metric('hal9_signals_total', { neuron: 'impl-1', outcome: 'cancelled' })).toBe(2);
    expect(rt.runtime.engine.breakerState).toBe('closed');
  });

  it('a request waiting for a slot leaves the queue and never reaches the upstream', async () => {
    const { fake, rt } = await api({ max_concurrent_signals: 1 });
    const g = gate();
    fake.script({ ...message('RESULT: first'), until: g.promise });
    const first = rt.post('/v1/signals', { content: 'holds the slot' });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 5_000, interval: 5 });
    await leaveWhen(`${rt.url}/v1/signals`, { content: 'waits for the slot' }, () =>
      expect(rt.runtime.engine.occupancy.queued).toBe(1),
    );
    // Its request ends now, and its signal leaves the queue with it (the place is free for new
    // requests while the slot is still held), never sent upstream.
    await vi.waitFor(
      async () => expect(await rt.metric('hal9_requests_total', { outcome: 'cancelled' })).toBe(1),
      {
        timeout: 5_000,
        interval: 10,
      },
    );
    expect(rt.runtime.engine.occupancy).toMatchObject({ active: 1, queued: 0 });
    g.open();
    expect((await first).status).toBe(200);
    await vi.waitFor(() => idle(rt), { timeout: 5_000, interval: 10 });
    expect(fake.requests.map((r) => r.body.messages[0].content)).toEqual(['holds the slot']);
  });

  it('in cluster mode, the pod that ran the sub-tree cancels it too when the lead’s call closes', async () => {
    const { fake: upstream, rt: worker } = await runtimes.api({ neurons: [neuron('worker', 'L2')] });
    upstream.respond(hang());
    const lead = await runtimes.leadOf(worker);
    await leaveWhen(`${lead.url}/v1/signals`, { content: 'deep' }, () => expect(upstream.inFlight).toBe(1));
    // The lead ends the request and cancels its peer call; the worker's sub-run ends with it.
    await vi.waitFor(() => expect(upstream.inFlight).toBe(0), { timeout: 5_000, interval: 10 });
    await vi.waitFor(() => idle(worker), { timeout: 5_000, interval: 10 });
    await vi.waitFor(() => idle(lead), { timeout: 5_000, interval: 10 });
    expect(await worker.metric('hal9_upstream_requests_total', { status: 'cancelled' })).toBe(1);
    expect(await worker.metric('hal9_signals_total', { neuron: 'worker', outcome: 'cancelled' })).toBe(1);
    expect(worker.runtime.engine.breakerState).toBe('closed');
    expect(worker.runtime.engine.forwardedRequests).toBe(0);
  });

  it('a caller that reads its answer cancels nothing', async () => {
    const { fake, rt } = await api();
    fake.respond(message('RESULT: done'));
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.errors).toEqual([]);
    expect(await rt.metric('hal9_requests_total', { outcome: 'completed' })).toBe(1);
    expect(await rt.metric('hal9_signals_total', { outcome: 'cancelled' })).toBe(0);
  });
});
