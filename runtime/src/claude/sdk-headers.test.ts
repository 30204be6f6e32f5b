import Anthropic from '@anthropic-ai/sdk';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FakeMessagesApi, message, startFakeMessagesApi } from '../../test/support/fake-messages-api.ts';
import type { NeuronConfig } from '../config/types.ts';
import { AnthropicBackend, createAnthropicClient, dispatcherFetch } from './anthropic.ts';

// The SDK's headers are built once per client and reused: what reaches the wire must be exactly what
// the SDK itself would send on every call, and a call's own header must not stick to the next call.

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
  vi.restoreAllMocks();
  await agent?.close();
  await fake?.close();
  agent = fake = undefined;
});

async function setUp() {
  fake = await startFakeMessagesApi();
  agent = new Agent({ connections: 2 });
  return { fake, agent };
}

const withoutLength = (h: Record<string, unknown>) => {
  const { 'content-length': _, ...rest } = h;
  return rest;
};

describe('memoized SDK headers', () => {
  it("send what the SDK's own path sends, call after call, built once", async () => {
    const { fake, agent } = await setUp();
    const build = vi.spyOn(Anthropic.prototype as unknown as { buildHeaders: () => unknown }, 'buildHeaders');
    const be = new AnthropicBackend(
      createAnthropicClient({
        apiKey: 'sk-test',
        baseURL: fake.url,
        timeoutMs: 5000,
        maxRetries: 0,
        dispatcher: agent,
      }),
      'claude-sonnet-5-5',
      64,
    );
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
      defaultHeaders: Object.fromEntries(
        ['Lang', 'Package-Version', 'OS', 'Arch', 'Runtime', 'Runtime-Version', 'Retry-Count', 'Timeout'].map(
          (h) => [`X-Stainless-${h}`, null],
        ),
      ),
    });
    fake.respond(message('RESULT: ok'));
    await new AnthropicBackend(plain, 'claude-sonnet-5-5', 64).complete(neuron, 'same');

    const sent = fake.requests.map((r) => withoutLength(r.headers));
    expect(sent[0]).toMatchObject({ authorization: 'Bearer sk-test', 'content-type': 'application/json' });
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[2]).toEqual(sent[0]);
    expect(sent[3]).toEqual(sent[0]);
  });

  it("carry a call's own traceparent on that call only", async () => {
    const { fake, agent } = await setUp();
    const be = new AnthropicBackend(
      createAnthropicClient({
        apiKey: 'sk-test',
        baseURL: fake.url,
        timeoutMs: 5000,
        maxRetries: 0,
        dispatcher: agent,
      }),
      'claude-sonnet-5-5',
      64,
    );
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    fake.respond(message('RESULT: a'));
    await be.complete(neuron, 'a', undefined, undefined, tp);
    fake.respond(message('RESULT: b'));
    await be.complete(neuron, 'b');

    expect(fake.requests[0]!.headers.traceparent).toBe(tp);
    expect(fake.requests[1]!.headers.traceparent).toBeUndefined();
    expect(fake.requests[1]!.headers.authorization).toBe('Bearer sk-test');
  });
});
