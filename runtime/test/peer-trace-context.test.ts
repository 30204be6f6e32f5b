import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ForwardedSignal } from '../src/pipeline/signal.ts';
import { tracingWith } from '../src/tracing/provider.ts';
import { ranOutcome } from './support/peer-outcome.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// Signals of different requests share a peer batch (one HTTP call); each must stay in its own trace
// on the peer and onward: its own W3C context travels inside the batch body, the header carries the
// first signal's (for receivers that read only the header).

const started: Started[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const spanId = (s: ReadableSpan) => s.spanContext().spanId;
const traceOf = (s: ReadableSpan) => s.spanContext().traceId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const traceIds = Array.from({ length: 4 }, (_, i) => `${String(i + 1).repeat(8)}${'ab'.repeat(12)}`);
const callerTraceparent = (traceId: string) => `00-${traceId}-00f067aa0ba902b7-01`;
/** A vendor's tracestate of each caller, different per trace. */
const callerTracestate = (traceId: string) => `rojo=${traceId.slice(0, 8)},congo=t61rcWkgMzE`;

interface Received {
  readonly header: string | undefined;
  readonly stateHeader: string | undefined;
  readonly signals: ForwardedSignal[];
}

/**
 * A peer pod that records each batch and answers every signal with one result after `holdMs` (so
 * that, behind one connection, the signals that come meanwhile form a batch). `refuses` plays a
 * receiver from before per-signal contexts (or before their tracestate, or budgets): its schema
 * refuses the field.
 */
async function recordingPeer(
  holdMs: number,
  refuses?: 'traceparent' | 'tracestate' | 'budgetLeft' | 'budgetLeft.modelCalls' | 'deadlineByCaller',
) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const batch = JSON.parse(body) as { signals: ForwardedSignal[] };
      const headers: IncomingHttpHeaders = req.headers;
      const has = (s: ForwardedSignal) =>
        refuses === 'budgetLeft.modelCalls'
          ? s.budgetLeft?.modelCalls !== undefined
          : s[refuses!] !== undefined;
      if (refuses && batch.signals.some(has)) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: {
              code: 'INVALID_REQUEST',
              message: `body.signals.0.${refuses} must NOT have additional properties`,
              field: `signals.0.${refuses}`,
            },
          }),
        );
        return;
      }
      received.push({
        header: headers.traceparent as string | undefined,
        stateHeader: headers.tracestate as string | undefined,
        signals: batch.signals,
      });
      setTimeout(() => {
        const outcomes = batch.signals.map((x) => ranOutcome(x, ['leafed']));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outcomes }));
      }, holdMs);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** The trace id a W3C traceparent names. */
const traceIdOf = (tp: string | undefined) => tp?.split('-')[1];

/** mid (L3, slow) forwards every signal to the leaf peer; one connection per peer, so signals batch. */
const midDoc = (leafUrl: string) => ({
  neurons: [neuron('mid', 'L3', ['leaf']), neuron('leaf', 'L2', [], { endpoint: leafUrl })],
  performance: { connection_pool: { max_connections_per_host: 1, idle_timeout_seconds: 90 } },
  claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: leaf', 300)] } },
});
const leadDoc = (midUrl: string) => ({
  neurons: [
    neuron('lead', 'L4', ['mid']),
    neuron('mid', 'L3', ['leaf'], { endpoint: midUrl }),
    neuron('leaf', 'L2'),
  ],
  performance: { connection_pool: { max_connections_per_host: 1, idle_timeout_seconds: 90 } },
  claude: { mock_responses: { L4: [answer('default', 'FORWARD_TO: mid\nCONTENT: onward')] } },
});

/** Four requests at once, each with its own caller trace; all end with the leaf's result. */
async function sendAll(lead: Started) {
  const res = await Promise.all(
    traceIds.map((t) =>
      lead.post(
        '/v1/signals',
        { content: 'x' },
        { traceparent: callerTraceparent(t), tracestate: callerTracestate(t) },
      ),
    ),
  );
  for (const r of res) {
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([{ neuron: 'leaf', layer: 'L2', content: 'leafed' }]);
  }
  expect(res.map((r) => r.body.traceId)).toEqual(traceIds);
}

/** Every batch the leaf got: each signal carries its own trace's context and its caller's tracestate. */
function expectOwnContexts(received: readonly Received[]) {
  expect(received.some((b) => new Set(b.signals.map((s) => s.traceId)).size > 1)).toBe(true);
  for (const b of received) {
    expect(traceIdOf(b.header)).toBe(b.signals[0]!.traceId);
    expect(b.stateHeader).toBe(callerTracestate(b.signals[0]!.traceId));
    for (const s of b.signals) {
      expect(traceIdOf(s.traceparent)).toBe(s.traceId);
      expect(s.tracestate).toBe(callerTracestate(s.traceId));
    }
  }
}

describe('trace context of signals that share a peer batch', () => {
  it('with tracing off, passes each caller’s trace id, sampling decision and tracestate on to the peer', async () => {
    const leaf = await recordingPeer(0);
    const lead = await startRuntime({
      neurons: [neuron('lead', 'L4', ['leaf']), neuron('leaf', 'L2', [], { endpoint: leaf.url })],
      claude: { mock_responses: { L4: [answer('default', 'FORWARD_TO: leaf')] } },
    });
    started.push(lead);
    for (const [i, flags] of [
      ['1', '00'],
      ['2', '01'],
    ] as const) {
      const traceId = traceIds[Number(i)]!;
      const res = await lead.post(
        '/v1/signals',
        { content: `x${i}` },
        // Passed on normalised: members trimmed, empty ones left out.
        { traceparent: `00-${traceId}-00f067aa0ba902b7-${flags}`, tracestate: `rojo=${i} ,, congo=2` },
      );
      expect(res.status).toBe(200);
      const batch = leaf.received.at(-1)!;
      expect(batch.stateHeader).toBe(`rojo=${i},congo=2`);
      expect(batch.signals[0]!.tracestate).toBe(`rojo=${i},congo=2`);
      // A "not sampled" caller stays not sampled downstream: never turned into a sampled trace.
      for (const tp of [batch.header, batch.signals[0]!.traceparent]) {
        const [version, id, , sent] = String(tp).split('-');
        expect([version, id, sent]).toEqual(['00', traceId, flags]);
      }
    }
  });

  it('parents each signal’s span on the peer under its own request’s peer call, and sends each its own context onward', async () => {
    const leaf = await recordingPeer(100);
    const leadSpans = new InMemorySpanExporter();
    const midSpans = new InMemorySpanExporter();
    const mid = await startRuntime(midDoc(leaf.url), {
      tracing: tracingWith(new SimpleSpanProcessor({ exporter: midSpans }), 'mid', 'test'),
    });
    started.push(mid);
    const lead = await startRuntime(leadDoc(mid.url), {
      tracing: tracingWith(new SimpleSpanProcessor({ exporter: leadSpans }), 'lead', 'test'),
    });
    started.push(lead);
    await sendAll(lead);

    // Requests did share a batch to mid (else this test proves nothing).
    const peerCalls = leadSpans.getFinishedSpans().filter((s) => s.name === 'hal9.peer mid');
    expect(peerCalls.some((s) => Number(s.attributes['hal9.batch_size']) > 1)).toBe(true);
    // Mid's server spans end as its responses close, which the lead need not wait for.
    await vi.waitFor(
      () =>
        expect(midSpans.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(
          traceIds.length,
        ),
      { timeout: 5_000, interval: 10 },
    );
    for (const traceId of traceIds) {
      const leadSignal = leadSpans
        .getFinishedSpans()
        .find((s) => s.name === 'hal9.signal lead' && traceOf(s) === traceId)!;
      const peerCall = peerCalls.find((s) => traceOf(s) === traceId)!;
      expect(parentOf(peerCall)).toBe(spanId(leadSignal));
      // Mid's server span for it is the peer call's child, and the parent of mid's signal span.
      const midServers = midSpans
        .getFinishedSpans()
        .filter((s) => s.kind === SpanKind.SERVER && parentOf(s) === spanId(peerCall));
      expect(midServers.map(traceOf), traceId).toEqual([traceId]);
      const midSignals = midSpans
        .getFinishedSpans()
        .filter((s) => s.name === 'hal9.signal mid' && parentOf(s) === spanId(midServers[0]!));
      expect(midSignals.map(traceOf), traceId).toEqual([traceId]);
    }
    // No span on mid outside the four traces.
    expect(new Set(midSpans.getFinishedSpans().map(traceOf))).toEqual(new Set(traceIds));

    // Each span carries its own caller's tracestate.
    for (const s of [...leadSpans.getFinishedSpans(), ...midSpans.getFinishedSpans()])
      expect(s.spanContext().traceState?.serialize()).toBe(callerTracestate(traceOf(s)));
    // Onward to the leaf: every signal carries a context of its own trace.
    expectOwnContexts(leaf.received);
  });

  it('with tracing off, the context a peer sends onward is still each signal’s own trace', async () => {
    const leaf = await recordingPeer(100);
    const mid = await startRuntime(midDoc(leaf.url));
    started.push(mid);
    const lead = await startRuntime(leadDoc(mid.url));
    started.push(lead);
    await sendAll(lead);
    expect(new Set(leaf.received.flatMap((b) => b.signals.map((s) => s.traceId)))).toEqual(new Set(traceIds));
    expectOwnContexts(leaf.received);
  });

  it.each(['traceparent', 'tracestate', 'budgetLeft'] as const)(
    'sends a batch again without per-signal contexts and budgets to a peer of an older version that refuses %s',
    async (field) => {
      const old = await recordingPeer(0, field);
      const lead = await startRuntime({
        neurons: [neuron('lead', 'L3', ['leaf']), neuron('leaf', 'L2', [], { endpoint: old.url })],
        claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: leaf')] } },
      });
      started.push(lead);
      const res = await lead.post(
        '/v1/signals',
        { content: 'x' },
        { traceparent: callerTraceparent(traceIds[0]!), tracestate: callerTracestate(traceIds[0]!) },
      );
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual([{ neuron: 'leaf', layer: 'L2', content: 'leafed' }]);
      expect(old.received).toHaveLength(1);
      expect(old.received[0]!.signals[0]!.traceparent).toBeUndefined();
      expect(old.received[0]!.signals[0]!.tracestate).toBeUndefined();
      expect(old.received[0]!.signals[0]!.budgetLeft).toBeUndefined();
      expect(traceIdOf(old.received[0]!.header)).toBe(traceIds[0]);
      expect(old.received[0]!.stateHeader).toBe(callerTracestate(traceIds[0]!));
    },
  );

  it('sends a batch again with budgetLeft’s tokens and cost only to a peer of a version before its counts', async () => {
    const old = await recordingPeer(0, 'budgetLeft.modelCalls');
    const lead = await startRuntime({
      neurons: [neuron('lead', 'L3', ['leaf']), neuron('leaf', 'L2', [], { endpoint: old.url })],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: leaf')] } },
      performance: { request_budget: { max_tokens: 5000, max_cost_usd: 0.5 } },
    });
    started.push(lead);
    const res = await lead.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ neuron: 'leaf', layer: 'L2', content: 'leafed' }]);
    expect(old.received).toHaveLength(1);
    expect(old.received[0]!.signals[0]!.budgetLeft).toEqual({ tokens: 5000, costUsd: 0.5 });
    expect(old.received[0]!.signals[0]!.traceparent).toBeDefined();
  });

  it('sends a batch again without deadlineByCaller, contexts and budgets kept, to a peer of a version before it', async () => {
    const old = await recordingPeer(0, 'deadlineByCaller');
    const lead = await startRuntime({
      neurons: [neuron('lead', 'L3', ['leaf']), neuron('leaf', 'L2', [], { endpoint: old.url })],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: leaf')] } },
      performance: { request_budget: { max_tokens: 5000 } },
    });
    started.push(lead);
    const res = await lead.post('/v1/signals?timeout_ms=5000', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ neuron: 'leaf', layer: 'L2', content: 'leafed' }]);
    expect(old.received).toHaveLength(1);
    const sent = old.received[0]!.signals[0]!;
    expect(sent.deadlineByCaller).toBeUndefined();
    expect(sent.budgetLeft).toMatchObject({ tokens: 5000 });
    expect(sent.traceparent).toBeDefined();
  });

  it('ignores a malformed or foreign per-signal context (the span stays in the signal’s trace) and refuses an oversized one', async () => {
    const spans = new InMemorySpanExporter();
    const peer = await startRuntime(
      { neurons: [neuron('worker', 'L2')] },
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter: spans }), 'worker', 'test') },
    );
    started.push(peer);
    const signal = (i: number, traceparent: unknown) => ({
      id: `s${i}`,
      requestId: `r${i}`,
      traceId: traceIds[i],
      parentId: null,
      from: 'lead',
      to: 'worker',
      hop: 1,
      content: 'x',
      path: ['lead'],
      metadata: {},
      traceparent,
    });
    const header = callerTraceparent(traceIds[3]!);
    const res = await peer.post(
      '/v1/neurons/worker/signals',
      {
        deadlineMs: 5000,
        signals: [
          signal(0, 'not-a-traceparent'),
          signal(1, `00-${traceIds[2]}-00f067aa0ba902b7-01`), // another signal's trace
          signal(2, `00-${traceIds[2]}-1111111111111111-01`),
        ],
      },
      { traceparent: header },
    );
    expect(res.status).toBe(200);
    expect(res.body.outcomes).toHaveLength(3);
    const worker = spans.getFinishedSpans().filter((s) => s.name === 'hal9.signal worker');
    const byRequest = (i: number) => worker.find((s) => traceOf(s) === traceIds[i]);
    expect(byRequest(0)).toBeDefined();
    expect(byRequest(1)).toBeDefined();
    // Under the server span for its own context (one per distinct context of the batch), which ends
    // as the response closes: the caller need not wait for it.
    const server = await vi.waitFor(
      () => {
        const found = spans.getFinishedSpans().find((p) => spanId(p) === parentOf(byRequest(2)!));
        expect(found).toBeDefined();
        return found!;
      },
      { timeout: 5_000, interval: 10 },
    );
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(parentOf(server)).toBe('1111111111111111');
    expect(worker.filter((s) => traceOf(s) === traceIds[3])).toEqual([]);

    const oversized = await peer.post('/v1/neurons/worker/signals', {
      deadlineMs: 5000,
      signals: [signal(0, `00-${'a'.repeat(300)}`)],
    });
    expect(oversized.status).toBe(400);
    expect(oversized.body.error.field).toBe('signals.0.traceparent');

    // A tracestate past the field's bound is refused, naming it; a malformed one is ignored.
    const own = callerTraceparent(traceIds[0]!);
    const longState = await peer.post('/v1/neurons/worker/signals', {
      deadlineMs: 5000,
      signals: [{ ...signal(0, own), tracestate: `k=${'v'.repeat(1100)}` }],
    });
    expect(longState.status).toBe(400);
    expect(longState.body.error.field).toBe('signals.0.tracestate');
    expect(longState.body.error.message).toContain('1024');
    const badState = await peer.post('/v1/neurons/worker/signals', {
      deadlineMs: 5000,
      signals: [{ ...signal(1, callerTraceparent(traceIds[1]!)), tracestate: 'Not Valid=,k=1,k=2' }],
    });
    expect(badState.status).toBe(200);
    const kept = await vi.waitFor(
      () => {
        const found = spans
          .getFinishedSpans()
          .find(
            (s) =>
              s.kind === SpanKind.SERVER && traceOf(s) === traceIds[1] && parentOf(s) === '00f067aa0ba902b7',
          );
        expect(found).toBeDefined();
        return found!;
      },
      { timeout: 5_000, interval: 10 },
    );
    expect(kept.spanContext().traceState).toBeUndefined();
  });
});
