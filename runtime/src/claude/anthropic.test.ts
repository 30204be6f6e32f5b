import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  apiError,
  type FakeMessagesApi,
  hang,
  message,
  type Reply,
  raw,
  startFakeMessagesApi,
  text,
} from '../../test/support/fake-messages-api.ts';
import type { NeuronConfig } from '../config/types.ts';
import type { Hal9Error } from '../errors.ts';
import { AnswerHeaders, AnthropicBackend, createAnthropicClient, MAX_ANSWER_BYTES } from './anthropic.ts';

// The back-end's call path with the real SDK over the undici Agent, against the local fake: what the
// dispatcher-based fetch must keep from undici's fetch (headers both ways, errors, aborts).

const neuron: NeuronConfig = {
  id: 'impl-1',
  layer: 'L2',
  system_prompt: 'You implement.',
  forward_connections: [],
  backward_connections: [],
  endpoint: '',
  fallback_models: [],
};

let fake: FakeMessagesApi | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.close();
  await fake?.close();
  agent = fake = undefined;
});

async function backend(timeoutMs = 30_000): Promise<{ fake: FakeMessagesApi; be: AnthropicBackend }> {
  fake = await startFakeMessagesApi();
  agent = new Agent({ connections: 2 });
  const client = createAnthropicClient({
    apiKey: 'sk-test',
    baseURL: fake.url,
    timeoutMs,
    maxRetries: 0,
    dispatcher: agent,
  });
  return { fake, be: new AnthropicBackend(client, 'claude-sonnet-5-5', 64) };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as Hal9Error,
  );

describe('AnthropicBackend over the Agent', () => {
  it('sends the SDK headers and JSON body, and reads text and usage from the answer', async () => {
    const { fake, be } = await backend();
    fake.respond(
      message(' RESULT: done ', { input_tokens: 7, output_tokens: 3, cache_read_input_tokens: 2 }),
    );

    const c = await be.complete(neuron, 'build it');

    expect(c.text).toBe('RESULT: done');
    expect(c.usage).toMatchObject({ input: 7, output: 3, cacheRead: 2 });
    const req = fake.requests[0]!;
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // The SDK's telemetry headers are left out (per-call work the API does not need).
    expect(Object.keys(req.headers).filter((h) => h.startsWith('x-stainless-'))).toEqual([]);
    expect(req.body.system).toEqual([
      { type: 'text', text: 'You implement.', cache_control: { type: 'ephemeral' } },
    ]);
    expect(req.body.messages).toEqual([{ role: 'user', content: 'build it' }]);
  });

  it('maps an error answer with its response headers (retry-after) onto the catalogue', async () => {
    const { fake, be } = await backend();
    fake.respond(apiError(429, { retryAfter: '7' }));

    const e = await failure(be.complete(neuron, 'x'));

    expect(e.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(e.details).toMatchObject({ status: 429, retryAfterSeconds: 7 });
    // The SDK reads the request id from the answer's headers.
    expect(e.message).toMatch(/\(request req_\w+\)$/);
  });

  it('gives the SDK headers that answer as a WHATWG Headers does', () => {
    const raw = { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-gone': undefined };
    const ours = new AnswerHeaders(raw);
    const web = new Headers([
      ['content-type', 'application/json'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    for (const name of ['content-type', 'Content-Type', 'x-gone', 'set-cookie'])
      expect([name, ours.get(name), ours.has(name)]).toEqual([name, web.get(name), web.has(name)]);
    expect(Object.fromEntries(ours.entries())).toEqual({
      'content-type': 'application/json',
      'set-cookie': 'a=1, b=2',
    });
  });

  it("ends a hung call when the caller's signal aborts: REQUEST_TIMEOUT, and the upstream sees the connection closed", async () => {
    const { fake, be } = await backend();
    fake.respond(hang());
    const caller = new AbortController();

    const call = failure(be.complete(neuron, 'x', caller.signal));
    await vi.waitFor(() => expect(fake.inFlight).toBe(1));
    caller.abort();

    expect((await call).code).toBe('REQUEST_TIMEOUT');
    await vi.waitFor(() => expect(fake.inFlight).toBe(0));
  });

  it('ends a hung call at the client timeout with UPSTREAM_TIMEOUT', async () => {
    const { fake, be } = await backend(100);
    fake.respond(hang());

    expect((await failure(be.complete(neuron, 'x'))).code).toBe('UPSTREAM_TIMEOUT');
  });

  it('close() ends the calls in flight', async () => {
    const { fake, be } = await backend();
    fake.respond(hang());

    const call = failure(be.complete(neuron, 'x'));
    await vi.waitFor(() => expect(fake.inFlight).toBe(1));
    await be.close();

    expect((await call).code).toBe('REQUEST_TIMEOUT');
    await vi.waitFor(() => expect(fake.inFlight).toBe(0));
  });

  it('a signal already aborted never reaches the upstream', async () => {
    const { fake, be } = await backend();
    const caller = new AbortController();
    caller.abort();

    expect((await failure(be.complete(neuron, 'x', caller.signal))).code).toBe('REQUEST_TIMEOUT');
    expect(fake.requests).toHaveLength(0);
  });

  it('cuts an answer over MAX_ANSWER_BYTES: UPSTREAM_ERROR naming the limit, and the next call still works', async () => {
    const { fake, be } = await backend();
    fake.respond(message('x'.repeat(MAX_ANSWER_BYTES + 1)));

    const e = await failure(be.complete(neuron, 'x'));

    expect(e.code).toBe('UPSTREAM_ERROR');
    expect(e.message).toContain(`over ${MAX_ANSWER_BYTES} bytes`);
    fake.respond(message('RESULT: fine'));
    expect((await be.complete(neuron, 'y')).text).toBe('RESULT: fine');
  });

  it('fails a crafted answer (token counts that are not non-negative integers, no content list) naming the field', async () => {
    const { fake, be } = await backend();
    const answer = (o: Record<string, unknown>) => ({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'RESULT: x' }],
      usage: { input_tokens: 1, output_tokens: 1 },
      ...o,
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ usage: { input_tokens: 1, output_tokens: -500 } }, 'usage.output_tokens'],
      [{ usage: { input_tokens: '1000', output_tokens: 1 } }, 'usage.input_tokens'],
      [
        { usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 1e300 } },
        'usage.cache_read_input_tokens',
      ],
      [{ usage: { input_tokens: 1.5, output_tokens: 1 } }, 'usage.input_tokens'],
      [{ usage: null }, 'usage'],
      [{ content: 'RESULT: x' }, 'content'],
      [{ content: [{ type: 'text', text: { nested: true } }] }, 'text block'],
    ];
    for (const [o, field] of cases) {
      fake.respond(raw(answer(o)));
      const e = await failure(be.complete(neuron, 'x'));
      expect(e.code, field).toBe('UPSTREAM_ERROR');
      expect(e.message, field).toContain(field);
    }
    // Not a JSON object at all: the message says what the body was.
    const valid = JSON.stringify(answer({}));
    const bodies: [Reply, string][] = [
      [
        text('<html>502 Bad Gateway</html>', 'application/json'),
        'its content-type says JSON but the body is not JSON',
      ],
      [raw(null), 'the body is null, not a JSON object'],
      [raw([1, 2]), 'the body is a list, not a JSON object'],
      [text(valid, 'text/plain'), 'its content-type is not application/json'],
    ];
    for (const [reply, says] of bodies) {
      fake.respond(reply);
      const e = await failure(be.complete(neuron, 'x'));
      expect(e.code, says).toBe('UPSTREAM_ERROR');
      expect(e.message, says).toContain(says);
    }
    // Absent cache counts are zero, as the API omits them when prompt caching did nothing.
    fake.respond(raw(answer({})));
    expect((await be.complete(neuron, 'y')).usage).toEqual({
      input: 1,
      output: 1,
      cacheRead: 0,
      cacheCreation: 0,
    });
  });
});
