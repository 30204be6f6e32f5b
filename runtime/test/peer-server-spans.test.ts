import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tracingWith } from '../src/tracing/provider.ts';
import { leavable } from './support/leavable.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// A request that crosses pods shows the hop as a CLIENT span on the sender and a SERVER span on the
// receiver (what Tempo's service graph and Jaeger's dependencies draw an edge from), both with the
// HTTP semantic conventions' attributes; the receiver's signal spans hang under its server span.

const started: Started[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});

const spanId = (s: ReadableSpan) => s.spanContext().spanId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const traced = (exporter: InMemorySpanExporter, name: string) => ({
  tracing: tracingWith(new SimpleSpanProcessor({ exporter }), name, 'test'),
});
const PEER_ROUTE = '/v1/neurons/:id/signals';

describe('spans of a request across runtime pods', () => {
  it.each([false, true])(
    'opens a server span on the receiving pod under the sender’s peer call, parent of its signal spans (streamed: %s)',
    async (streamed) => {
      const leadSpans = new InMemorySpanExporter();
      const workerSpans = new InMemorySpanExporter();
      const worker = await startRuntime({ neurons: [neuron('worker', 'L2')] }, traced(workerSpans, 'worker'));
      started.push(worker);
      const lead = await startRuntime(
        {
          neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })],
          claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: worker')] } },
        },
        traced(leadSpans, 'lead'),
      );
      started.push(lead);
      // A followed request has its peer call streamed (application/x-ndjson), else answered whole.
      let traceId: string;
      if (streamed) {
        const res = await fetch(`${lead.url}/v1/signals?stream=true`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: 'x' }),
        });
        expect(await res.text()).toContain('event: end');
        traceId = res.headers.get('traceresponse')!.split('-')[1]!;
      } else {
        const res = await lead.post('/v1/signals', { content: 'x' });
        expect(res.status).toBe(200);
        traceId = res.body.traceId;
      }

      const client = leadSpans.getFinishedSpans().find((s) => s.name === 'hal9.peer worker')!;
      expect(client.kind).toBe(SpanKind.CLIENT);
      expect(client.attributes).toMatchObject({
        'http.request.method': 'POST',
        'url.full': `${worker.url}/v1/neurons/worker/signals`,
        'http.response.status_code': 200,
      });
      // The peer's span ends as its response closes, which the sender need not wait for.
      const servers = await vi.waitFor(() => {
        const found = workerSpans.getFinishedSpans().filter((s) => s.name === `POST ${PEER_ROUTE}`);
        expect(found).toHaveLength(1);
        return found;
      });
      const server = servers[0]!;
      expect(server.kind).toBe(SpanKind.SERVER);
      expect(server.spanContext().traceId).toBe(traceId);
      expect(parentOf(server)).toBe(spanId(client));
      const port = Number(new URL(worker.url).port);
      expect(server.attributes).toMatchObject({
        'http.request.method': 'POST',
        'http.route': PEER_ROUTE,
        'url.path': '/v1/neurons/worker/signals',
        'network.protocol.version': '1.1',
        'http.response.status_code': 200,
        'url.scheme': 'http',
        'server.address': '127.0.0.1',
        'server.port': port,
        'client.address': '127.0.0.1',
        'hal9.neuron': 'worker',
        'hal9.batch_size': 1,
      });
      const signal = workerSpans.getFinishedSpans().find((s) => s.name === 'hal9.signal worker')!;
      expect(parentOf(signal)).toBe(spanId(server));
      // The request's own span has the status its answer was sent with (a stream's 200 goes first).
      const request = leadSpans.getFinishedSpans().find((s) => s.name === 'hal9.request')!;
      expect(request.attributes['http.response.status_code']).toBe(200);
    },
  );

  it('gives a refused peer call a failed server span with its status, under the call’s traceparent', async () => {
    const spans = new InMemorySpanExporter();
    const worker = await startRuntime({ neurons: [neuron('worker', 'L2')] }, traced(spans, 'worker'));
    started.push(worker);
    const traceparent = `00-${'ab'.repeat(16)}-00f067aa0ba902b7-01`;
    const signal = {
      id: 's1',
      requestId: 'r1',
      traceId: 'ab'.repeat(16),
      parentId: null,
      from: 'lead',
      to: 'nobody',
      hop: 1,
      content: 'x',
      path: ['lead'],
      metadata: {},
    };
    const res = await worker.post(
      '/v1/neurons/nobody/signals',
      { deadlineMs: 5000, signals: [signal] },
      { traceparent },
    );
    expect(res.status).toBe(404);
    // Its span ends as the response closes, after the caller may have read it.
    const server = await vi.waitFor(() => {
      const found = spans.getFinishedSpans().find((s) => s.name === `POST ${PEER_ROUTE}`);
      expect(found).toBeDefined();
      return found!;
    });
    expect(server.spanContext().traceId).toBe('ab'.repeat(16));
    expect(parentOf(server)).toBe('00f067aa0ba902b7');
    // A 4xx is the caller's error, not the server's (HTTP semantic conventions).
    expect(server.attributes['http.response.status_code']).toBe(404);
    expect(server.status.code).toBe(0);
  });

  it('gives a call with a wrong peer token its server span (401) in a trace of its own, before the body is read', async () => {
    const spans = new InMemorySpanExporter();
    const worker = await startRuntime(
      { neurons: [neuron('worker', 'L2')] },
      { ...traced(spans, 'worker'), peerToken: 'peer-secret' },
    );
    started.push(worker);
    const traceparent = `00-${'cd'.repeat(16)}-00f067aa0ba902b7-01`;
    const res = await worker.post(
      '/v1/neurons/worker/signals',
      { deadlineMs: 5000, signals: [] },
      { traceparent },
    );
    expect(res.status).toBe(401);
    const server = await vi.waitFor(() => {
      const found = spans.getFinishedSpans().find((s) => s.name === `POST ${PEER_ROUTE}`);
      expect(found).toBeDefined();
      return found!;
    });
    // Refused for its token, the call does not choose its trace: a new root, the sampler's to decide.
    expect(server.spanContext().traceId).not.toBe('cd'.repeat(16));
    expect(parentOf(server)).toBeUndefined();
    expect(server.attributes).toMatchObject({
      'http.response.status_code': 401,
      'http.route': PEER_ROUTE,
      'hal9.neuron': 'worker',
    });

    // A sending pod with another token: both sides of the hop say 401.
    const leadSpans = new InMemorySpanExporter();
    const lead = await startRuntime(
      {
        neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })],
        claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: worker')] } },
      },
      { ...traced(leadSpans, 'lead'), peerToken: 'another-secret' },
    );
    started.push(lead);
    await lead.post('/v1/signals', { content: 'x' });
    const client = leadSpans.getFinishedSpans().find((s) => s.name === 'hal9.peer worker')!;
    expect(client.attributes['http.response.status_code']).toBe(401);
    const refused = await vi.waitFor(
      () => {
        const found = spans.getFinishedSpans().filter((s) => s.name === `POST ${PEER_ROUTE}`);
        expect(found).toHaveLength(2);
        return found;
      },
      { timeout: 10_000 },
    );
    for (const s of refused) {
      expect(s.attributes).toMatchObject({ 'http.response.status_code': 401, 'http.route': PEER_ROUTE });
      expect(parentOf(s)).not.toBe(spanId(client));
      expect(s.spanContext().traceId).not.toBe(client.spanContext().traceId);
    }
  });

  it('fails the server span of a call its sender closed before the answer (CLIENT_CLOSED)', async () => {
    const spans = new InMemorySpanExporter();
    const worker = await startRuntime(
      {
        neurons: [neuron('worker', 'L2')],
        claude: { mock_responses: { L2: [answer('default', 'RESULT: late', 5_000)] } },
      },
      traced(spans, 'worker'),
    );
    started.push(worker);
    const lead = await startRuntime({
      neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })],
    });
    started.push(lead);
    const caller = leavable(`${lead.url}/v1/signals`, { content: 'x' });
    await vi.waitFor(
      async () => {
        const { body } = await worker.get('/v1/neurons');
        expect(body.neurons.find((n: { id: string }) => n.id === 'worker').counters.active).toBe(1);
      },
      { timeout: 5_000, interval: 20 },
    );
    await caller.leave();
    await vi.waitFor(
      () => {
        const server = spans.getFinishedSpans().find((s) => s.name === `POST ${PEER_ROUTE}`);
        expect(server?.attributes['error.type']).toBe('CLIENT_CLOSED');
        // The head (200 and the batch's id, for cancellations) goes once the batch has run 20 ms; a
        // caller that left sooner never got it. Either way no answer went: the span is an error.
        expect([200, undefined]).toContain(server?.attributes['http.response.status_code']);
        expect(server?.status.code).toBe(2);
      },
      { timeout: 5_000, interval: 20 },
    );
    // Its signal span, cut off, ends under it, before it (spans are exported as they end).
    const finished = spans.getFinishedSpans();
    const server = finished.findIndex((s) => s.name === `POST ${PEER_ROUTE}`);
    const signal = finished.findIndex((s) => s.name === 'hal9.signal worker');
    expect(parentOf(finished[signal]!)).toBe(spanId(finished[server]!));
    expect(signal).toBeLessThan(server);
  });

  it('puts the HTTP attributes and the answer’s status on hal9.request', async () => {
    const spans = new InMemorySpanExporter();
    const rt = await startRuntime({ neurons: [neuron('solo', 'L2')] }, traced(spans, 'solo'));
    started.push(rt);
    const waited = await rt.post('/v1/signals', { content: 'x' });
    expect(waited.status).toBe(200);
    const later = await rt.post('/v1/signals?wait=false', { content: 'y' });
    expect(later.status).toBe(202);
    // The request answered 202 ends on its own: its span is exported when it does.
    while ((await rt.get(`/v1/signals/${later.body.id}`)).body.status === 'running');
    const requests = spans.getFinishedSpans().filter((s) => s.name === 'hal9.request');
    const of = (traceId: string) => requests.find((s) => s.spanContext().traceId === traceId)!;
    expect(of(waited.body.traceId).attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/signals',
      'url.path': '/v1/signals',
      'http.response.status_code': 200,
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(rt.url).port),
      'client.address': '127.0.0.1',
    });
    expect(of(later.body.traceId).attributes).toMatchObject({
      'url.path': '/v1/signals',
      'http.response.status_code': 202,
    });
    // A request refused as it came still has its span, failed, with the status it was answered with.
    const refusedTrace = 'ef'.repeat(16);
    const unknown = await rt.post(
      '/v1/signals?wait=false',
      { content: 'z', neuron: 'nobody' },
      { traceparent: `00-${refusedTrace}-00f067aa0ba902b7-01` },
    );
    expect(unknown.status).toBe(404);
    const refused = spans
      .getFinishedSpans()
      .find((s) => s.name === 'hal9.request' && s.spanContext().traceId === refusedTrace)!;
    expect(parentOf(refused)).toBe('00f067aa0ba902b7');
    expect(refused.attributes).toMatchObject({
      'http.route': '/v1/signals',
      'http.response.status_code': 404,
      'error.type': 'UNKNOWN_NEURON',
    });
    expect(refused.status.code).toBe(2);
    // A batch's items share the batch's one answer: each span has the route, no status of its own.
    const batch = await rt.post('/v1/signals/batch', { signals: [{ content: 'a' }, { content: 'b' }] });
    expect(batch.status).toBe(200);
    const items = spans
      .getFinishedSpans()
      .filter((s) => s.name === 'hal9.request' && s.attributes['http.route'] === '/v1/signals/batch');
    expect(items).toHaveLength(2);
    for (const s of items) expect(s.attributes['http.response.status_code']).toBeUndefined();
  });
});
