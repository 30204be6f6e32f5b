import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { STALE_RETRIES } from '../src/claude/dispatcher-fetch.ts';
import { parseConfig } from '../src/config/parse.ts';
import { RUNTIME_V8_FLAGS } from '../src/node-options.ts';
import { createRuntime } from '../src/runtime.ts';
import { apiRuntimes } from './support/api-runtimes.ts';
import {
  apiDoc,
  apiError,
  hang,
  message,
  promptOf,
  type RecordedRequest,
  reset,
} from './support/fake-messages-api.ts';
import { neuron } from './support/runtime.ts';

// The `api` back-end end to end: the real SDK, undici pool and runtime against a fake Messages API.

const API_KEY = 'sk-ant-test-0123456789abcdef';
const UPSTREAM = 'claude-api';

const runtimes = apiRuntimes();

const single = [neuron('impl-1', 'L2')];

const start = (o: Parameters<typeof apiDoc>[1] = {}) =>
  runtimes.api({ neurons: single, ...o }, { apiKey: API_KEY });

describe('api mode: the request the Messages API receives', () => {
  it('sends the system prompt as a cached top-level block, the signal as the user message, model and max_tokens from config', async () => {
    const { fake, rt } = await start({
      neurons: [neuron('impl-1', 'L2', [], { system_prompt: 'You implement things tersely.' })],
      claude: { model: 'claude-sonnet-5-5', max_tokens: 321 },
    });
    fake.respond(message('RESULT: built it'));

    const res = await rt.post('/v1/signals', { content: 'build a parser' });

    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ neuron: 'impl-1', layer: 'L2', content: 'built it' }]);
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/messages');
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(req.body.model).toBe('claude-sonnet-5-5');
    expect(req.body.max_tokens).toBe(321);
    expect(req.body.system).toEqual([
      { type: 'text', text: 'You implement things tersely.', cache_control: { type: 'ephemeral' } },
    ]);
    expect(req.body.messages).toHaveLength(1);
    expect(req.body.messages[0].role).toBe('user');
    expect(promptOf(req).user).toBe('build a parser');
    // The system prompt is not repeated in the user message, nor the signal in the system prompt.
    expect(JSON.stringify(req.body.messages)).not.toContain('tersely');
    expect(JSON.stringify(req.body.system)).not.toContain('parser');
  });

  it('routes a three-neuron topology by the answers FORWARD_TO / CONTENT / RESULT to the final result', async () => {
    const { fake, rt } = await start({
      neurons: [
        neuron('strategic-1', 'L4', ['design-1']),
        neuron('design-1', 'L3', ['impl-1']),
        neuron('impl-1', 'L2'),
      ],
    });
    const answers: Record<string, string> = {
      'You are strategic-1.': 'FORWARD_TO: design-1\nCONTENT: strategy for the shop',
      'You are design-1.': 'FORWARD_TO: impl-1\nCONTENT: design of the cart\nwith two services',
      'You are impl-1.': 'RESULT: cart implemented',
    };
    fake.respond((req: RecordedRequest) =>
      message(answers[promptOf(req).system] ?? 'RESULT: unexpected prompt'),
    );

    const res = await rt.post('/v1/signals', { content: 'an online shop' });

    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.results).toEqual([{ neuron: 'impl-1', layer: 'L2', content: 'cart implemented' }]);
    expect(res.body.trace.map((t: { neuron: string }) => t.neuron)).toEqual([
      'strategic-1',
      'design-1',
      'impl-1',
    ]);
    expect(res.body.trace[0].forwardedTo).toEqual(['design-1']);
    expect(fake.requests.map((r) => [promptOf(r).system, promptOf(r).user])).toEqual([
      ['You are strategic-1.', 'an online shop'],
      ['You are design-1.', 'strategy for the shop'],
      ['You are impl-1.', 'design of the cart\nwith two services'],
    ]);
  });

  it('reuses pooled connections: fewer TCP connections than calls, never more than max_connections_per_host', async () => {
    const { fake, rt } = await start({
      performance: {
        connection_pool: { max_connections_per_host: 2, idle_timeout_seconds: 30 },
        max_concurrent_signals: 8,
        max_concurrent_neurons: 8,
      },
    });
    fake.respond(message('RESULT: ok'));

    for (let i = 0; i < 5; i++) {
      expect((await rt.post('/v1/signals', { content: `sequential ${i}` })).status).toBe(200);
    }
    expect(fake.requests).toHaveLength(5);
    expect(fake.connections).toBe(1);

    // Eight callers at a time want the upstream; the pool lets two connections carry them.
    fake.respond(message('RESULT: ok', {}, { delayMs: 30 }));
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rt.post('/v1/signals', { content: `concurrent ${i}` })),
    );
    expect(all.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(fake.requests).toHaveLength(25);
    expect(fake.connections).toBeLessThanOrEqual(2);
    expect(fake.maxInFlight).toBeLessThanOrEqual(2);
    expect(new Set(fake.requests.map((r) => r.connection)).size).toBeLessThanOrEqual(2);
  });

  it('does not charge the wait for a pooled connection to the upstream: no timeout, the breaker stays closed', async () => {
    // Each call takes 700 ms against a 1 s timeout; two connections carry eight callers. Waiting
    // inside undici for a connection, six calls used to time out and open the breaker.
    const { fake, rt } = await start({
      claude: { timeout_ms: 1000 },
      performance: {
        connection_pool: { max_connections_per_host: 2, idle_timeout_seconds: 30 },
        max_concurrent_signals: 8,
        max_concurrent_neurons: 20,
        request_timeout_ms: 30_000,
      },
    });
    fake.respond(message('RESULT: ok', {}, { delayMs: 700 }));
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => rt.post('/v1/signals', { content: `pooled ${i}` })),
    );
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(fake.maxInFlight).toBeLessThanOrEqual(2);
    expect(await rt.metric('hal9_upstream_requests_total', { status: 'timeout' })).toBe(0);
    expect(rt.runtime.engine.breakerState).toBe('closed');
    // The admin API answers the limit in force, not the one asked for.
    expect((await rt.get('/v1/admin/performance')).body.max_concurrent_neurons).toBe(2);
    const put = await rt.put('/v1/admin/performance', { max_concurrent_neurons: 500 });
    expect([put.status, put.body.max_concurrent_neurons]).toEqual([200, 2]);
  }, 20_000);

  it('counts token usage by type in hal9_tokens_total', async () => {
    const { fake, rt } = await start();
    fake.respond(
      message('RESULT: ok', {
        input_tokens: 11,
        output_tokens: 7,
        cache_creation_input_tokens: 5,
        cache_read_input_tokens: 3,
      }),
    );

    await rt.post('/v1/signals', { content: 'one' });
    await rt.post('/v1/signals', { content: 'two' });

    const tokens = (type: string) => rt.metric('hal9_tokens_total', { upstream: UPSTREAM, type });
    expect(await tokens('input')).toBe(22);
    expect(await tokens('output')).toBe(14);
    expect(await tokens('cache_creation')).toBe(10);
    expect(await tokens('cache_read')).toBe(6);
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: UPSTREAM, status: '200' })).toBe(2);
  });
});

describe('api mode: upstream failures', () => {
  it('ends a call that hangs at claude.timeout_ms with UPSTREAM_TIMEOUT (HTTP 504), naming the limit', async () => {
    // Long enough for the call to reach the fake first, also on a loaded machine.
    const { fake, rt } = await start({ claude: { timeout_ms: 1000 } });
    fake.respond(hang());

    const res = await rt.post('/v1/signals', { content: 'slow' });

    expect(res.status).toBe(504);
    expect(res.body.status).toBe('failed');
    // The error names the limit that ended the call, and the model it asked.
    expect(res.body.errors).toEqual([
      {
        code: 'UPSTREAM_TIMEOUT',
        message: 'the model API did not answer for claude-test-1 within claude.timeout_ms (1000 ms)',
        neuron: 'impl-1',
        field: 'claude.timeout_ms',
      },
    ]);
    expect(res.body.trace[0].error.code).toBe('UPSTREAM_TIMEOUT');
    expect(fake.requests).toHaveLength(1);
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: UPSTREAM, status: 'timeout' })).toBe(
      1,
    );
  });

  it('shuts down without waiting for a hung call once the drain timeout has passed', async () => {
    // The call would hang for 10 minutes; the test's own timeout fails it if shutdown waits for that.
    const { fake, rt } = await start({ claude: { timeout_ms: 600_000 }, server: { drain_timeout_ms: 100 } });
    fake.respond(hang());
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'stuck' });
    expect(accepted.status).toBe(202);
    await vi.waitFor(() => expect(fake.inFlight).toBe(1), { timeout: 10_000, interval: 10 });

    await rt.close();

    expect(rt.runtime.engine.draining).toBe(true);
    // The client side of the hung call was closed, not left to the upstream.
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 10_000, interval: 10 });
  }, 20_000);

  it('a waiting caller whose request the drain cut off gets 503 DRAINING naming the drain timeout', async () => {
    const { fake, rt } = await start({ claude: { timeout_ms: 600_000 }, server: { drain_timeout_ms: 100 } });
    fake.respond(hang());
    const waiting = rt.post('/v1/signals', { content: 'stuck' });
    await vi.waitFor(() => expect(fake.inFlight).toBe(1), { timeout: 10_000, interval: 10 });
    const closed = rt.close();
    const res = await waiting;
    await closed;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body.status).toBe('timed_out');
    expect(res.body.errors[0]).toMatchObject({ code: 'DRAINING', field: 'server.drain_timeout_ms' });
    expect(res.body.errors[0].message).toContain('shut down before the request finished');
  }, 20_000);

  it('maps 429 with retry-after to UPSTREAM_RATE_LIMITED (HTTP 502) and counts status 429', async () => {
    const { fake, rt } = await start({ claude: { retry: { max_retries: 0 } } });
    fake.respond(apiError(429, { retryAfter: '7', message: 'slow down' }));

    const res = await rt.post('/v1/signals', { content: 'busy' });

    expect(res.status).toBe(502);
    expect(res.body.errors[0].code).toBe('UPSTREAM_RATE_LIMITED');
    // Status, the API's error type and its request id reach the caller; the upstream's own text never does.
    expect(res.body.errors[0].message).toMatch(
      /^model API answered 429 rate_limit_error for claude-test-1 \(request req_fake_1\)$/,
    );
    expect(JSON.stringify(res.body)).not.toContain('slow down');
    expect(res.body.trace[0].error.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(fake.requests).toHaveLength(1);
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: UPSTREAM, status: '429' })).toBe(1);
  });

  it('maps 500 to UPSTREAM_ERROR and 529 to UPSTREAM_OVERLOADED (HTTP 502)', async () => {
    const { fake, rt } = await start({ claude: { retry: { max_retries: 0 } } });
    fake.script(apiError(500), apiError(529));

    const r500 = await rt.post('/v1/signals', { content: 'first' });
    const r529 = await rt.post('/v1/signals', { content: 'second' });

    expect([r500.status, r500.body.errors[0].code]).toEqual([502, 'UPSTREAM_ERROR']);
    expect([r529.status, r529.body.errors[0].code]).toEqual([502, 'UPSTREAM_OVERLOADED']);
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: UPSTREAM, status: '500' })).toBe(1);
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: UPSTREAM, status: '529' })).toBe(1);
  });

  it('maps a connection reset to UPSTREAM_CONNECTION (HTTP 502)', async () => {
    const { fake, rt } = await start();
    // Reset every time it is sent: a reset before any answer is sent again (STALE_RETRIES) first.
    fake.script(...Array.from({ length: STALE_RETRIES + 1 }, () => reset()));

    const res = await rt.post('/v1/signals', { content: 'cut' });

    expect(res.status).toBe(502);
    expect(res.body.errors[0].code).toBe('UPSTREAM_CONNECTION');
    expect(fake.requests).toHaveLength(1 + STALE_RETRIES);
    expect(
      await rt.metric('hal9_upstream_requests_total', { upstream: UPSTREAM, status: 'connection_error' }),
    ).toBe(1);
    // The pool recovers: the next call gets a fresh connection and succeeds.
    expect((await rt.post('/v1/signals', { content: 'again' })).status).toBe(200);
  });

  it('with claude.max_retries 0 a 529 is tried once', async () => {
    const { fake, rt } = await start({ claude: { max_retries: 0, retry: { max_retries: 0 } } });
    fake.script(apiError(529, { retryAfterMs: '1' }));

    const res = await rt.post('/v1/signals', { content: 'once' });

    expect(res.status).toBe(502);
    expect(res.body.errors[0].code).toBe('UPSTREAM_OVERLOADED');
    expect(fake.requests).toHaveLength(1);
  });

  it('with claude.max_retries 1 a 529 then a success is tried twice and succeeds', async () => {
    const { fake, rt } = await start({ claude: { max_retries: 1, retry: { max_retries: 0 } } });
    fake.script(apiError(529, { retryAfterMs: '1' }), message('RESULT: second time lucky'));

    const res = await rt.post('/v1/signals', { content: 'twice' });

    expect(res.status).toBe(200);
    expect(res.body.results[0].content).toBe('second time lucky');
    expect(fake.requests).toHaveLength(2);
    expect(promptOf(fake.requests[1]!).user).toBe('twice');
  });
});

describe('api mode: the API key', () => {
  it('refuses to create an api-mode runtime without a key, naming where the key comes from', async () => {
    const config = parseConfig({ claude: { mode: 'api', base_url: 'http://127.0.0.1:1' } });
    for (const opts of [{}, { apiKey: '' }]) {
      let err: unknown;
      try {
        await createRuntime(config, opts);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/ANTHROPIC_API_KEY/);
      expect((err as { details?: { field?: string } }).details?.field).toBe('claude.api_key_file');
    }
  });

  it('never writes the key to the logs, responses or metrics of a running runtime', async () => {
    const fake = await runtimes.fake();
    fake.script(apiError(401, { message: 'invalid x-api-key' }), message('RESULT: fine'));
    const dir = await mkdtemp(join(tmpdir(), 'hal9-api-'));
    try {
      const file = join(dir, 'config.yaml');
      await writeFile(
        file,
        stringify(apiDoc(fake, { neurons: single, server: { host: '127.0.0.1', port: 0 } })),
      );
      const child = spawn(
        process.execPath,
        [...RUNTIME_V8_FLAGS, join(import.meta.dirname, '../src/main.ts'), file],
        {
          // The most verbose logging of the runtime and of the SDK, as an operator debugging would set it.
          env: {
            PATH: process.env.PATH ?? '',
            ANTHROPIC_API_KEY: API_KEY,
            HAL9_LOG_LEVEL: 'trace',
            ANTHROPIC_LOG: 'debug',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (c: Buffer) => {
        output += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        output += c.toString();
      });
      // 'close', not 'exit': by then everything the process wrote is in `output`.
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      try {
        const address = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`runtime did not start:\n${output}`)), 20_000);
          const check = () => {
            const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
            if (m) {
              clearTimeout(timer);
              resolve(m[1]!);
            }
          };
          child.stdout.on('data', check);
          child.on('exit', () => reject(new Error(`runtime exited:\n${output}`)));
        });
        const post = (content: string) =>
          fetch(`${address}/v1/signals`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ content }),
          }).then((r) => r.text());
        const failed = await post('denied');
        const ok = await post('allowed');
        const metrics = await fetch(`${address}/metrics`).then((r) => r.text());
        const neurons = await fetch(`${address}/v1/neurons`).then((r) => r.text());

        expect(failed).toContain('UPSTREAM_ERROR');
        expect(ok).toContain('fine');
        expect(fake.requests.map((r) => r.headers.authorization)).toEqual([
          `Bearer ${API_KEY}`,
          `Bearer ${API_KEY}`,
        ]);
        for (const text of [failed, ok, metrics, neurons]) expect(text).not.toContain(API_KEY);
      } finally {
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
      expect(output).toContain('hal9 runtime listening');
      // The SDK's debug log of the request ran (and redacted the header).
      expect(output).toMatch(/authorization\W{1,4}\*\*\*/);
      expect(output).not.toContain(API_KEY);
      expect(output).not.toContain(API_KEY.slice(-12));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
