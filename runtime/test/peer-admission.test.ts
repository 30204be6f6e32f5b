import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { leavable } from './support/leavable.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// Signals waiting on a peer pod are work this pod accepted: they count toward max_queue_depth, show
// in the load report apart from its own queue (`onPeers`: the autoscaler must not scale this pod for
// the peer's load), and at most max_connections_per_host batches go to the peer at once. The peer
// here accepts connections and never answers.

let rt: Started | undefined;
let peer: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  await rt?.close();
  rt = undefined;
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => (peer ? peer.close(() => r()) : r()));
  peer = undefined;
});

/** A peer that reads each batch and never answers; `received` counts the batches. */
async function silentPeer(): Promise<{ url: string; received: () => number }> {
  let received = 0;
  peer = createServer((req) => {
    received++;
    req.resume();
  });
  peer.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => peer!.listen(0, '127.0.0.1', r));
  const { port } = peer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received: () => received };
}

const MAX_QUEUE = 20;
const SLOTS = 8;

/** A lead forwarding every signal to the peer at `url`, with one connection (one batch) to it at a time. */
const oneBatchAtATime = (url: string) =>
  startRuntime({
    server: { drain_timeout_ms: 100 },
    neurons: [neuron('lead', 'L3', ['impl']), neuron('impl', 'L2', [], { endpoint: url })],
    performance: { max_queue_depth: MAX_QUEUE, connection_pool: { max_connections_per_host: 1 } },
    claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: impl\nCONTENT: job')] } },
  });

describe('signals waiting on a peer pod', () => {
  it('count toward max_queue_depth (429 QUEUE_FULL) and show in the load report as onPeers, not as this pod’s queue', async () => {
    const hung = await silentPeer();
    rt = await startRuntime({
      // The last request still waits on the peer at the end: the drain cuts it.
      server: { drain_timeout_ms: 100 },
      neurons: [neuron('lead', 'L3', ['impl']), neuron('impl', 'L2', [], { endpoint: hung.url })],
      performance: {
        max_queue_depth: MAX_QUEUE,
        max_concurrent_signals: SLOTS,
        signal_buffer_size: 5,
        buffer_flush_ms: 1,
        connection_pool: { max_connections_per_host: 2 },
      },
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: impl\nCONTENT: job')] } },
    });
    let accepted = 0;
    let refused: Awaited<ReturnType<Started['post']>> | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await rt.post('/v1/signals?wait=false&timeout_ms=3000', { content: `task ${i}` });
      if (res.status === 202) accepted++;
      else refused = res;
    }
    expect(refused?.status).toBe(429);
    expect(refused?.body.error.code).toBe('QUEUE_FULL');
    // Sized by the signals waiting and the rate served lately (executor.test.ts): whatever second the
    // requests above crossed into, the header says what the error does.
    const after = Number(refused?.headers.get('retry-after'));
    expect(after).toBeGreaterThanOrEqual(1);
    expect(refused?.body.error.retryAfterSeconds).toBe(after);
    expect(await rt.metric('hal9_executor_rejections_total')).toBe(1);
    // The queue bound, give or take the request's own signal and the slots free for it.
    expect(accepted).toBeGreaterThanOrEqual(MAX_QUEUE);
    expect(accepted).toBeLessThanOrEqual(MAX_QUEUE + SLOTS + 1);
    // Every accepted request's signal is waiting on the peer, none holds a slot here.
    await vi.waitFor(
      async () =>
        expect((await rt!.get('/v1/admin/load')).body).toMatchObject({
          active: 0,
          queued: 0,
          onPeers: accepted,
        }),
      { timeout: 10_000 },
    );
    expect(rt.runtime.engine.occupancy.onPeers).toBe(accepted);
    // Two batches went to the peer; the rest wait here, whatever buffer_flush_ms says.
    await vi.waitFor(() => expect(hung.received()).toBe(2), { timeout: 10_000 });
    expect(await rt.metric('hal9_batch_size_count', { target: 'impl' })).toBe(2);

    // Their deadline ends the requests, and the room comes back.
    await vi.waitFor(
      async () =>
        expect((await rt!.get('/v1/admin/load')).body).toMatchObject({ active: 0, queued: 0, onPeers: 0 }),
      { timeout: 15_000, interval: 100 },
    );
    // The peer had that deadline and the grace after it to answer, and never did: each batch sent
    // (the waiting ones went as the first were cut) ended as its timeout, none as a cancellation.
    const sent = await rt.metric('hal9_batch_size_count', { target: 'impl' });
    expect(sent).toBeGreaterThanOrEqual(2);
    await vi.waitFor(
      async () =>
        expect(
          await rt!.metric('hal9_upstream_requests_total', { upstream: 'peer:impl', status: 'timeout' }),
        ).toBe(sent),
      { timeout: 15_000, interval: 100 },
    );
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: 'peer:impl' })).toBe(sent);
    expect((await rt.post('/v1/signals?wait=false', { content: 'again' })).status).toBe(202);
  });

  it('leave the count as their request ends, while their batch runs on for other requests', async () => {
    const hung = await silentPeer();
    // One batch to the peer at a time: signals that arrive meanwhile wait, and then go together.
    rt = await oneBatchAtATime(hung.url);
    const url = `${rt.url}/v1/signals`;
    const first = leavable(url, { content: 'first' });
    await vi.waitFor(() => expect(hung.received()).toBe(1), { timeout: 5_000, interval: 5 });
    const leaving = leavable(url, { content: 'leaves' });
    expect((await rt.post('/v1/signals?wait=false', { content: 'stays' })).status).toBe(202);
    await vi.waitFor(() => expect(rt!.runtime.engine.occupancy.onPeers).toBe(3), {
      timeout: 5_000,
      interval: 5,
    });
    // The first request ends, its batch is cut: the other two requests' signals go as one batch.
    await first.leave();
    await vi.waitFor(() => expect(hung.received()).toBe(2), { timeout: 5_000, interval: 5 });
    expect(await rt.metric('hal9_batch_size_sum', { target: 'impl' })).toBe(3);
    expect(rt.runtime.engine.occupancy.onPeers).toBe(2);

    // One of them ends (its caller leaves): nothing here waits on its signal any more, though the
    // batch runs on for the other.
    await leaving.leave();
    await vi.waitFor(
      async () =>
        expect((await rt!.get('/v1/admin/load')).body).toMatchObject({ active: 0, queued: 0, onPeers: 1 }),
      { timeout: 5_000, interval: 5 },
    );
    expect(rt.runtime.engine.occupancy.onPeers).toBe(1);
    expect(await rt.metric('hal9_peer_waiting')).toBe(1);
    expect(await rt.metric('hal9_queue_depth')).toBe(0);
    expect(hung.received()).toBe(2);
  });

  it('waiting for a batch slot leave the count as their request ends', async () => {
    const hung = await silentPeer();
    // One batch to the peer at a time: the first request's holds it.
    rt = await oneBatchAtATime(hung.url);
    expect((await rt.post('/v1/signals?wait=false', { content: 'first' })).status).toBe(202);
    await vi.waitFor(() => expect(hung.received()).toBe(1), { timeout: 5_000, interval: 5 });
    const leaving = leavable(`${rt.url}/v1/signals`, { content: 'leaves' });
    await vi.waitFor(() => expect(rt!.runtime.engine.occupancy.onPeers).toBe(2), {
      timeout: 5_000,
      interval: 5,
    });

    await leaving.leave();
    await vi.waitFor(
      async () =>
        expect((await rt!.get('/v1/admin/load')).body).toMatchObject({ active: 0, queued: 0, onPeers: 1 }),
      { timeout: 5_000, interval: 5 },
    );
    expect(await rt.metric('hal9_peer_waiting')).toBe(1);
    expect(await rt.metric('hal9_queue_depth')).toBe(0);
    expect(hung.received()).toBe(1);
  });
});
