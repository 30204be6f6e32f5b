import Anthropic from '@anthropic-ai/sdk';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FakeMessagesApi, message, startFakeMessagesApi } from '../../test/support/fake-messages-api.ts';
import { neuronConfig } from '../testing/builders.ts';
import { AnthropicBackend, CLIENT_HEADERS, createAnthropicClient } from './anthropic.ts';
import { dispatcherFetch } from './dispatcher-fetch.ts';

// The SDK's headers are built once per client and reused: what reaches the wire must be exactly what
// the SDK itself would send on every call, and a call's own header must not stick to the next call.

const neuron = neuronConfig('impl-1', 'L2', [], { system_prompt: 'You implement.' });
const MODEL = 'claude-sonnet-5-5';

let fake: FakeMessagesApi | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await agent?.close();
  await fake?.close();
  agent = fake = undefined;
});

/** The fake, an Agent, and the back-end as the runtime builds it (memoized headers). */
async function setUp() {
  fake = await startFakeMessagesApi();
  agent = new Agent({ connections: 2 });
  const client = createAnthropicClient({
    apiKey: 'sk-test',
    baseURL: fake.url,
    timeoutMs: 5000,
    maxRetries: 0,
    dispatcher: agent,
  });
  return { fake, agent, be: new AnthropicBackend(client, MODEL, 64) };
}

const withoutLength = (h: Record<string, unknown>) => {
  const { 'content-length': _, ...rest } = h;
  return rest;
};

describe('memoized SDK headers', () => {
  it("send what the SDK's own path sends, call after call, built once", async () => {
    const build = vi.spyOn(Anthropic.prototype as unknown as { buildHeaders: () => unknown }, 'buildHeaders');
    const { fake, agent, be } = await setUp();
    for (let i = 0; i < 3; i++) {
      fake.respond(message('RESULT: ok'));
      await be.complete(neuron, 'same');
    }
    expect(build).toHaveBeenCalledTimes(1);

    // The reference: a client on the SDK's own header path, same options, same call.
    build.mockRestore();
    const plain = new Anthropic({
      apiKey: 'sk-test',
      baseURL: fake.url,
      timeout: 5000,
      maxRetries: 0,
      fetch: dispatcherFetch(agent),
      defaultHeaders: CLIENT_HEADERS,
    });
    fake.respond(message('RESULT: ok'));
    await new AnthropicBackend(plain, MODEL, 64).complete(neuron, 'same');

    const sent = fake.requests.map((r) => withoutLength(r.headers));
    expect(sent[0]).toMatchObject({
      authorization: 'Bearer sk-test',
      'content-type': 'application/json',
      // dispatcherFetch decodes no content encoding: the answer is asked for as it is.
      'accept-encoding': 'identity',
    });
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[2]).toEqual(sent[0]);
    expect(sent[3]).toEqual(sent[0]);
  });

  it("carry a call's own traceparent and tracestate on that call only", async () => {
    const { fake, be } = await setUp();
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    fake.respond(message('RESULT: a'));
    await be.complete(neuron, 'a', undefined, undefined, { traceparent: tp, tracestate: 'rojo=1' });
    fake.respond(message('RESULT: b'));
    await be.complete(neuron, 'b');

    expect(fake.requests[0]!.headers.traceparent).toBe(tp);
    expect(fake.requests[0]!.headers.tracestate).toBe('rojo=1');
    expect(fake.requests[1]!.headers.traceparent).toBeUndefined();
    expect(fake.requests[1]!.headers.tracestate).toBeUndefined();
    expect(fake.requests[1]!.headers.authorization).toBe('Bearer sk-test');
  });
});
