import type Anthropic from '@anthropic-ai/sdk';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  apiError,
  brokenOff,
  type FakeMessagesApi,
  garbled,
  hang,
  message,
  type Reply,
  type Responder,
  raw,
  reset,
  startFakeMessagesApi,
  text,
} from '../../test/support/fake-messages-api.ts';
import type { NeuronConfig } from '../config/types.ts';
import type { Hal9Error } from '../errors.ts';
import { MAX_ANSWER_DEPTH } from './answer-json.ts';
import { AnthropicBackend, createAnthropicClient } from './anthropic.ts';
import { cutOff, NO_STOP_REASON } from './backend.ts';
import { MAX_ANSWER_TAG_CHARS, MAX_INPUT_TOKENS, PROMPT_TOKEN_SLACK } from './completion-of.ts';
import { CANCEL, MAX_ANSWER_BYTES, STALE_RETRIES } from './dispatcher-fetch.ts';
import { MAX_RETRY_AFTER_MS } from './upstream-error.ts';

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

async function backend(
  timeoutMs = 30_000,
  apiKey = 'sk-test',
  maxRetries = 0,
  connections = 2,
): Promise<{ fake: FakeMessagesApi; be: AnthropicBackend; client: Anthropic; pool: Agent }> {
  fake = await startFakeMessagesApi();
  const pool = new Agent({ connections });
  agent = pool;
  const client = createAnthropicClient({
    apiKey,
    baseURL: fake.url,
    timeoutMs,
    maxRetries,
    dispatcher: pool,
  });
  return { fake, be: new AnthropicBackend(client, 'claude-sonnet-5-5', 64), client, pool };
}

// A key an upstream echoes back, and whether any four characters in a row of it (or of its letters
// alone, as a filter keeping [a-z_] would leave them) stand in a text.
const KEY = 'sk-ant-api03-Qx7vZk9wLm2PbT4hRjYc';
const quotesKey = (text: string): boolean =>
  [KEY, KEY.replace(/[^a-z_]/g, '')].some((k) =>
    Array.from({ length: k.length - 3 }, (_, i) => k.slice(i, i + 4)).some((w) => text.includes(w)),
  );

/** A Messages answer (with `o` over its fields) for the fake to send as it is. */
const answer = (o: Record<string, unknown>) => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  content: [{ type: 'text', text: 'RESULT: x' }],
  usage: { input_tokens: 1, output_tokens: 1 },
  ...o,
});

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

  it('cuts a huge or fractional retry hint to whole seconds of at most an hour', async () => {
    const { fake, be } = await backend();
    fake.script(apiError(429, { retryAfter: '1e24' }), apiError(429, { retryAfter: '0.2' }));

    const huge = await failure(be.complete(neuron, 'x'));
    const tiny = await failure(be.complete(neuron, 'y'));

    expect(huge.details).toMatchObject({ retryAfterSeconds: 3600, retryAfterMs: MAX_RETRY_AFTER_MS });
    // A caller's Retry-After is a whole number of seconds, never 0 for a hint that asks to wait.
    expect(tiny.details).toMatchObject({ retryAfterSeconds: 1, retryAfterMs: 200 });
  });

  it('names the model asked, and what to check for a refused key or an unknown model', async () => {
    const { fake, be } = await backend();
    fake.script(apiError(401), apiError(404));

    const refused = await failure(be.complete(neuron, 'x'));
    const unknown = await failure(be.complete(neuron, 'y', undefined, 'claude-typo-1'));

    expect(refused.message).toBe(
      'model API answered 401 authentication_error for claude-sonnet-5-5 (request req_fake_1): the API key was refused (ANTHROPIC_API_KEY, claude.api_key_file)',
    );
    expect(unknown.message).toBe(
      'model API answered 404 not_found_error for claude-typo-1 (request req_fake_2): the API does not know claude-typo-1, or claude.base_url is not its root (claude.model, fallback_models, claude.base_url)',
    );
  });

  it('names the origin it could not reach, never the path or credentials of claude.base_url', async () => {
    // A port nothing listens on: the fake's, once closed.
    const dead = await startFakeMessagesApi();
    const port = new URL(dead.url).port;
    await dead.close();
    agent = new Agent({ connections: 1 });
    const client = createAnthropicClient({
      apiKey: 'k',
      baseURL: `http://proxy-user:proxy-secret@127.0.0.1:${port}/anthropic`,
      timeoutMs: 5000,
      maxRetries: 0,
      dispatcher: agent,
    });

    const e = await failure(new AnthropicBackend(client, 'claude-sonnet-5-5', 64).complete(neuron, 'x'));

    expect(e.code).toBe('UPSTREAM_CONNECTION');
    expect(e.message).toBe(
      `cannot reach the model API at http://127.0.0.1:${port} (claude.base_url): ECONNREFUSED`,
    );
    expect(e.details.field).toBe('claude.base_url');
  });

  it('says an answer broke off when its connection fails after the headers came, and a connection closed before any answer', async () => {
    const { fake, be } = await backend();
    // A reset before any answer is sent again on another connection (STALE_RETRIES): only a reset
    // every time fails the call.
    fake.script(brokenOff(), ...Array.from({ length: STALE_RETRIES + 1 }, () => reset()));

    const cut = await failure(be.complete(neuron, 'x'));
    const closed = await failure(be.complete(neuron, 'y'));
    expect(fake.requests).toHaveLength(2 + STALE_RETRIES);

    expect(cut.code).toBe('UPSTREAM_CONNECTION');
    expect(cut.message).toMatch(
      /^the model API's answer for claude-sonnet-5-5 broke off after [1-9]\d* bytes: [A-Z_]+$/,
    );
    // Reset once the request was sent: the API was reached, and closed the connection.
    expect(closed.code).toBe('UPSTREAM_CONNECTION');
    expect(closed.message).toMatch(
      /^the model API at http:\/\/127\.0\.0\.1:\d+ \(claude\.base_url\) closed the connection before answering: [A-Z_]+$/,
    );
  });

  it('sends a request again when its connection was dropped before any answer (a pooled connection gone stale): the call succeeds', async () => {
    const { fake, be } = await backend();
    fake.script(reset(), message('RESULT: after a reset'));
    const c = await be.complete(neuron, 'x');
    expect(c.text).toBe('RESULT: after a reset');
    // The same request twice: the first never got an answer.
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.body).toEqual(fake.requests[0]?.body);
    // An answer that broke off after its headers is not sent again: the API answered.
    fake.script(brokenOff());
    expect((await failure(be.complete(neuron, 'y'))).message).toContain('broke off');
    expect(fake.requests).toHaveLength(3);
  });

  it('says an upstream that answered in broken HTTP answered, rather than that it cannot be reached', async () => {
    const { fake, be } = await backend();
    const answers = [
      'NOT HTTP AT ALL\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello',
      // Valid headers, then a chunk whose size is not hexadecimal: broken HTTP after the headers.
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    ];
    for (const bytes of answers) {
      fake.respond(garbled(bytes));
      const e = await failure(be.complete(neuron, 'x'));
      expect(e.code, bytes).toBe('UPSTREAM_CONNECTION');
      expect(e.message, bytes).toMatch(
        /^the model API at http:\/\/127\.0\.0\.1:\d+ \(claude\.base_url\) answered with a response that is not valid HTTP: [A-Z_]+$/,
      );
    }
  });

  it('reads a JSON answer whose media type is in capitals or whose text starts with a byte order mark', async () => {
    const { fake, be } = await backend();
    const valid = JSON.stringify({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-5-5',
      content: [{ type: 'text', text: 'RESULT: read' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    });
    for (const reply of [
      text(valid, 'Application/JSON; charset=UTF-8'),
      text(`\uFEFF${valid}`, 'application/json'),
    ]) {
      fake.respond(reply);
      expect((await be.complete(neuron, 'x')).text).toBe('RESULT: read');
    }
  });

  it('keeps the retry hint of a 529 too', async () => {
    const { fake, be } = await backend();
    fake.respond(apiError(529, { retryAfter: '12' }));

    const e = await failure(be.complete(neuron, 'x'));

    expect(e.code).toBe('UPSTREAM_OVERLOADED');
    expect(e.details).toMatchObject({ status: 529, retryAfterSeconds: 12, retryAfterMs: 12_000 });
  });

  // With the SDK's own retries off (the default) the cancellation reaches the fetch directly; with
  // them on (claude.max_retries: 1) it goes through the SDK's signal option, so no retry follows it.
  it.each([0, 1])(
    "ends a hung call when the caller's signal aborts: REQUEST_TIMEOUT, and the upstream sees the connection closed (SDK retries %i)",
    async (retries) => {
      const { fake, be } = await backend(30_000, 'sk-test', retries);
      fake.respond(hang());
      const caller = new AbortController();

      const call = failure(be.complete(neuron, 'x', caller.signal));
      await vi.waitFor(() => expect(fake.inFlight).toBe(1), { timeout: 10_000 });
      caller.abort();

      expect((await call).code).toBe('REQUEST_TIMEOUT');
      await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 10_000 });
      expect(fake.requests).toHaveLength(1);
    },
  );

  it.each([0, 1])(
    'gives the SDK the cancellation only when its own retries are on, so it never retries a cancelled call (SDK retries %i)',
    async (retries) => {
      const { be, client } = await backend(30_000, 'sk-test', retries, 1);
      const create = vi.spyOn(client.messages, 'create');
      await be.complete(neuron, 'x', new AbortController().signal);

      const options = create.mock.calls[0]![1] as { signal?: AbortSignal; fetchOptions?: object };
      if (retries > 0) expect(options.signal).toBeInstanceOf(AbortSignal);
      else {
        expect(options.signal).toBeUndefined();
        expect(Object.getOwnPropertySymbols(options.fetchOptions)).toEqual([CANCEL]);
      }
    },
  );

  it('ends a call still waiting for a pooled connection when its caller cancels, not when the connection frees', async () => {
    const { fake: api, be, pool } = await backend(30_000, 'sk-test', 0, 1);
    api.respond(hang());
    let firstSettled = false;
    const first = failure(be.complete(neuron, 'x')).finally(() => {
      firstSettled = true;
    });
    await vi.waitFor(() => expect(api.inFlight).toBe(1), { timeout: 10_000 });
    const caller = new AbortController();
    const second = failure(be.complete(neuron, 'y', caller.signal));
    // Cancelled only once undici holds it, queued for the one connection.
    const queued = () =>
      Object.values(pool.stats).reduce((n, s) => n + (s as { pending: number }).pending, 0);
    await vi.waitFor(() => expect(queued()).toBe(1), { timeout: 10_000 });
    caller.abort();

    expect((await second).code).toBe('REQUEST_TIMEOUT');
    // The one connection is still held by the first call: the second never reached the upstream.
    expect(firstSettled).toBe(false);
    expect(api.requests).toHaveLength(1);
    await be.close();
    await first;
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
    await vi.waitFor(() => expect(fake.inFlight).toBe(1), { timeout: 10_000 });
    await be.close();

    expect((await call).code).toBe('REQUEST_TIMEOUT');
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 10_000 });
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
    const cases: [Record<string, unknown>, string][] = [
      [{ usage: { input_tokens: 1, output_tokens: -500 } }, 'usage.output_tokens'],
      [{ usage: { input_tokens: '1000', output_tokens: 1 } }, 'usage.input_tokens'],
      [
        { usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 1e300 } },
        'usage.cache_read_input_tokens',
      ],
      [{ usage: { input_tokens: 1.5, output_tokens: 1 } }, 'usage.input_tokens'],
      [{ usage: null }, 'usage'],
      // What the call used, left out: taken as 0, it would count nothing toward the budgets.
      [{ usage: {} }, 'usage.input_tokens is missing'],
      [{ usage: { input_tokens: 10 } }, 'usage.output_tokens is missing'],
      [{ usage: { input_tokens: null, output_tokens: 3 } }, 'usage.input_tokens is missing'],
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

  it('drops an answer id not of the API shape and keeps at most MAX_ANSWER_TAG_CHARS of a stop_reason (they stay in the cache and traces)', async () => {
    const { fake, be } = await backend();
    fake.respond(
      raw(answer({ id: `msg_${'x'.repeat(1_000_000)}`, stop_reason: `end_${'y'.repeat(500_000)}` })),
    );
    const c = await be.complete(neuron, 'x');
    expect(c.id).toBeUndefined();
    expect(c.finishReason?.length).toBe(MAX_ANSWER_TAG_CHARS);
    expect(c.text).toBe('RESULT: x');
    // The usual ones pass as they are.
    fake.respond(raw(answer({ id: 'msg_01XFDUDYJgAACzvnptvVoYEL', stop_reason: 'end_turn' })));
    const d = await be.complete(neuron, 'y');
    expect([d.id, d.finishReason]).toEqual(['msg_01XFDUDYJgAACzvnptvVoYEL', 'end_turn']);
  });

  it('takes an answer with no stop_reason (null, absent, not a string) as not finished', async () => {
    const { fake, be } = await backend();
    for (const stop of [{ stop_reason: null }, {}, { stop_reason: 7 }]) {
      fake.respond(raw(answer(stop)));
      const c = await be.complete(neuron, 'x');
      expect(c.finishReason).toBe(NO_STOP_REASON);
      expect(cutOff(c)).toBe(true);
    }
  });

  it("shows an upstream error's type only when the API documents it: a type that echoes the key is `unknown`", async () => {
    const { fake, be } = await backend(30_000, KEY);
    fake.respond((req) => ({
      kind: 'error',
      status: 500,
      type: String(req.headers.authorization),
      message: `bad key ${req.headers.authorization}`,
    }));

    const e = await failure(be.complete(neuron, 'x'));

    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(e.message).toBe('model API answered 500 unknown for claude-sonnet-5-5 (request req_fake_1)');
    expect(quotesKey(e.message)).toBe(false);
    // A documented type is shown.
    fake.respond(apiError(403));
    expect((await failure(be.complete(neuron, 'y'))).message).toBe(
      'model API answered 403 permission_error for claude-sonnet-5-5 (request req_fake_2)',
    );
  });

  it('says what kind of body said to be JSON is not, and where, never quoting it (it can echo the key)', async () => {
    const { fake, be } = await backend(30_000, KEY);
    let body = '';
    const echo =
      (f: (key: string) => string): Responder =>
      (req) => {
        body = f(String(req.headers.authorization).slice('Bearer '.length));
        return text(body, 'application/json');
      };
    // `{"denied": "` is 12 characters, the key 33.
    const cases: [Responder, string][] = [
      [
        echo((k) => `${k} is not a valid key`),
        'a character that cannot start JSON at position 0 of 52 characters',
      ],
      [echo((k) => `{"denied": ${k}}`), 'an unexpected character somewhere in 45 characters'],
      [
        echo((k) => `{"denied": "${k}\u0001"}`),
        'a control character inside a string at position 45 of 48 characters',
      ],
      [
        echo((k) => `{"denied": "${k}"} ${k}`),
        'more text after the JSON value at position 48 of 81 characters',
      ],
      [echo((k) => `{"denied": "${k}" ${k}}`), 'an unexpected character at position 47 of 81 characters'],
      [echo((k) => `{"denied": "${k}`), 'it ends early, after 45 characters'],
      [echo((k) => `{"denied": "${k}"`), 'it ends early, after 46 characters'],
    ];
    for (const [reply, says] of cases) {
      fake.respond(reply);
      const e = await failure(be.complete(neuron, 'x'));
      expect(body).toContain(KEY);
      expect(e.code).toBe('UPSTREAM_ERROR');
      expect(e.message).toBe(
        `the model API's answer is malformed: its content-type says JSON but the body is not JSON (${says})`,
      );
      expect(quotesKey(e.message), e.message).toBe(false);
    }
  });

  it('refuses an answer nested deeper than MAX_ANSWER_DEPTH before parsing it, naming the limit; brackets in strings do not count', async () => {
    const { fake, be } = await backend();
    const lists = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    // The answer itself is one level: its ignored field holds the rest.
    const answer = (x: string) =>
      text(
        `{"content":[{"type":"text","text":"RESULT: x"}],"usage":{"input_tokens":1,"output_tokens":1},"x":${x}}`,
        'application/json',
      );

    fake.respond(answer(lists(MAX_ANSWER_DEPTH)));
    const e = await failure(be.complete(neuron, 'x'));
    expect(e.code).toBe('UPSTREAM_ERROR');
    expect(e.message).toBe(
      `the model API's answer is malformed: its JSON nests deeper than ${MAX_ANSWER_DEPTH} levels (the runtime's limit for an answer)`,
    );
    fake.respond(answer(lists(MAX_ANSWER_DEPTH - 1)));
    expect((await be.complete(neuron, 'y')).text).toBe('RESULT: x');
    // Brackets, escaped quotes and backslashes in a string are its text.
    const many = `RESULT: ${'[{'.repeat(100)} " \\" \\ ${'[{'.repeat(100)}`;
    fake.respond(message(many));
    expect((await be.complete(neuron, 'z')).text).toBe(many);
    // An error answer nested past the limit is not parsed: the call fails on its status alone.
    fake.respond(
      text(
        `{"type":"error","error":{"type":"overloaded_error"},"x":${lists(MAX_ANSWER_DEPTH)}}`,
        'application/json',
        500,
      ),
    );
    expect((await failure(be.complete(neuron, 'w'))).message).toBe(
      'model API answered 500 for claude-sonnet-5-5 (request req_fake_4)',
    );
  });

  it("refuses token counts past their bounds (output over the call's max_tokens, input over MAX_INPUT_TOKENS), naming the bound", async () => {
    const { fake, be } = await backend();
    const counts = (usage: Record<string, number>) =>
      answer({ usage: { input_tokens: 1, output_tokens: 1, ...usage } });
    const input = `of at most ${MAX_INPUT_TOKENS} (the runtime's bound for an answer's input tokens)`;
    const cases: [Record<string, number>, string][] = [
      [
        { output_tokens: 65 },
        "usage.output_tokens must be a non-negative integer of at most 64 (the call's max_tokens)",
      ],
      [
        { output_tokens: Number.MAX_SAFE_INTEGER },
        'usage.output_tokens must be a non-negative integer of at most 64',
      ],
      [{ input_tokens: MAX_INPUT_TOKENS + 1 }, `usage.input_tokens must be a non-negative integer ${input}`],
      [
        { cache_read_input_tokens: Number.MAX_SAFE_INTEGER },
        `usage.cache_read_input_tokens must be a non-negative integer ${input}`,
      ],
      [
        { cache_creation_input_tokens: 2 ** 40 },
        `usage.cache_creation_input_tokens must be a non-negative integer ${input}`,
      ],
    ];
    for (const [usage, says] of cases) {
      fake.respond(raw(counts(usage)));
      const e = await failure(be.complete(neuron, 'x'));
      expect(e.code, says).toBe('UPSTREAM_ERROR');
      expect(e.message, says).toContain(says);
    }
    // At the bounds, the answer is taken: the input side of a content of MAX_INPUT_TOKENS bytes.
    const content = 'y'.repeat(MAX_INPUT_TOKENS);
    fake.respond(
      raw(
        counts({ input_tokens: 1000, output_tokens: 64, cache_read_input_tokens: MAX_INPUT_TOKENS - 1000 }),
      ),
    );
    expect((await be.complete(neuron, content)).usage).toEqual({
      input: 1000,
      output: 64,
      cacheRead: MAX_INPUT_TOKENS - 1000,
      cacheCreation: 0,
    });
  });

  it('refuses input-side tokens past what the prompt could make: its bytes plus PROMPT_TOKEN_SLACK, named', async () => {
    const { fake, be } = await backend();
    const system = Buffer.byteLength(neuron.system_prompt);
    // A few hundred bytes reported as 2 × 10⁷ tokens of cache: each count within its own bound.
    const content = '€'.repeat(100); // 100 characters, 300 bytes
    const bytes = system + 300;
    const usage = (input: number, cacheRead: number, cacheCreation: number) =>
      raw(
        answer({
          usage: {
            input_tokens: input,
            output_tokens: 1,
            cache_read_input_tokens: cacheRead,
            cache_creation_input_tokens: cacheCreation,
          },
        }),
      );
    fake.respond(usage(10, 9_999_999, 9_999_999));
    const e = await failure(be.complete(neuron, content));
    expect(e.code).toBe('UPSTREAM_ERROR');
    expect(e.message).toContain(
      `usage reports 20000008 input tokens (input, cache read and cache write) for a prompt of ${bytes} bytes, more than its bytes plus ${PROMPT_TOKEN_SLACK}`,
    );
    // Counted in bytes, not characters: up to the bound, the answer is taken, one past it is not.
    const most = bytes + PROMPT_TOKEN_SLACK;
    fake.respond(usage(most - 200, 100, 100));
    expect((await be.complete(neuron, content)).usage?.input).toBe(most - 200);
    fake.respond(usage(most - 200, 101, 100));
    expect((await failure(be.complete(neuron, content))).message).toContain(
      `usage reports ${most + 1} input tokens`,
    );
  });
});
