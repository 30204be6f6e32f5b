import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpPeerTransport } from '../src/cluster/peer-client.ts';
import type { NeuronConfig } from '../src/config/types.ts';
import type { Signal } from '../src/pipeline/signal.ts';
import { PEER_TOKEN_GRACE_MS } from '../src/runtime.ts';
import { neuronConfig, signalTo } from '../src/testing/builders.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { deadPort } from './faults/upstreams.ts';
import {
  apiDoc,
  type FakeMessagesApi,
  gate,
  hang,
  message,
  type RecordedRequest,
  startFakeMessagesApi,
} from './support/fake-messages-api.ts';
import { leavable } from './support/leavable.ts';
import { type Received, ranOutcome } from './support/peer-outcome.ts';
import { roundRobin } from './support/round-robin.ts';
import { neuron, type Started, startRuntime } from './support/runtime.ts';

// Signals of several requests share one batch to a peer pod. When one request ends while the batch
// runs on for the others (here its caller leaves), the pod running the batch is told to stop that
// request's signals: their model calls are cut off there, while the other requests' signals run on
// undisturbed and complete. The worker pods sit behind a Service stand-in that sends every new
// connection to the next pod, so a cancellation that took the Service would reach the wrong one.

let fake: FakeMessagesApi | undefined;
const started: Started[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
  await fake?.close();
  fake = undefined;
});

const start = async (doc: Record<string, unknown>) => {
  const s = await startRuntime(doc, { apiKey: 'k' });
  started.push(s);
  return s;
};

const said = (r: RecordedRequest, text: string) => JSON.stringify(r.body.messages).includes(text);

const idle = (rt: Started) =>
  expect(rt.runtime.engine.occupancy).toEqual({ active: 0, queued: 0, onPeers: 0, permits: 0 });

const soon = { timeout: 5_000, interval: 5 };
const noOutcome = { results: [], trace: [], errors: [] };

/** The model API: "first" is answered once `first` opens, "leaves" never, the rest once `other` opens. */
async function gatedUpstream() {
  const first = gate();
  const other = gate();
  const upstream = await startFakeMessagesApi();
  fake = upstream;
  upstream.respond((r) =>
    said(r, 'first')
      ? message('RESULT: first done', {}, { until: first.promise })
      : said(r, 'leaves')
        ? hang()
        : message('RESULT: stays done', {}, { until: other.promise }),
  );
  return { upstream, first, other };
}

/** A pod whose `from` neuron forwards every signal to `to`, which runs at `endpoint`. */
const forwarding = (from: [string, string], to: [string, string], endpoint: string) => ({
  neurons: [neuron(from[0], from[1], [to[0]]), neuron(to[0], to[1], [], { endpoint })],
  claude: {
    mock_responses: { [from[1]]: [{ trigger: 'default', response: `FORWARD_TO: ${to[0]}`, delay_ms: 0 }] },
  },
});
/** One batch to a peer at a time: signals arriving meanwhile wait for it together and leave as one batch. */
const oneBatchAtATime = { performance: { connection_pool: { max_connections_per_host: 1 } } };

/**
 * Three requests to `lead`: "first" takes the one batch slot to the peer until `first` opens, while
 * one that leaves and one that stays (at `stayingPath`) wait for it and then go as one batch.
 * `batchesOut(n)` asserts that the peer has taken n batches.
 */
async function shareOneBatch(
  lead: Started,
  first: { open(): void },
  batchesOut: (n: number) => void,
  stayingPath = '/v1/signals',
) {
  const held = lead.post('/v1/signals', { content: 'first' });
  await vi.waitFor(() => batchesOut(1), soon);
  const leaving = leavable(`${lead.url}/v1/signals`, { content: 'leaves' });
  const staying = lead.post(stayingPath, { content: 'stays' });
  // Both wait for the one batch slot (the first batch's signal, and theirs).
  await vi.waitFor(() => expect(lead.runtime.engine.occupancy.onPeers).toBe(3), soon);
  first.open();
  expect((await held).status).toBe(200);
  await vi.waitFor(() => batchesOut(2), soon);
  return { leaving, staying };
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((r) => {
    let b = '';
    req.on('data', (c: Buffer) => {
      b += c;
    });
    req.on('end', () => r(b));
  });

/** A stand-in peer pod on loopback, closed after the test; its address. */
async function peerPod(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A peer transport on pools of its own, closed after the test; `counted` holds each cancellation's
 * outcome as `record` words it.
 */
function peerTransport(
  opts: {
    peerToken?: string;
    controlConnections?: number;
    record?: (peer: string, outcome: string) => string;
  } = {},
) {
  const agent = new Agent();
  const control = new Agent(opts.controlConnections ? { connections: opts.controlConnections } : {});
  closers.push(
    () => agent.close(),
    () => control.close(),
  );
  const counted: string[] = [];
  const record = opts.record ?? ((_: string, outcome: string) => outcome);
  const transport = new HttpPeerTransport({
    agent,
    controlAgent: control,
    onCancel: (peer, outcome) => counted.push(record(peer, outcome)),
    peerToken: opts.peerToken,
    maxBodyBytes: 1024 * 1024,
  });
  return { transport, counted };
}

/** Sends `signals` as one batch; each one's request ends when its entry of `ends` aborts. */
const sendBatch = (
  transport: HttpPeerTransport,
  target: NeuronConfig,
  signals: readonly Signal[],
  deadlineMs: number,
  ends: AbortSignal[],
) => transport.send(target, signals, deadlineMs, { ends });

describe('a request that ends while its signals share a batch at a peer pod', () => {
  // A request kept by id (?wait=false) is followed, so the batch's answer streams (NDJSON): both
  // answers start with the batch's id and the pod's address.
  it.each([
    { staying: 'waits for its answer', streamed: false },
    { staying: 'is kept by id', streamed: true },
  ])(
    'has its signals stopped at the pod running the batch; the other request ($staying) completes',
    async ({ streamed }) => {
      const { upstream, first, other } = await gatedUpstream();
      const workerDoc = apiDoc(upstream, { neurons: [neuron('worker', 'L2')] });
      const workers = [await start(workerDoc), await start(workerDoc)];
      const service = await roundRobin(workers.map((w) => w.url));
      closers.push(service.close);
      // The two requests' signals leave as one batch, on the connection the first batch used.
      const lead = await start({
        ...forwarding(['lead', 'L3'], ['worker', 'L2'], service.url),
        ...oneBatchAtATime,
      });
      const { leaving, staying } = await shareOneBatch(
        lead,
        first,
        (n) => expect(upstream.inFlight).toBe(n),
        `/v1/signals${streamed ? '?wait=false' : ''}`,
      );
      // Two batches: the first request's, then one of the other two requests' signals.
      expect(await lead.metric('hal9_batch_size_count', { target: 'worker' })).toBe(2);
      expect(await lead.metric('hal9_batch_size_sum', { target: 'worker' })).toBe(3);

      await leaving.leave();
      // The leaving request's model call is cut off at the worker; the staying one's runs on.
      await vi.waitFor(() => expect(upstream.inFlight).toBe(1), soon);
      const running = workers.find((w) => w.runtime.engine.occupancy.active > 0)!;
      expect(running).toBeDefined();
      expect(running.runtime.engine.occupancy.active).toBe(1);
      expect(await running.metric('hal9_upstream_requests_total', { status: 'cancelled' })).toBe(1);
      expect(await running.metric('hal9_signals_total', { neuron: 'worker', outcome: 'cancelled' })).toBe(1);

      other.open();
      let done = await staying;
      if (streamed) {
        expect(done.status).toBe(202);
        const id = done.body.id;
        await vi.waitFor(async () => {
          done = await lead.get(`/v1/signals/${id}`);
          expect(done.body.status).not.toBe('running');
        }, soon);
      }
      expect(done.status).toBe(200);
      expect(done.body.status).toBe('completed');
      expect(done.body.results.map((r: { content: string }) => r.content)).toEqual(['stays done']);
      expect(done.body.errors).toEqual([]);
      expect(await running.metric('hal9_upstream_requests_total', { status: '200' })).toBeGreaterThanOrEqual(
        1,
      );
      expect(
        await running.metric('hal9_signals_total', { neuron: 'worker', outcome: 'ok' }),
      ).toBeGreaterThanOrEqual(1);
      expect(await lead.metric('hal9_requests_total', { outcome: 'completed' })).toBe(2);
      expect(await lead.metric('hal9_peer_cancels_total', { peer: 'worker', outcome: 'taken' })).toBe(1);
      expect(await lead.metric('hal9_peer_cancels_total')).toBe(1);
      expect(await lead.metric('hal9_requests_total', { outcome: 'cancelled' })).toBe(1);
      for (const w of workers) {
        await vi.waitFor(() => idle(w), soon);
        expect(w.runtime.engine.forwardedRequests).toBe(0);
        expect(w.runtime.engine.breakerState).toBe('closed');
      }
      await vi.waitFor(() => idle(lead), soon);
    },
  );

  it('stops the cancelled signals’ own forwards to a further pod as well', async () => {
    const { upstream, first, other } = await gatedUpstream();
    const leaf = await start(apiDoc(upstream, { neurons: [neuron('leaf', 'L1')] }));
    const mid = await start(forwarding(['mid', 'L2'], ['leaf', 'L1'], leaf.url));
    const lead = await start({ ...forwarding(['lead', 'L3'], ['mid', 'L2'], mid.url), ...oneBatchAtATime });
    const { leaving, staying } = await shareOneBatch(lead, first, (n) => expect(upstream.inFlight).toBe(n));
    expect(await lead.metric('hal9_batch_size_sum', { target: 'mid' })).toBe(3);

    await leaving.leave();
    // The middle pod stops the leaving request's sub-run, and with it that sub-run's call to the leaf.
    await vi.waitFor(() => expect(upstream.inFlight).toBe(1), soon);
    expect(await leaf.metric('hal9_upstream_requests_total', { status: 'cancelled' })).toBe(1);
    other.open();
    const done = await staying;
    expect(done.status).toBe(200);
    expect(done.body.results.map((r: { content: string }) => r.content)).toEqual(['stays done']);
    for (const rt of [leaf, mid, lead]) await vi.waitFor(() => idle(rt), soon);
    expect(leaf.runtime.engine.forwardedRequests).toBe(0);
    expect(mid.runtime.engine.forwardedRequests).toBe(0);
  });

  it('the cancel route takes the peer token, ignores ids of no batch, and bounds its body', async () => {
    const worker = await startRuntime({ neurons: [neuron('worker', 'L2')] }, { peerToken: 'peer-secret' });
    started.push(worker);
    const path = '/v1/internal/batches/no-such-batch/cancel';
    const auth = { authorization: 'Bearer peer-secret' };
    expect((await worker.post(path, { signals: ['s1'] })).status).toBe(401);
    expect((await worker.post(path, { signals: ['s1'] }, { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );
    const ignored = await worker.post(path, { signals: ['s1', 's2'] }, auth);
    expect(ignored.status).toBe(200);
    expect(ignored.body).toEqual({ cancelled: 0 });
    expect((await worker.post(path, { signals: [] }, auth)).status).toBe(400);
    const many = Array.from({ length: 1001 }, (_, i) => `s${i}`);
    expect((await worker.post(path, { signals: many }, auth)).status).toBe(400);
    const huge = await worker.post(path, { signals: ['x'.repeat(200_000)] }, auth);
    expect(huge.status).toBe(413);
    // The limit quoted is the route's own, not server.body_limit_bytes (1 MiB, which the body is under).
    expect(huge.body.error).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      field: 'body',
      message: 'the body is larger than the 131072 bytes /v1/internal/batches/:batch/cancel takes',
    });
  });

  it('a cancellation refused (404: no such route), unanswered, or never asked for loses nothing: the batch completes', async () => {
    const cancels: { path: string; body: string; auth: string | undefined }[] = [];
    const asked: (string | undefined)[] = [];
    let release = gate();
    /** The address this peer names for its batches: its own, a dead port, or none (an older version). */
    let named: string | undefined;
    const self = await peerPod(async (req, res) => {
      const text = await readBody(req);
      if (req.url?.startsWith('/v1/internal/')) {
        cancels.push({ path: req.url, body: text, auth: req.headers.authorization });
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"message":"Route POST:/v1/internal/... not found","error":"Not Found","statusCode":404}');
        return;
      }
      asked.push(req.headers['hal9-cancel'] as string | undefined);
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(named ? { 'hal9-batch': 'b-1', 'hal9-batch-origin': named } : {}),
      });
      res.flushHeaders();
      await release.promise;
      res.end(JSON.stringify({ outcomes: [noOutcome, noOutcome] }));
    });
    const target = neuronConfig('impl', 'L2', [], { endpoint: self });
    const { transport, counted } = peerTransport({
      peerToken: 'peer-token',
      record: (peer, outcome) => `${peer} ${outcome}`,
    });
    const signals = [
      signalTo('impl', { id: 's1', requestId: 'r1' }),
      signalTo('impl', { id: 's2', requestId: 'r2' }),
    ];
    /** A batch of two requests' signals; the first request ends while it runs; then it is answered. */
    const round = async (settled: () => void) => {
      release = gate();
      const gone = new AbortController();
      const sent = sendBatch(transport, target, signals, 5_000, [gone.signal, new AbortController().signal]);
      const n = asked.length;
      await vi.waitFor(() => expect(asked).toHaveLength(n + 1), soon);
      expect(asked[n]).toBe('1');
      gone.abort();
      await vi.waitFor(settled, soon);
      release.open();
      expect(await sent).toEqual([noOutcome, noOutcome]);
    };

    // The cancellation goes to the address the peer named, with the peer token; its 404 is dropped.
    named = self;
    await round(() => expect(counted).toEqual(['impl refused']));
    expect(cancels).toEqual([
      {
        path: '/v1/internal/batches/b-1/cancel',
        body: JSON.stringify({ signals: ['s1'] }),
        auth: 'Bearer peer-token',
      },
    ]);
    // A pod that cannot be reached: dropped too.
    named = `http://127.0.0.1:${await deadPort()}`;
    await round(() => expect(counted).toEqual(['impl refused', 'impl failed']));
    // A peer from before cancellation names no batch: nothing is sent to it but the batch.
    named = undefined;
    await round(() => expect(asked).toHaveLength(3));
    expect(cancels).toHaveLength(1);
    expect(counted).toHaveLength(2);
  });

  it('a burst of requests ending while a cancellation is out goes in one more: one in flight per batch', async () => {
    const cancels: string[][] = [];
    const taken = gate();
    const answer = gate();
    const size = 40;
    const self = await peerPod(async (req, res) => {
      const text = await readBody(req);
      if (req.url?.startsWith('/v1/internal/')) {
        const { signals } = JSON.parse(text) as { signals: string[] };
        cancels.push(signals);
        // The first cancellation is held while every other request of the batch ends.
        if (cancels.length === 1) await taken.promise;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ cancelled: signals.length }));
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'hal9-batch': 'b-1',
        'hal9-batch-origin': self,
      });
      res.flushHeaders();
      await answer.promise;
      res.end(JSON.stringify({ outcomes: Array.from({ length: size + 1 }, () => noOutcome) }));
    });
    // The runtime's own control pool: two connections to a pod.
    const { transport, counted } = peerTransport({ controlConnections: 2 });
    const signals = Array.from({ length: size }, (_, i) =>
      signalTo('impl', { id: `s${i}`, requestId: `r${i}` }),
    );
    const requests = signals.map(() => new AbortController());
    const staying = new AbortController();
    const sent = sendBatch(
      transport,
      neuronConfig('impl', 'L2', [], { endpoint: self }),
      [...signals, signalTo('impl', { id: 'kept', requestId: 'kept' })],
      5_000,
      [...requests.map((r) => r.signal), staying.signal],
    );
    sent.catch(() => {});
    // Every request but one ends, each in its own turn, as callers leaving do.
    requests[0]!.abort();
    await vi.waitFor(() => expect(cancels).toHaveLength(1), soon);
    for (const r of requests.slice(1)) {
      r.abort();
      await new Promise((t) => setImmediate(t));
    }
    taken.open();
    await vi.waitFor(() => expect(counted).toEqual(['taken', 'taken']), soon);
    expect(cancels).toEqual([['s0'], signals.slice(1).map((s) => s.id)]);
    answer.open();
    await sent;
    expect(cancels).toHaveLength(2);
  });

  it('a cancellation carries the peer token in use now: one sent with a token rotated out since is taken', async () => {
    fake = await startFakeMessagesApi();
    const stays = gate();
    fake.respond((r) =>
      said(r, 'leaves') ? hang() : message('RESULT: stays done', {}, { until: stays.promise }),
    );
    const clock = new ManualClock();
    const worker = await startRuntime(
      apiDoc(fake, {
        neurons: [neuron('worker', 'L2')],
        // A long batch: its deadline (on the worker's clock) outlasts the rotation's grace.
        performance: { request_timeout_ms: 3_600_000 },
      }),
      {
        apiKey: 'k',
        peerToken: 'token-old',
        clock,
      },
    );
    started.push(worker);
    const { transport, counted } = peerTransport({ peerToken: 'token-old', controlConnections: 2 });
    const leaving = new AbortController();
    const sent = sendBatch(
      transport,
      neuronConfig('worker', 'L2', [], { endpoint: worker.url }),
      [
        signalTo('worker', { id: 's1', requestId: 'r1', content: 'leaves' }),
        signalTo('worker', { id: 's2', requestId: 'r2', content: 'stays' }),
      ],
      3_600_000,
      [leaving.signal, new AbortController().signal],
    );
    sent.catch(() => {});
    const upstream = fake;
    await vi.waitFor(() => expect(upstream.inFlight).toBe(2), soon);
    // The peer token is rotated at both ends, and the old one's grace passes at the worker.
    expect(worker.runtime.rotatePeerToken('token-new')).toBe(true);
    transport.usePeerToken('token-new');
    clock.advance(PEER_TOKEN_GRACE_MS);
    expect(
      (
        await worker.post(
          '/v1/internal/batches/x/cancel',
          { signals: ['s'] },
          { authorization: 'Bearer token-old' },
        )
      ).status,
    ).toBe(401);

    leaving.abort();
    await vi.waitFor(() => expect(counted).toEqual(['taken']), soon);
    await vi.waitFor(() => expect(upstream.inFlight).toBe(1), soon);
    stays.open();
    const [, kept] = await sent;
    expect(kept!.results.map((r) => r.content)).toEqual(['stays done']);
  });

  it('the cancel route counts only the signals it stopped: one that has finished is not', async () => {
    fake = await startFakeMessagesApi();
    fake.respond((r) => (said(r, 'slow') ? hang() : message('RESULT: quick done')));
    const worker = await start(apiDoc(fake, { neurons: [neuron('worker', 'L2')] }));
    const upstream = fake;
    const call = new AbortController();
    closers.push(async () => call.abort());
    const res = await fetch(`${worker.url}/v1/neurons/worker/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'hal9-cancel': '1' },
      body: JSON.stringify({
        deadlineMs: 30_000,
        signals: [
          signalTo('worker', { id: 'quick', requestId: 'r1', content: 'quick' }),
          signalTo('worker', { id: 'slow', requestId: 'r2', content: 'slow' }),
        ],
      }),
      signal: call.signal,
    });
    expect(res.status).toBe(200);
    const batch = res.headers.get('hal9-batch');
    expect(batch).toBeTruthy();
    // The quick signal has its answer; the slow one's model call is still out.
    await vi.waitFor(async () => {
      expect(await worker.metric('hal9_signals_total', { neuron: 'worker', outcome: 'ok' })).toBe(1);
      expect(upstream.inFlight).toBe(1);
    }, soon);
    const cancelled = await worker.post(`/v1/internal/batches/${batch}/cancel`, {
      signals: ['quick', 'slow'],
    });
    expect(cancelled.body).toEqual({ cancelled: 1 });
    await vi.waitFor(() => expect(upstream.inFlight).toBe(0), soon);
    const answer = (await res.json()) as {
      outcomes: { results: { content: string }[]; errors: { code: string }[] }[];
    };
    expect(answer.outcomes[0]!.results.map((r) => r.content)).toEqual(['quick done']);
    expect(answer.outcomes[1]!.errors.map((e) => e.code)).toContain('CLIENT_CLOSED');
  });
});

describe('how a cancellation is counted', () => {
  it('counts a cancellation the pod took with nothing left to stop as none, one that stopped a signal as taken', async () => {
    fake = await startFakeMessagesApi();
    const stays = gate();
    fake.respond((r) =>
      said(r, 'slow')
        ? hang()
        : said(r, 'stays')
          ? message('RESULT: stays done', {}, { until: stays.promise })
          : message('RESULT: quick done'),
    );
    const worker = await start(apiDoc(fake, { neurons: [neuron('worker', 'L2')] }));
    const { transport, counted } = peerTransport({ controlConnections: 2 });
    const quick = new AbortController();
    const slow = new AbortController();
    const sent = sendBatch(
      transport,
      neuronConfig('worker', 'L2', [], { endpoint: worker.url }),
      [
        signalTo('worker', { id: 'q', requestId: 'r1', content: 'quick' }),
        signalTo('worker', { id: 's', requestId: 'r2', content: 'slow' }),
        signalTo('worker', { id: 'k', requestId: 'r3', content: 'stays' }),
      ],
      30_000,
      [quick.signal, slow.signal, new AbortController().signal],
    );
    sent.catch(() => {});
    const upstream = fake;
    // The quick signal has ended at the worker; the slow and staying ones' model calls are out.
    await vi.waitFor(async () => {
      expect(await worker.metric('hal9_signals_total', { neuron: 'worker', outcome: 'ok' })).toBe(1);
      expect(upstream.inFlight).toBe(2);
    }, soon);
    // Its request ends here: the worker takes the cancellation but has nothing left to stop.
    quick.abort();
    await vi.waitFor(() => expect(counted).toEqual(['none']), soon);
    // The slow one's request ends: its model call is stopped there.
    slow.abort();
    await vi.waitFor(() => expect(counted).toEqual(['none', 'taken']), soon);
    await vi.waitFor(() => expect(upstream.inFlight).toBe(1), soon);
    expect(await worker.metric('hal9_signals_total', { neuron: 'worker', outcome: 'cancelled' })).toBe(1);
    stays.open();
    const [, , kept] = await sent;
    expect(kept!.results.map((r) => r.content)).toEqual(['stays done']);
  });

  it('at shutdown, drops a cancellation the peer holds unanswered at once, closing its connection, uncounted', async () => {
    const first = gate();
    const answer = gate();
    const batches: number[] = [];
    const cancels: string[] = [];
    let cut = false;
    const self = await peerPod(async (req, res) => {
      const text = await readBody(req);
      if (req.url?.startsWith('/v1/internal/')) {
        // Held, never answered: only the sender closing it ends it.
        cancels.push(text);
        req.socket.on('close', () => {
          cut = true;
        });
        return;
      }
      const { signals } = JSON.parse(text) as { signals: Received[] };
      batches.push(signals.length);
      const outcomes = JSON.stringify({ outcomes: signals.map((x) => ranOutcome(x)) });
      if (batches.length === 1) {
        await first.promise;
        res.writeHead(200, { 'content-type': 'application/json' }).end(outcomes);
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'hal9-batch': 'b-2',
        'hal9-batch-origin': self,
      });
      res.flushHeaders();
      await answer.promise;
      res.end(outcomes);
    });
    const lead = await start({ ...forwarding(['lead', 'L3'], ['worker', 'L2'], self), ...oneBatchAtATime });
    // The two requests' signals go together in the second batch.
    const { leaving, staying } = await shareOneBatch(lead, first, (n) =>
      expect(batches).toEqual([1, 2].slice(0, n)),
    );
    await leaving.leave();
    await vi.waitFor(() => expect(cancels).toHaveLength(1), soon);
    // The batch answers the staying request; the cancellation is still held by the peer.
    answer.open();
    expect((await staying).status).toBe(200);
    expect(cut).toBe(false);

    await lead.close();
    // Dropped, not waited for: its connection is closed by the sender, and it is not counted (it
    // says nothing of the peer), at shutdown or after.
    await vi.waitFor(() => expect(cut).toBe(true), soon);
    await new Promise((r) => setImmediate(r));
    expect(await lead.metric('hal9_peer_cancels_total')).toBe(0);
    expect(cancels).toHaveLength(1);
  });
});
