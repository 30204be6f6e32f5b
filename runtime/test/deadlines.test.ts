import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { apiRuntimes } from './support/api-runtimes.ts';
import { gate, hang, message } from './support/fake-messages-api.ts';
import { answer, neuron, startRuntime } from './support/runtime.ts';

// Deadlines stop work: a request's AbortSignal reaches the SDK call, the upstream permit, the queue and
// peer calls (cut at once when callers leave or a drain comes; at a deadline, the peer given it ends
// its own sub-run); a timed-out request gives its executor slot back. Asserted by states and counters only.
// Deadlines of requests meant to reach the fake upstream leave room for the first call of a fresh
// runtime on a loaded machine (tens of ms when idle).

const runtimes = apiRuntimes();
const { started } = runtimes;
const api = (performance: Record<string, unknown> = {}) => runtimes.api({ performance });

describe('deadlines', () => {
  it('aborts the model call at the deadline: the fake upstream sees its request closed, and the slot and permit are free', async () => {
    const { fake, rt } = await api();
    fake.respond(hang());
    const res = await rt.post('/v1/signals?timeout_ms=1000', { content: 'never answered' });
    expect(res.status).toBe(504);
    expect(res.body.status).toBe('timed_out');
    // The error names the deadline that ended it, and its value.
    expect(res.body.errors).toEqual([
      {
        code: 'REQUEST_TIMEOUT',
        field: 'timeout_ms',
        message: 'the request did not finish within its deadline (timeout_ms, 1000 ms)',
      },
    ]);
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 5_000, interval: 10 });
    expect(rt.runtime.engine.occupancy).toEqual({ active: 0, queued: 0, onPeers: 0, permits: 0 });
    // The cancellation is not an upstream failure: it is counted apart and never feeds the breaker.
    expect(await rt.metric('hal9_upstream_requests_total', { status: 'cancelled' })).toBe(1);
    expect(rt.runtime.engine.breakerState).toBe('closed');
  });

  it('opens the breaker on a hung upstream whose calls its own deadline cuts after half of claude.timeout_ms, never on a caller’s', async () => {
    // As on a pod whose requests have less time than claude.timeout_ms: the SDK's own timeout never
    // fires, every call ends at the request's deadline.
    const { fake, rt } = await runtimes.api({
      claude: { timeout_ms: 1_000 },
      performance: { request_timeout_ms: 700, circuit_breaker: { failure_threshold: 2 } },
    });
    fake.respond(hang());
    // Cut before half the call's timeout (a caller's short deadline): not the upstream's fault.
    for (let i = 0; i < 3; i++)
      expect((await rt.post('/v1/signals?timeout_ms=200', { content: `short ${i}` })).status).toBe(504);
    expect(rt.runtime.engine.breakerState).toBe('closed');
    // Nor past it, when the caller chose the deadline: a client asking less time than a healthy
    // upstream's answers take must not open the breaker for everyone.
    for (let i = 0; i < 3; i++) {
      const res = await rt.post('/v1/signals?timeout_ms=650', { content: `caller ${i}` });
      expect(res.body.errors).toEqual([
        expect.objectContaining({ code: 'REQUEST_TIMEOUT', field: 'timeout_ms' }),
      ]);
    }
    expect(rt.runtime.engine.breakerState).toBe('closed');
    // The runtime's own deadline (performance.request_timeout_ms) cutting them: the upstream hangs.
    for (let i = 0; i < 2; i++)
      expect((await rt.post('/v1/signals', { content: `long ${i}` })).status).toBe(504);
    expect(rt.runtime.engine.breakerState).toBe('open');
    const refused = await rt.post('/v1/signals', { content: 'refused' });
    expect(refused.body.errors.map((e: { code: string }) => e.code)).toEqual(['BREAKER_OPEN']);
  });

  it('tells a peer whose deadline its caller chose, and the peer’s breaker counts only the sender’s own', async () => {
    const peerSignals: { deadlineByCaller?: boolean }[] = [];
    const { fake, rt: worker } = await runtimes.api(
      {
        neurons: [neuron('worker', 'L2')],
        claude: { timeout_ms: 1_000 },
        performance: { circuit_breaker: { failure_threshold: 2 } },
      },
      {
        apiKey: 'k',
        beforeListen: (rt) =>
          rt.app.addHook('preHandler', async (req) => {
            if (req.url.startsWith('/v1/neurons/'))
              peerSignals.push(...(req.body as { signals: { deadlineByCaller?: boolean }[] }).signals);
          }),
      },
    );
    fake.respond(hang());
    // The lead's caller asks 700 ms: the worker's calls are cut past half their timeout, uncounted.
    const lead = await runtimes.leadOf(worker);
    for (let i = 0; i < 3; i++)
      expect((await lead.post('/v1/signals?timeout_ms=700', { content: `caller ${i}` })).status).toBe(504);
    expect(peerSignals.map((s) => s.deadlineByCaller)).toEqual([true, true, true]);
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 5_000, interval: 10 });
    expect(worker.runtime.engine.breakerState).toBe('closed');
    // A lead whose own deadline is 700 ms: the worker's hung calls count, and its breaker opens.
    const ownDeadline = await runtimes.leadOf(worker, { request_timeout_ms: 700 });
    for (let i = 0; i < 2; i++)
      expect((await ownDeadline.post('/v1/signals', { content: `own ${i}` })).status).toBe(504);
    expect(peerSignals.slice(3).map((s) => s.deadlineByCaller)).toEqual([undefined, undefined]);
    await vi.waitFor(() => expect(worker.runtime.engine.breakerState).toBe('open'), {
      timeout: 5_000,
      interval: 10,
    });
  });

  it('names in the trace each branch the deadline cut off: where it was, with the deadline’s error', async () => {
    // design-1 answers at once and forwards to two L2 neurons: one answers, one takes 5 s.
    const rt = await startRuntime({
      neurons: [
        neuron('design-1', 'L3', ['impl-1', 'impl-2']),
        neuron('impl-1', 'L2'),
        neuron('impl-2', 'L2'),
      ],
      claude: {
        mock_responses: {
          L3: [answer('default', 'FORWARD_TO: impl-1\nCONTENT: quick\nFORWARD_TO: impl-2\nCONTENT: slow')],
          L2: [answer('slow', 'RESULT: late', 5_000), answer('default', 'RESULT: done')],
        },
      },
    });
    started.push(rt);
    const res = await rt.post('/v1/signals?timeout_ms=300', { content: 'build it' });
    expect(res.status).toBe(504);
    expect(res.body.results).toEqual([{ neuron: 'impl-1', layer: 'L2', content: 'done' }]);
    const byNeuron = Object.fromEntries(
      res.body.trace.map((t: { neuron: string; error?: { code: string } }) => [
        t.neuron,
        t.error?.code ?? 'ok',
      ]),
    );
    expect(byNeuron).toEqual({ 'design-1': 'ok', 'impl-1': 'ok', 'impl-2': 'REQUEST_TIMEOUT' });
    const cut = res.body.trace.find((t: { neuron: string }) => t.neuron === 'impl-2');
    expect(cut).toMatchObject({
      layer: 'L2',
      hop: 1,
      error: { code: 'REQUEST_TIMEOUT', neuron: 'impl-2', field: 'timeout_ms' },
    });
    expect(cut.durationMs).toBeGreaterThan(0);
    // The request's own error says which deadline ended it, once.
    expect(res.body.errors).toEqual([
      expect.objectContaining({ code: 'REQUEST_TIMEOUT', field: 'timeout_ms' }),
    ]);
  });

  it('frees the slot of a timed-out request at once, so a waiting request runs without the 60 s flush timer', async () => {
    const { fake, rt } = await api({ max_concurrent_signals: 1, buffer_flush_ms: 60_000 });
    fake.script(hang());
    fake.respond(message('RESULT: second'));
    const first = rt.post('/v1/signals?timeout_ms=1000', { content: 'first' });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 5_000, interval: 5 });
    // The second request waits for the only slot; the 60 s flush timer must not be what frees it.
    const second = rt.post('/v1/signals', { content: 'second' });
    expect((await first).status).toBe(504);
    const r2 = await second;
    expect(r2.status).toBe(200);
    expect(r2.body.results[0].content).toBe('second');
    expect(fake.requests).toHaveLength(2);
  });

  it('a waiter for an upstream permit leaves the line when its request ends', async () => {
    const { fake, rt } = await api({ max_concurrent_neurons: 1 });
    const g = gate();
    fake.script({ ...message('RESULT: slow'), until: g.promise });
    const holder = rt.post('/v1/signals', { content: 'holds the permit' });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 5_000, interval: 5 });
    const waiter = await rt.post('/v1/signals?timeout_ms=200', { content: 'waits for the permit' });
    expect(waiter.status).toBe(504);
    g.open();
    expect((await holder).status).toBe(200);
    // The timed-out waiter never reached the upstream.
    expect(fake.requests.map((r) => r.body.messages[0].content)).toEqual(['holds the permit']);
  });

  it('sends a peer the run’s own deadline (?timeout_ms), not the configured one, and the peer ends its sub-run at it', async () => {
    const peerBodies: { deadlineMs: number }[] = [];
    const { fake, rt: worker } = await runtimes.api(
      { neurons: [neuron('worker', 'L2')] },
      {
        apiKey: 'k',
        beforeListen: (rt) =>
          rt.app.addHook('preHandler', async (req) => {
            if (req.url.startsWith('/v1/neurons/')) peerBodies.push(req.body as { deadlineMs: number });
          }),
      },
    );
    fake.respond(hang());
    const lead = await runtimes.leadOf(worker);
    const res = await lead.post('/v1/signals?timeout_ms=1000', { content: 'deep' });
    expect(res.status).toBe(504);
    expect(peerBodies).toHaveLength(1);
    expect(peerBodies[0]!.deadlineMs).toBeGreaterThan(0);
    expect(peerBodies[0]!.deadlineMs).toBeLessThanOrEqual(1000);
    // The worker's own run ends at that deadline too, and its upstream call is cancelled.
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 5_000, interval: 10 });
    expect(worker.runtime.engine.occupancy).toEqual({ active: 0, queued: 0, onPeers: 0, permits: 0 });
    expect(lead.runtime.engine.occupancy).toEqual({ active: 0, queued: 0, onPeers: 0, permits: 0 });
  });

  it('cancels a peer call when its requests end, also when two branches of one request share the batch', async () => {
    // A peer that never answers, recording each call and whether its connection closed.
    const calls: { signals: number; closed: boolean }[] = [];
    const peer = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const call = { signals: JSON.parse(body).signals.length, closed: false };
        calls.push(call);
        res.on('close', () => (call.closed = true));
      });
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    try {
      const lead = await startRuntime({
        neurons: [
          neuron('lead', 'L4', ['a', 'b']),
          neuron('a', 'L3', ['worker']),
          neuron('b', 'L3', ['worker']),
          neuron('worker', 'L2', [], {
            endpoint: `http://127.0.0.1:${(peer.address() as AddressInfo).port}`,
          }),
        ],
        claude: {
          mock_responses: {
            L4: [answer('default', 'FORWARD_TO: a, b')],
            L3: [answer('default', 'FORWARD_TO: worker')],
          },
        },
        // The peer gets the request's deadline: far past the test's own, so only a cancel ends the call.
        performance: { request_timeout_ms: 120_000 },
        server: { drain_timeout_ms: 100 },
      });
      started.push(lead);
      const pending = lead.post('/v1/signals', { content: 'x' });
      await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 5_000, interval: 10 });
      expect(calls[0]!.signals).toBe(2);
      // The drain cuts the request; its peer call goes with it, so the shutdown is not held by it.
      const closing = lead.close();
      expect((await pending).body.errors[0].code).toBe('DRAINING');
      await closing;
      await vi.waitFor(() => expect(calls[0]!.closed).toBe(true), { timeout: 5_000, interval: 10 });
    } finally {
      peer.closeAllConnections();
      await new Promise((r) => peer.close(r));
    }
  });

  it('a request the drain cut off is 503 DRAINING with Retry-After and connection: close, also after another branch failed', async () => {
    // design-1 forwards to two L2 neurons: one gives an empty answer (UNROUTABLE_ANSWER at once), the
    // other takes 5 s, so the drain's error comes after that branch's.
    const rt = await startRuntime({
      neurons: [
        neuron('design-1', 'L3', ['impl-1', 'impl-2']),
        neuron('impl-1', 'L2'),
        neuron('impl-2', 'L2'),
      ],
      claude: {
        mock_responses: {
          L3: [answer('default', 'FORWARD_TO: impl-1\nCONTENT: empty\nFORWARD_TO: impl-2\nCONTENT: slow')],
          L2: [answer('slow', 'RESULT: late', 5_000), answer('empty', '')],
        },
      },
      server: { drain_timeout_ms: 100 },
    });
    started.push(rt);
    const pending = rt.post('/v1/signals', { content: 'build it' });
    await vi.waitFor(() => expect(rt.runtime.engine.occupancy).toMatchObject({ active: 1, queued: 0 }), {
      timeout: 5_000,
      interval: 5,
    });
    const closing = rt.close();
    const res = await pending;
    await closing;
    expect(res.body.errors.map((e: { code: string }) => e.code)).toEqual(['UNROUTABLE_ANSWER', 'DRAINING']);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('connection')).toBe('close');
  });

  it.each([
    ['every item', ['slow 1', 'slow 2'], 503],
    ['one item of two', ['slow 1', 'fast'], 200],
  ])(
    'a batch the drain cut %s of closes its connection with Retry-After, 503 when nothing was served',
    async (_what, contents, status) => {
      const rt = await startRuntime({
        neurons: [neuron('impl-1', 'L2')],
        performance: { cache_layers: [] },
        claude: {
          mock_responses: { L2: [answer('slow', 'RESULT: late', 5_000), answer('fast', 'RESULT: now')] },
        },
        server: { drain_timeout_ms: 100 },
      });
      started.push(rt);
      const pending = rt.post('/v1/signals/batch', { signals: contents.map((content) => ({ content })) });
      const slow = contents.filter((c) => c.startsWith('slow')).length;
      await vi.waitFor(() => expect(rt.runtime.engine.occupancy).toMatchObject({ active: slow, queued: 0 }), {
        timeout: 5_000,
        interval: 5,
      });
      const closing = rt.close();
      const res = await pending;
      await closing;
      expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(
        contents.map((c) => (c.startsWith('slow') ? 'timed_out' : 'completed')),
      );
      expect(res.status).toBe(status);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('connection')).toBe('close');
    },
  );
});
