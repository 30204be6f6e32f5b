import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { describe, expect, it, vi } from 'vitest';
import { MAX_ANSWER_TAG_CHARS } from '../src/claude/completion-of.ts';
import {
  createTracing,
  DEFAULT_VALUE_LENGTH,
  MAX_QUEUED_SPANS,
  samplerFrom,
  tracingWith,
} from '../src/tracing/provider.ts';
import { apiRuntimes } from './support/api-runtimes.ts';
import { apiDoc, hang, message, raw } from './support/fake-messages-api.ts';
import { leavable } from './support/leavable.ts';
import { answer, neuron, startRuntime } from './support/runtime.ts';

// Spans and their parent links with the real OpenTelemetry SDK (in-memory exporter here; the OTLP path
// against a real Jaeger is in tracing-jaeger.test.ts): request → signal → model call / peer call, W3C
// context to the Messages API and to peers, GenAI attributes on model calls.

const runtimes = apiRuntimes();
const { started } = runtimes;

const spanId = (s: ReadableSpan) => s.spanContext().spanId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing', () => {
  it('links request, signal and model-call spans, continues the caller’s trace and sends context upstream', async () => {
    const exporter = new InMemorySpanExporter();
    const fake = await runtimes.fake();
    fake.respond((req) =>
      message(req.body.system[0].text === 'You are lead.' ? 'FORWARD_TO: impl-1' : 'RESULT: done', {
        input_tokens: 11,
        output_tokens: 7,
        cache_read_input_tokens: 5,
      }),
    );
    const rt = await startRuntime(
      apiDoc(fake, { neurons: [neuron('lead', 'L3', ['impl-1']), neuron('impl-1', 'L2')] }),
      { apiKey: 'k', tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test') },
    );
    started.push(rt);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await rt.post(
      '/v1/signals',
      { content: 'x' },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: 'rojo=00f067aa0ba902b7' },
    );
    expect(res.status).toBe(200);
    expect(res.body.traceId).toBe(traceId);
    const spans = exporter.getFinishedSpans();
    expect(spans.every((s) => s.spanContext().traceId === traceId)).toBe(true);
    const byName = (n: string) => spans.filter((s) => s.name === n);
    const [request] = byName('hal9.request');
    const [lead] = byName('hal9.signal lead');
    const [impl] = byName('hal9.signal impl-1');
    const chats = byName('chat claude-test-1');
    expect(parentOf(request!)).toBe('00f067aa0ba902b7');
    expect(parentOf(lead!)).toBe(spanId(request!));
    expect(parentOf(impl!)).toBe(spanId(lead!));
    expect(chats.map(parentOf).sort()).toEqual([spanId(lead!), spanId(impl!)].sort());
    const leadChat = chats.find((c) => parentOf(c) === spanId(lead!))!;
    expect(leadChat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-test-1',
      // The conventions count every input token: Anthropic's input_tokens leaves the cached ones out.
      'gen_ai.usage.input_tokens': 16,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.usage.cache_read.input_tokens': 5,
      'gen_ai.usage.cache_creation.input_tokens': 0,
      'gen_ai.response.finish_reasons': ['end_turn'],
      // The host and port of claude.base_url, not the URL.
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(fake.url).port),
    });
    // The Messages API received the model-call span's context.
    const sentIds = fake.requests.map((r) => String(r.headers.traceparent).split('-')[2]);
    expect(sentIds.sort()).toEqual(chats.map(spanId).sort());
    // and the caller's tracestate with it, as received.
    expect(fake.requests.map((r) => r.headers.tracestate)).toEqual([
      'rojo=00f067aa0ba902b7',
      'rojo=00f067aa0ba902b7',
    ]);
  });

  it('in cluster mode the peer call is a span, and the peer’s server span for it is its child', async () => {
    const lead = new InMemorySpanExporter();
    const worker = new InMemorySpanExporter();
    const w = await startRuntime(
      { neurons: [neuron('worker', 'L2')] },
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter: worker }), 'worker', 'test') },
    );
    started.push(w);
    const l = await startRuntime(
      { neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: w.url })] },
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter: lead }), 'lead', 'test') },
    );
    started.push(l);
    const res = await l.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    const peer = lead.getFinishedSpans().find((s) => s.name === 'hal9.peer worker')!;
    const leadSignal = lead.getFinishedSpans().find((s) => s.name === 'hal9.signal lead')!;
    expect(parentOf(peer)).toBe(spanId(leadSignal));
    expect(peer.kind).toBe(SpanKind.CLIENT);
    expect(peer.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(w.url).port),
    });
    // The worker's server span ends as its response closes, which the lead need not wait for.
    const server = await vi.waitFor(() => {
      const found = worker.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
      expect(found).toBeDefined();
      return found!;
    });
    expect(parentOf(server)).toBe(spanId(peer));
    const remote = worker.getFinishedSpans().find((s) => s.name === 'hal9.signal worker')!;
    expect(remote.spanContext().traceId).toBe(res.body.traceId);
    expect(parentOf(remote)).toBe(spanId(server));
  });

  it('ends a peer call its caller’s departure cut off with that reason', async () => {
    const lead = new InMemorySpanExporter();
    const w = await startRuntime({
      neurons: [neuron('worker', 'L2')],
      claude: { mock_responses: { L2: [answer('default', 'RESULT: late', 5_000)] } },
    });
    started.push(w);
    const l = await startRuntime(
      { neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: w.url })] },
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter: lead }), 'lead', 'test') },
    );
    started.push(l);
    const caller = leavable(`${l.url}/v1/signals`, { content: 'x' });
    // The worker pod has the signal in its slot.
    await vi.waitFor(
      async () => {
        const { body } = await w.get('/v1/neurons');
        expect(body.neurons.find((n: { id: string }) => n.id === 'worker').counters.active).toBe(1);
      },
      { timeout: 5_000, interval: 20 },
    );
    await caller.leave();
    await vi.waitFor(
      () => {
        const peer = lead.getFinishedSpans().find((s) => s.name === 'hal9.peer worker');
        expect(peer?.attributes['error.type']).toBe('CLIENT_CLOSED');
        expect(peer?.status.code).toBe(2);
      },
      { timeout: 5_000, interval: 20 },
    );
  });

  it('says once when the OTLP collector stops taking spans and once when it takes them again, and counts both', async () => {
    // A collector that refuses the spans (400: not retried) until it is told to take them.
    let status = 400;
    let refused = 0;
    const collector = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (status === 400) refused++;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const logged: { level: number; msg: string }[] = [];
    const rt = await startRuntime(
      {},
      {
        tracing: createTracing(
          { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url, OTEL_BSP_SCHEDULE_DELAY: '20' },
          'test',
          'pod-1',
        ),
        logger: { level: 'info', stream: { write: (l: string) => void logged.push(JSON.parse(l)) } },
      },
    );
    try {
      const failing = 'trace export failing; spans are dropped until the collector takes them again';
      const messages = () => logged.map((l) => l.msg);
      await rt.post('/v1/signals', { content: 'x' });
      await vi.waitFor(() => expect(messages()).toContain(failing), { timeout: 10_000, interval: 20 });
      // More failed batches: still the one warning.
      for (const content of ['y', 'w']) {
        const before = refused;
        await rt.post('/v1/signals', { content });
        await vi.waitFor(() => expect(refused).toBeGreaterThan(before), { timeout: 10_000, interval: 20 });
      }
      // Three requests' spans, each in a refused batch, and none exported.
      const spans = (outcome: string) => rt.metric('hal9_trace_spans_total', { outcome });
      await vi.waitFor(async () => expect(await spans('failed')).toBeGreaterThanOrEqual(3), {
        timeout: 10_000,
        interval: 20,
      });
      expect(await spans('exported')).toBe(0);

      status = 200;
      await rt.post('/v1/signals', { content: 'z' });
      await vi.waitFor(() => expect(messages()).toContain('trace export recovered'), {
        timeout: 10_000,
        interval: 20,
      });
      await vi.waitFor(async () => expect(await spans('exported')).toBeGreaterThan(0), {
        timeout: 10_000,
        interval: 20,
      });
      expect(messages().filter((m) => m === failing)).toHaveLength(1);
      expect(logged.find((l) => l.msg === failing)?.level).toBe(40);
    } finally {
      await rt.close();
      collector.closeAllConnections();
      collector.close();
    }
  });

  it('counts the spans it drops while a collector that never answers holds the queue full', async () => {
    // Takes each export and never answers it: the first batch is held, the rest wait in the queue.
    let exports = 0;
    const collector = createServer((req) => {
      exports++;
      req.resume();
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const rt = await startRuntime(
      { neurons: [neuron('impl-1', 'L2')] },
      {
        tracing: createTracing(
          { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url, OTEL_BSP_SCHEDULE_DELAY: '20' },
          'test',
          'pod-1',
        ),
      },
    );
    try {
      // 1,500 requests of three spans each (request, signal, model call): more than the queue holds
      // beside the batch the collector holds.
      for (let i = 0; i < 15; i++) {
        const signals = Array.from({ length: 100 }, (_, j) => ({ content: `x${i}-${j}` }));
        const res = await rt.post('/v1/signals/batch', { signals });
        expect(res.status).toBe(200);
      }
      await vi.waitFor(() => expect(exports).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
      const spans = (outcome: string) => rt.metric('hal9_trace_spans_total', { outcome });
      const dropped = await spans('dropped');
      expect(dropped).toBeGreaterThan(0);
      expect(dropped).toBeLessThanOrEqual(4500 - MAX_QUEUED_SPANS);
      expect(await spans('exported')).toBe(0);
    } finally {
      await rt.close();
      collector.closeAllConnections();
      collector.close();
    }
  });

  it('names the pod and the OTEL_RESOURCE_ATTRIBUTES on every span it exports', async () => {
    const bodies: any[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const rt = await startRuntime(
      {},
      {
        tracing: createTracing(
          {
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url,
            OTEL_BSP_SCHEDULE_DELAY: '20',
            OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging, team=a%2Cb,broken,=x',
          },
          'blue',
          'hal9-runtime-7f9c-abcde',
        ),
      },
    );
    try {
      await rt.post('/v1/signals', { content: 'x' });
      await vi.waitFor(() => expect(bodies.length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
      const attributes = Object.fromEntries(
        bodies[0].resourceSpans[0].resource.attributes.map((a: any) => [a.key, a.value.stringValue]),
      );
      expect(attributes).toEqual({
        'service.name': 'hal9-runtime',
        'service.instance.id': 'hal9-runtime-7f9c-abcde',
        'hal9.cluster': 'blue',
        'deployment.environment.name': 'staging',
        team: 'a,b',
      });
    } finally {
      await rt.close();
      collector.closeAllConnections();
      collector.close();
    }
  });

  it('samples whole requests by the standard OTEL_TRACES_SAMPLER variables', async () => {
    const exporter = new InMemorySpanExporter();
    const off = samplerFrom({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
    const rt = await startRuntime(
      {},
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test', off) },
    );
    started.push(rt);
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    // A caller that sampled its trace still gets its spans (parent-based).
    await rt.post(
      '/v1/signals',
      { content: 'y' },
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );
    expect(exporter.getFinishedSpans().length).toBeGreaterThan(0);
  });

  it('continues a caller’s traceparent of a later version (read as version 00), never one of version ff', async () => {
    const exporter = new InMemorySpanExporter();
    const rt = await startRuntime(
      {},
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test') },
    );
    started.push(rt);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const cases: [string, boolean][] = [
      [`00-${traceId}-${parent}-01`, true],
      [`01-${traceId}-${parent}-01`, true],
      [`cc-${traceId}-${parent}-01-a-later-field`, true],
      [`ff-${traceId}-${parent}-01`, false],
      [`00-${traceId}-${parent}-01-a-later-field`, false],
    ];
    for (const [traceparent, continued] of cases) {
      exporter.reset();
      const res = await rt.post('/v1/signals', { content: 'x' }, { traceparent });
      expect(res.status, traceparent).toBe(200);
      expect(res.body.traceId === traceId, traceparent).toBe(continued);
      const request = exporter.getFinishedSpans().find((s) => s.name === 'hal9.request')!;
      expect(request.spanContext().traceId, traceparent).toBe(res.body.traceId);
      expect(parentOf(request), traceparent).toBe(continued ? parent : undefined);
    }
  });

  it('marks a failed model call and its signal as errors', async () => {
    const exporter = new InMemorySpanExporter();
    const fake = await runtimes.fake();
    fake.respond({ kind: 'error', status: 500, type: 'api_error', message: 'boom' });
    const rt = await startRuntime(
      apiDoc(fake, { neurons: [neuron('impl-1', 'L2')], claude: { retry: { max_retries: 0 } } }),
      {
        apiKey: 'k',
        tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test'),
      },
    );
    started.push(rt);
    await rt.post('/v1/signals', { content: 'x' });
    const spans = exporter.getFinishedSpans();
    for (const name of ['chat claude-test-1', 'hal9.signal impl-1', 'hal9.request']) {
      const s = spans.find((x) => x.name === name)!;
      expect(s.status.code, name).toBe(2);
      expect(s.attributes['error.type'], name).toBe('UPSTREAM_ERROR');
    }
  });

  it('ends every span of a request its deadline or its caller’s departure cuts off, as an error', async () => {
    const exporter = new InMemorySpanExporter();
    const fake = await runtimes.fake();
    fake.respond(hang());
    const rt = await startRuntime(apiDoc(fake, { neurons: [neuron('impl-1', 'L2')] }), {
      apiKey: 'k',
      tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test'),
    });
    started.push(rt);
    const ended = (code: string) => {
      const spans = exporter.getFinishedSpans();
      for (const name of ['hal9.request', 'hal9.signal impl-1', 'chat claude-test-1']) {
        const s = spans.find((x) => x.name === name);
        expect(s, name).toBeDefined();
        expect(s!.status.code, name).toBe(2);
        expect(s!.attributes['error.type'], name).toBe(code);
      }
    };

    const answered = () =>
      exporter.getFinishedSpans().find((s) => s.name === 'hal9.request')!.attributes[
        'http.response.status_code'
      ];

    const timedOut = await rt.post('/v1/signals?timeout_ms=300', { content: 'x' });
    expect(timedOut.status).toBe(504);
    await vi.waitFor(() => ended('REQUEST_TIMEOUT'), { timeout: 5_000, interval: 20 });
    expect(answered()).toBe(504);

    exporter.reset();
    const caller = leavable(`${rt.url}/v1/signals`, { content: 'y' });
    await vi.waitFor(() => expect(fake.requests.length).toBe(2), { timeout: 5_000, interval: 20 });
    await caller.leave();
    await vi.waitFor(() => ended('CLIENT_CLOSED'), { timeout: 5_000, interval: 20 });
    // No answer went: the caller's departure (499), not a deadline's 504.
    expect(answered()).toBe(499);
  });

  it('fails a request its deadline cut off after a branch failed with the deadline’s code, not the branch’s', async () => {
    const exporter = new InMemorySpanExporter();
    const rt = await startRuntime(
      {
        neurons: [neuron('lead', 'L4', ['a', 'b']), neuron('a', 'L3'), neuron('b', 'L2')],
        claude: {
          mock_responses: {
            L4: [answer('default', 'FORWARD_TO: a, b\nCONTENT: go')],
            // A fails at once (no such connection), b is still working at the deadline.
            L3: [answer('default', 'FORWARD_TO: nobody')],
            L2: [answer('default', 'RESULT: late', 5_000)],
          },
        },
        performance: { cache_layers: [] },
      },
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test') },
    );
    started.push(rt);
    const res = await rt.post('/v1/signals?timeout_ms=300', { content: 'x' });
    expect(res.status).toBe(504);
    expect(res.body.errors.map((e: { code: string }) => e.code)).toEqual([
      'UNROUTABLE_ANSWER',
      'REQUEST_TIMEOUT',
    ]);
    const request = exporter.getFinishedSpans().find((s) => s.name === 'hal9.request')!;
    expect(request.attributes['error.type']).toBe('REQUEST_TIMEOUT');
    expect(request.attributes['http.response.status_code']).toBe(504);
  });

  it('records a peer call its token check refused in a new trace the sampler decides on, not the caller’s', async () => {
    const exporter = new InMemorySpanExporter();
    const off = samplerFrom({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
    const rt = await startRuntime(
      { neurons: [neuron('worker', 'L2')] },
      {
        peerToken: 'peer-secret',
        tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test', off),
      },
    );
    started.push(rt);
    const sampled = (i: number) => `00-${(i + 1).toString(16).padStart(32, 'a')}-00f067aa0ba902b7-01`;
    const batch = { deadlineMs: 5000, signals: [] };
    for (let i = 0; i < 20; i++) {
      const headers = { traceparent: sampled(i), ...(i % 2 ? { authorization: 'Bearer wrong-secret' } : {}) };
      expect((await rt.post('/v1/neurons/worker/signals', batch, headers)).status).toBe(401);
    }
    // A call with the token is in its caller's trace, sampled as the caller sampled it.
    await rt.post('/v1/neurons/worker/signals', batch, {
      traceparent: sampled(99),
      authorization: 'Bearer peer-secret',
    });
    const server = await vi.waitFor(() => {
      const found = exporter.getFinishedSpans();
      expect(found).toHaveLength(1);
      return found[0]!;
    });
    expect(server.spanContext().traceId).toBe(sampled(99).split('-')[1]);
    expect(parentOf(server)).toBe('00f067aa0ba902b7');
  });

  it('tells the caller its trace: a traceresponse header on waited, accepted and streamed requests', async () => {
    const exporter = new InMemorySpanExporter();
    const rt = await startRuntime(
      {},
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test') },
    );
    started.push(rt);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
    const requestSpanIds = () =>
      exporter
        .getFinishedSpans()
        .filter((s) => s.name === 'hal9.request')
        .map(spanId);

    const waited = await rt.post('/v1/signals', { content: 'x' }, { traceparent });
    expect(waited.status).toBe(200);
    expect(waited.headers.get('traceresponse')).toBe(`00-${traceId}-${requestSpanIds()[0]}-01`);

    // Accepted: the body names the trace as well as the request.
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'y' });
    expect(accepted.status).toBe(202);
    expect(accepted.body.traceId).toMatch(/^[0-9a-f]{32}$/);
    const [, acceptedTrace, acceptedSpan, flags] = accepted.headers.get('traceresponse')!.split('-');
    expect([acceptedTrace, flags]).toEqual([accepted.body.traceId, '01']);
    await vi.waitFor(() => expect(requestSpanIds()).toContain(acceptedSpan), {
      timeout: 5_000,
      interval: 20,
    });

    // Streamed: the stream's head carries it before any event.
    const streamed = await fetch(`${rt.url}/v1/signals?stream=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ content: 'z' }),
    });
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const [, streamedTrace, streamedSpan] = streamed.headers.get('traceresponse')!.split('-');
    expect(streamedTrace).toBe(traceId);
    expect(await streamed.text()).toContain('event: end');
    await vi.waitFor(() => expect(requestSpanIds()).toContain(streamedSpan), {
      timeout: 5_000,
      interval: 20,
    });
  });

  it('names the trace of a refused request too (404 unknown neuron), the span that recorded it', async () => {
    const exporter = new InMemorySpanExporter();
    const rt = await startRuntime(
      {},
      { tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test') },
    );
    started.push(rt);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const refused = await rt.post(
      '/v1/signals',
      { content: 'x', neuron: 'nope' },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('UNKNOWN_NEURON');
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'hal9.request');
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes['error.type']).toBe('UNKNOWN_NEURON');
    expect(refused.headers.get('traceresponse')).toBe(`00-${traceId}-${spanId(spans[0]!)}-01`);
  });

  it('without tracing still tells the caller its trace id, and that nothing was recorded', async () => {
    const rt = await startRuntime({});
    started.push(rt);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await rt.post(
      '/v1/signals',
      { content: 'x' },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(res.headers.get('traceresponse')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    const own = await rt.post('/v1/signals?wait=false', { content: 'y' });
    const accepted = own.headers.get('traceresponse');
    expect(accepted).toMatch(new RegExp(`^00-${own.body.traceId}-[0-9a-f]{16}-00$`));
    // One request, one (unrecorded) span: its streams name the span its POST named.
    for (let i = 0; i < 2; i++) {
      const stream = await fetch(`${rt.url}/v1/signals/${own.body.id}/events`);
      expect(stream.status).toBe(200);
      expect(stream.headers.get('traceresponse')).toBe(accepted);
      await stream.text();
    }
    const read = await fetch(`${rt.url}/v1/signals/${own.body.id}`);
    expect(read.headers.get('traceresponse')).toBe(accepted);
  });

  it('bounds span attribute values an upstream answer sets (its id and stop reason)', async () => {
    // The back-end keeps MAX_ANSWER_TAG_CHARS of a stop reason, below the spans' own value bound.
    const exporter = new InMemorySpanExporter();
    const fake = await runtimes.fake();
    fake.respond(
      raw({
        id: `msg_${'x'.repeat(200_000)}`,
        type: 'message',
        role: 'assistant',
        model: 'claude-test-1',
        content: [{ type: 'text', text: 'RESULT: done' }],
        stop_reason: 's'.repeat(100_000),
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 2 },
      }),
    );
    const rt = await startRuntime(apiDoc(fake, { neurons: [neuron('impl-1', 'L2')] }), {
      apiKey: 'k',
      tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test'),
    });
    started.push(rt);
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    const chat = exporter.getFinishedSpans().find((s) => s.name === 'chat claude-test-1')!;
    const id = chat.attributes['gen_ai.response.id'] as string;
    const [reason] = chat.attributes['gen_ai.response.finish_reasons'] as string[];
    // An id not of the API's shape (this one far too long) is dropped, never trimmed.
    expect(id).toBeUndefined();
    expect(reason!.length).toBe(MAX_ANSWER_TAG_CHARS);
    expect(MAX_ANSWER_TAG_CHARS).toBeLessThan(DEFAULT_VALUE_LENGTH);
    // An answer that gives no stop reason: the span names none (the request is told it was cut off).
    exporter.reset();
    fake.respond(
      raw({
        id: 'msg_02',
        type: 'message',
        role: 'assistant',
        model: 'claude-test-1',
        content: [{ type: 'text', text: 'RESULT: done' }],
        stop_reason: null,
        usage: { input_tokens: 3, output_tokens: 2 },
      }),
    );
    const none = await rt.post('/v1/signals', { content: 'y' });
    expect(none.body.errors.map((e: { code: string }) => e.code)).toEqual(['ANSWER_TRUNCATED']);
    const unsaid = exporter.getFinishedSpans().find((s) => s.name === 'chat claude-test-1')!;
    expect(unsaid.attributes['gen_ai.response.id']).toBe('msg_02');
    expect(unsaid.attributes).not.toHaveProperty('gen_ai.response.finish_reasons');
  });

  it('names the model the upstream answered with (a dated snapshot of the alias asked), priced as the model asked', async () => {
    const exporter = new InMemorySpanExporter();
    const fake = await runtimes.fake();
    fake.respond(
      raw({
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-test-1-20991231',
        content: [{ type: 'text', text: 'RESULT: done' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 1000, output_tokens: 10 },
      }),
    );
    const rt = await startRuntime(
      apiDoc(fake, {
        neurons: [neuron('impl-1', 'L2')],
        claude: { prices: { 'claude-test-1': { input: 3, output: 15 } } },
      }),
      { apiKey: 'k', tracing: tracingWith(new SimpleSpanProcessor({ exporter }), 'hal9-test', 'test') },
    );
    started.push(rt);
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.trace[0]).toMatchObject({
      model: 'claude-test-1',
      responseModel: 'claude-test-1-20991231',
    });
    const chat = exporter.getFinishedSpans().find((s) => s.name === 'chat claude-test-1')!;
    expect(chat.attributes).toMatchObject({
      'gen_ai.request.model': 'claude-test-1',
      'gen_ai.response.model': 'claude-test-1-20991231',
    });
    const cost = (1000 * 3 + 10 * 15) / 1e6;
    expect(res.body.costUsd).toBeCloseTo(cost, 10);
    expect(await rt.metric('hal9_cost_usd_total', { neuron: 'impl-1', model: 'claude-test-1' })).toBeCloseTo(
      cost,
      10,
    );
    // An answer naming the model asked adds nothing to its trace entry.
    fake.respond(() => message('RESULT: done'));
    const same = await rt.post('/v1/signals', { content: 'y' });
    expect(same.body.trace[0].model).toBe('claude-test-1');
    expect(same.body.trace[0]).not.toHaveProperty('responseModel');
  });

  it('passes a caller’s tracestate over 512 characters on cut as W3C Trace Context recommends', async () => {
    const fake = await runtimes.fake();
    fake.respond(() => message('RESULT: done'));
    const rt = await startRuntime(apiDoc(fake, { neurons: [neuron('impl-1', 'L2')] }), {
      apiKey: 'k',
      tracing: tracingWith(
        new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() }),
        'hal9-test',
        'test',
      ),
    });
    started.push(rt);
    // The caller's own entry first, a large one, then older vendors' entries: 551 characters in all.
    const older = Array.from({ length: 20 }, (_, i) => `v${String(i).padStart(2, '0')}=${'o'.repeat(12)}`);
    const tracestate = ['mine=1', `big=${'b'.repeat(200)}`, ...older].join(',');
    expect(tracestate.length).toBeGreaterThan(512);
    const res = await rt.post(
      '/v1/signals',
      { content: 'x' },
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate },
    );
    expect(res.status).toBe(200);
    // The large member goes first, and then the rest fits: every small member reaches the model API.
    expect(fake.requests[0]!.headers.tracestate).toBe(['mine=1', ...older].join(','));
  });
});
