import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PEER_ANSWER_GRACE_MS } from '../src/cluster/peer-call.ts';
import { HttpPeerTransport } from '../src/cluster/peer-client.ts';
import { neuronConfig, signalTo } from '../src/testing/builders.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// A peer pod that takes a batch and never answers (a stopped process, a blocked event loop, a network
// that drops everything after the connect) is a failure of that peer: once the deadline it was given
// and PEER_ANSWER_GRACE_MS have passed, the call counts as a timeout against its breaker. A call cut
// short by its callers (gone, drained) is not the peer's failure, nor is a peer that answers its
// deadline with its cut-off branches. The lead's clock is driven by hand where the peer is fake: the
// deadline and the grace pass by `advance`, never by waiting.

const started: Started[] = [];
const peers: Server[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
  for (const p of peers.splice(0)) {
    p.closeAllConnections();
    await new Promise((r) => p.close(r));
  }
});

interface HungPeer {
  readonly url: string;
  /** Batches received so far. */
  readonly received: () => number;
  /** Batches whose connection the sender closed. */
  readonly closed: () => number;
}

/**
 * A peer that reads each batch and never ends its answer: a plain JSON call gets nothing at all, a
 * streaming one (`accept: application/x-ndjson`) gets its headers and then nothing.
 */
async function hungPeer(): Promise<HungPeer> {
  let received = 0;
  let closed = 0;
  const peer = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      if (String(req.headers.accept).includes('ndjson')) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.flushHeaders();
      }
    });
    res.on('close', () => closed++);
  });
  peer.on('connection', (s: Socket) => s.setNoDelay(true));
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  peers.push(peer);
  const { port } = peer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received: () => received, closed: () => closed };
}

const THRESHOLD = 2;
/**
 * The requests' deadline on the lead's clock. The transport's own backstop (this deadline and the
 * grace, on the real clock) must never be what ends a call here.
 */
const DEADLINE = 10_000;

async function lead(endpoint: string, clock?: ManualClock): Promise<Started> {
  const rt = await startRuntime(
    {
      // A drain cuts what is left after 100 ms of its clock.
      server: { drain_timeout_ms: 100 },
      neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint })],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: worker')] } },
      performance: {
        // Each signal goes as its own batch at once: no flush timer to drive.
        signal_buffer_size: 1,
        circuit_breaker: {
          failure_threshold: THRESHOLD,
          success_threshold: 1,
          timeout_seconds: 60,
          window_seconds: 600,
        },
      },
    },
    clock ? { clock } : {},
  );
  started.push(rt);
  return rt;
}

const PEER = { upstream: 'peer:worker' };
const calls = (rt: Started, status: string) => rt.metric('hal9_upstream_requests_total', { ...PEER, status });
const breakerState = (rt: Started) => rt.metric('hal9_circuit_breaker_state', PEER);

describe('a peer pod that never answers', () => {
  it('fails each call as a timeout once its deadline and the grace have passed, and then its breaker opens', async () => {
    const peer = await hungPeer();
    const clock = new ManualClock();
    const rt = await lead(peer.url, clock);

    // A waited request: its batch goes as plain JSON, and the peer sends nothing at all.
    const waited = rt.post(`/v1/signals?timeout_ms=${DEADLINE}`, { content: 'first' });
    await vi.waitFor(() => expect(peer.received()).toBe(1), { timeout: 5_000, interval: 5 });
    clock.advance(DEADLINE);
    // The request ends at its own deadline, whatever the peer does.
    const first = await waited;
    expect(first.status).toBe(504);
    expect(first.body.errors.map((e: { code: string }) => e.code)).toEqual(['REQUEST_TIMEOUT']);
    // The call is still open: the peer has the grace to end its answer.
    expect(peer.closed()).toBe(0);
    expect(await calls(rt, 'timeout')).toBe(0);
    clock.advance(PEER_ANSWER_GRACE_MS);
    await vi.waitFor(async () => expect(await calls(rt, 'timeout')).toBe(1), { timeout: 5_000, interval: 5 });
    await vi.waitFor(() => expect(peer.closed()).toBe(1), { timeout: 5_000, interval: 5 });
    expect(await breakerState(rt)).toBe(0);

    // A followed request: the peer is asked to stream, sends its headers, and never ends the stream.
    const followed = await rt.post(`/v1/signals?wait=false&timeout_ms=${DEADLINE}`, { content: 'second' });
    expect(followed.status).toBe(202);
    await vi.waitFor(() => expect(peer.received()).toBe(2), { timeout: 5_000, interval: 5 });
    clock.advance(DEADLINE);
    expect((await rt.get(`/v1/signals/${followed.body.id}`)).body.status).toBe('timed_out');
    clock.advance(PEER_ANSWER_GRACE_MS);
    await vi.waitFor(async () => expect(await calls(rt, 'timeout')).toBe(2), { timeout: 5_000, interval: 5 });

    // failure_threshold timeouts: the breaker is open, and the next branch fails fast for that neuron.
    expect(await breakerState(rt)).toBe(2);
    expect((await rt.get('/v1/neurons')).body.neurons[1].breakers).toEqual({ 'peer:worker': 'open' });
    const refused = await rt.post('/v1/signals', { content: 'third' });
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ code: 'BREAKER_OPEN', neuron: 'worker', retryAfterSeconds: 60 }),
    ]);
    expect(peer.received()).toBe(2);
    expect(await calls(rt, 'breaker_open')).toBe(1);
    expect(await calls(rt, 'cancelled')).toBe(0);
  });

  it('is not held to account for calls its callers cut short: a caller gone, a drain', async () => {
    const peer = await hungPeer();
    const clock = new ManualClock();
    const rt = await lead(peer.url, clock);
    for (let i = 1; i <= THRESHOLD + 1; i++) {
      const caller = new AbortController();
      const sent = fetch(`${rt.url}/v1/signals?timeout_ms=${DEADLINE}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: `leaves ${i}` }),
        signal: caller.signal,
      });
      sent.catch(() => {});
      await vi.waitFor(() => expect(peer.received()).toBe(i), { timeout: 5_000, interval: 5 });
      caller.abort();
      await vi.waitFor(async () => expect(await calls(rt, 'cancelled')).toBe(i), {
        timeout: 5_000,
        interval: 5,
      });
      // The lead closed the call at once; the peer sees that close one network turn later.
      await vi.waitFor(() => expect(peer.closed()).toBe(i), { timeout: 5_000, interval: 5 });
    }
    // Their deadlines and the grace pass: nothing is judged late.
    clock.advance(DEADLINE + PEER_ANSWER_GRACE_MS);
    expect(await calls(rt, 'timeout')).toBe(0);
    expect(await breakerState(rt)).toBe(0);

    // A drain cuts the last request before its deadline: cancelled too, and the close is not held.
    const pending = rt.post(`/v1/signals?timeout_ms=${DEADLINE}`, { content: 'drained' });
    await vi.waitFor(() => expect(peer.received()).toBe(THRESHOLD + 2), { timeout: 5_000, interval: 5 });
    const closing = rt.close();
    clock.advance(100);
    expect((await pending).body.errors[0].code).toBe('DRAINING');
    await closing;
    expect(await calls(rt, 'cancelled')).toBe(THRESHOLD + 2);
    expect(await calls(rt, 'timeout')).toBe(0);
  });

  it('does not hold the shutdown for a call in its grace', async () => {
    const peer = await hungPeer();
    const clock = new ManualClock();
    const rt = await lead(peer.url, clock);
    const waited = rt.post(`/v1/signals?timeout_ms=${DEADLINE}`, { content: 'cut' });
    await vi.waitFor(() => expect(peer.received()).toBe(1), { timeout: 5_000, interval: 5 });
    clock.advance(DEADLINE);
    expect((await waited).status).toBe(504);
    // The grace never passes on this clock: only the shutdown can end the call.
    await rt.close();
    await vi.waitFor(() => expect(peer.closed()).toBe(1), { timeout: 5_000, interval: 5 });
    expect(await calls(rt, 'timeout')).toBe(0);
  });
});

describe('a healthy peer pod slower than the deadline', () => {
  it('answers at the deadline it was given, within the grace: the call counts as answered, not as a failure', async () => {
    // The worker's model takes 5 s; the lead's requests give it 300 ms.
    const worker = await startRuntime({
      neurons: [neuron('worker', 'L2')],
      claude: { mock_responses: { L2: [answer('default', 'RESULT: late', 5_000)] } },
    });
    started.push(worker);
    const rt = await lead(worker.url);
    for (let i = 1; i <= THRESHOLD + 1; i++) {
      const res = await rt.post('/v1/signals?timeout_ms=300', { content: `slow ${i}` });
      expect(res.status).toBe(504);
      expect(res.body.errors.map((e: { code: string }) => e.code)).toEqual(['REQUEST_TIMEOUT']);
      // The worker ended its sub-run at its deadline and answered with it.
      await vi.waitFor(async () => expect(await calls(rt, '200')).toBe(i), { timeout: 5_000, interval: 10 });
    }
    expect(await calls(rt, 'timeout')).toBe(0);
    expect(await breakerState(rt)).toBe(0);
    // Each batch's only request ended at the deadline the worker was given: the worker ends it there
    // itself, so no cancellation of part of the batch was sent, and the worker cancelled nothing.
    for (const outcome of ['taken', 'refused', 'failed'])
      expect(await rt.metric('hal9_peer_cancels_total', { peer: 'worker', outcome })).toBe(0);
    // The next branch still goes to the worker (not BREAKER_OPEN).
    const next = await rt.post('/v1/signals?timeout_ms=300', { content: 'again' });
    expect(next.body.errors.map((e: { code: string }) => e.code)).toEqual(['REQUEST_TIMEOUT']);
  });
});

describe('a batch whose parts wait for a connection to the peer', () => {
  it('gives the peer the deadline left as each part goes, so a healthy peer answers within the grace', async () => {
    /** The deadline each part arrived with. */
    const given: number[] = [];
    // A healthy peer slower than any deadline: it answers each batch at the deadline it was given.
    const peer = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c;
      });
      req.on('end', () => {
        const { deadlineMs, signals } = JSON.parse(text) as { deadlineMs: number; signals: unknown[] };
        given.push(deadlineMs);
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ outcomes: signals.map(() => ({ results: [], trace: [], errors: [] })) }));
        }, deadlineMs);
      });
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    peers.push(peer);
    const { port } = peer.address() as AddressInfo;
    // One connection to the peer, and a body limit that splits the batch in two parts: the second
    // waits for the first's answer, at the batch's deadline.
    const agent = new Agent({ connections: 1 });
    const transport = new HttpPeerTransport({ agent, maxBodyBytes: 4096 });
    const deadline = 300;
    const big = 'x'.repeat(2500);
    try {
      const outcomes = await transport.send(
        neuronConfig('impl', 'L2', [], { endpoint: `http://127.0.0.1:${port}` }),
        [signalTo('impl', { id: 'a', content: big }), signalTo('impl', { id: 'b', content: big })],
        deadline,
      );
      expect(outcomes.map((o) => o.errors)).toEqual([[], []]);
    } finally {
      await agent.close();
    }
    expect(given).toHaveLength(2);
    expect(given[0]).toBeLessThanOrEqual(deadline);
    // Sent as the first part was answered, at the deadline: what was left of it, not all of it again.
    expect(given[1]).toBeLessThan(given[0]!);
  });
});
