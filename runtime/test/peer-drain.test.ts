import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { roundRobin } from './support/round-robin.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// A Neuron's pods sit behind one Service; when one of them drains (scale-down, rollout), the batches
// a peer sends it are refused with DRAINING before any work runs. The refusal closes the connection
// and the peer sends the batch again, so it lands on a pod that still serves: scale-down loses nothing.

const started: Started[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
});
const start = async (doc: Record<string, unknown>) => {
  const s = await startRuntime(doc);
  started.push(s);
  return s;
};

const workerDoc = {
  entry_neuron: 'worker',
  neurons: [neuron('worker', 'L2')],
  claude: { mock_responses: { L2: [answer('default', 'RESULT: worked')] } },
};

describe('a peer pod that drains', () => {
  it('answers DRAINING with connection: close, and the batch is sent again to a pod that serves', async () => {
    const draining = await start(workerDoc);
    const serving = await start(workerDoc);
    await draining.runtime.engine.drain(1000);
    const service = await roundRobin([draining.url, serving.url]);
    closers.push(service.close);
    const lead = await start({
      neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: service.url })],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: worker\nCONTENT: job')] } },
    });

    const res = await lead.post('/v1/signals', { content: 'scale down under me' });

    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.results.map((r: { content: string }) => r.content)).toEqual(['worked']);
    // The draining pod refused the first send; the one that serves ran the branch. A peer's batch is
    // no request of the draining pod's: the request is counted where it entered (lead), completed.
    expect(await draining.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(0);
    expect(await lead.metric('hal9_requests_total', { outcome: 'completed' })).toBe(1);
    expect(await serving.metric('hal9_signals_total', { neuron: 'worker' })).toBe(1);
    expect(await draining.metric('hal9_signals_total', { neuron: 'worker' })).toBe(0);
    // The refusal ends the connection, so a keep-alive client's next request reconnects.
    const refused = await draining.post('/v1/signals', { content: 'direct' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('connection')).toBe('close');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await draining.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(1);
  });

  it('resends to a draining pod as often after a resend for an older peer’s schema', async () => {
    // A pod of the version before deadlineByCaller refuses it once (400 naming it), then drains.
    const bodies: string[] = [];
    const peer = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push(body);
        const refused = body.includes('deadlineByCaller');
        res.writeHead(refused ? 400 : 503, { 'content-type': 'application/json', connection: 'close' }).end(
          JSON.stringify({
            error: refused
              ? {
                  code: 'INVALID_REQUEST',
                  message: 'body.signals.0.deadlineByCaller must NOT have additional properties',
                  field: 'signals.0.deadlineByCaller',
                }
              : { code: 'DRAINING', message: 'the runtime is shutting down' },
          }),
        );
      });
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => peer.close(() => r())));
    const lead = await start({
      neurons: [
        neuron('lead', 'L3', ['worker']),
        neuron('worker', 'L2', [], { endpoint: `http://127.0.0.1:${(peer.address() as AddressInfo).port}` }),
      ],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: worker\nCONTENT: job')] } },
    });

    const res = await lead.post('/v1/signals?timeout_ms=5000', { content: 'a caller’s deadline' });

    expect(res.body.errors.map((e: { code: string }) => e.code)).toEqual(['DRAINING']);
    // The schema's resend, then one send and two resends refused by the drain.
    expect(bodies.map((b) => b.includes('deadlineByCaller'))).toEqual([true, false, false, false]);
  });

  it('takes back the branch of a request it accepted before its drain, and the request completes', async () => {
    // a (here) → b (on a peer) → d (here again): the drain begins while the branch is at the peer.
    const toHere: string[] = [];
    const here = await roundRobin(toHere);
    closers.push(here.close);
    const peer = await start({
      entry_neuron: 'b',
      neurons: [neuron('b', 'L3', ['d']), neuron('d', 'L2', [], { endpoint: here.url })],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: d\nCONTENT: leaf', 500)] } },
    });
    const pod = await start({
      entry_neuron: 'a',
      neurons: [
        neuron('a', 'L4', ['b']),
        neuron('b', 'L3', ['d'], { endpoint: peer.url }),
        neuron('d', 'L2'),
      ],
      claude: {
        mock_responses: {
          L4: [answer('default', 'FORWARD_TO: b\nCONTENT: mid')],
          L2: [answer('default', 'RESULT: done')],
        },
      },
    });
    toHere.push(pod.url);

    const pending = pod.post('/v1/signals', { content: 'accepted before the drain' });
    while (peer.runtime.engine.forwardedRequests === 0) await new Promise((r) => setTimeout(r, 5));
    const drained = pod.runtime.engine.drain(10_000);
    const res = await pending;

    expect(res.body.status).toBe('completed');
    expect(res.body.results.map((r: { content: string }) => r.content)).toEqual(['done']);
    expect(res.body.trace.map((t: { neuron: string }) => t.neuron)).toEqual(['a', 'b', 'd']);
    expect((await drained).unfinished).toBe(0);
    // New work is still refused.
    expect((await pod.post('/v1/signals', { content: 'after the drain began' })).status).toBe(503);
    expect(await pod.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(1);
  });

  it('gives up after the resends when every pod drains: the branch ends with DRAINING', async () => {
    const only = await start(workerDoc);
    await only.runtime.engine.drain(1000);
    const lead = await start({
      neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: only.url })],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: worker\nCONTENT: job')] } },
    });

    const res = await lead.post('/v1/signals', { content: 'nobody home' });

    expect(res.body.errors.map((e: { code: string }) => e.code)).toEqual(['DRAINING']);
    // One send and two resends, each refused before any work: no requests of the draining pod's. The
    // request is counted once, where it entered, as the backpressure its caller got (503, Retry-After),
    // not as an error of the error-rate and burn-rate alerts.
    expect(res.status).toBe(503);
    expect(await only.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(0);
    expect(await lead.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(1);
    expect(await lead.metric('hal9_requests_total', { outcome: 'failed' })).toBe(0);
  });
});

describe('a peer pod whose queue is full', () => {
  it('refuses the batch (429), counted in its executor rejections; the request is rejected where it entered, not failed', async () => {
    const worker = await start({
      ...workerDoc,
      claude: { mock_responses: { L2: [answer('default', 'RESULT: worked', 2000)] } },
      performance: { max_concurrent_signals: 1, max_queue_depth: 1, signal_buffer_size: 1 },
    });
    const lead = await start({
      neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: worker\nCONTENT: job')] } },
      performance: { cache_layers: [] },
    });

    const all = await Promise.all(
      Array.from({ length: 4 }, (_, i) => lead.post('/v1/signals', { content: `job ${i}` })),
    );

    const refused = all.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused)
      expect(r.body.errors.map((e: { code: string }) => e.code)).toEqual(['QUEUE_FULL']);
    expect(await lead.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(refused.length);
    expect(await lead.metric('hal9_requests_total', { outcome: 'failed' })).toBe(0);
    expect(await lead.metric('hal9_requests_total', { outcome: 'completed' })).toBe(4 - refused.length);
    // The worker refused batches, not requests of its own.
    expect(await worker.metric('hal9_executor_rejections_total', { reason: 'queue_full' })).toBeGreaterThan(
      0,
    );
    expect(await worker.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(0);
  });
});
