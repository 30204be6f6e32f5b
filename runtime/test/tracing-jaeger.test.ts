import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Jaeger, startJaeger } from '../../test/jaeger/index.ts';
import { type FakeMessagesApi, message, startFakeMessagesApi } from './support/fake-messages-api.ts';
import { type RuntimeProcess, spawnRuntime } from './support/process.ts';
import { neuron } from './support/runtime.ts';

// The runtime as a process exporting OTLP to a real Jaeger on loopback, configured only by the standard
// OTEL_* variables: the spans of one request arrive with their parent links and GenAI attributes.

let jaeger: Jaeger;
let fake: FakeMessagesApi;
let proc: RuntimeProcess | undefined;
beforeAll(async () => {
  jaeger = await startJaeger();
  fake = await startFakeMessagesApi();
}, 900_000);
afterAll(async () => {
  await proc?.stop('SIGTERM');
  await fake?.close();
  await jaeger?.stop();
});

describe('OTLP export to Jaeger', () => {
  it('exports request, signal and model-call spans with their parent links', async () => {
    fake.respond((req) =>
      message(req.body.system[0].text === 'You are lead.' ? 'FORWARD_TO: impl-1' : 'RESULT: done', {
        input_tokens: 21,
        output_tokens: 8,
      }),
    );
    proc = await spawnRuntime(
      {
        neurons: [neuron('lead', 'L3', ['impl-1']), neuron('impl-1', 'L2')],
        claude: { mode: 'api', base_url: fake.url, model: 'claude-test-1' },
      },
      {
        ANTHROPIC_API_KEY: 'k',
        ...jaeger.otelEnv(),
        OTEL_SERVICE_NAME: 'hal9-jaeger-test',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    );
    const res = await fetch(`${proc.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'trace me' }),
    });
    const body = (await res.json()) as { traceId: string; status: string };
    expect(body.status).toBe('completed');
    // A flush on shutdown, or the batch's own schedule: either way five spans arrive.
    const spans = await jaeger.waitForSpans(body.traceId, { count: 5, timeoutMs: 20_000 });
    const by = (name: string) => spans.filter((s) => s.name === name);
    const [request] = by('hal9.request');
    const [lead] = by('hal9.signal lead');
    const [impl] = by('hal9.signal impl-1');
    const chats = by('chat claude-test-1');
    expect(request!.parentSpanId).toBeUndefined();
    expect(request!.service).toBe('hal9-jaeger-test');
    expect(lead!.parentSpanId).toBe(request!.spanId);
    expect(impl!.parentSpanId).toBe(lead!.spanId);
    expect(chats.map((c) => c.parentSpanId).sort()).toEqual([lead!.spanId, impl!.spanId].sort());
    expect(chats[0]!.kind).toBe('client');
    expect(chats[0]!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'claude-test-1',
      'gen_ai.usage.input_tokens': 21,
      'gen_ai.usage.output_tokens': 8,
    });
  });
});
