import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/testing/manual-clock.ts';
import {
  apiDoc,
  apiError,
  type FakeMessagesApi,
  message,
  startFakeMessagesApi,
} from './support/fake-messages-api.ts';
import { neuron, type Started, startRuntime } from './support/runtime.ts';

// The circuit breaker around the Messages API: opens after failure_threshold failures in the window,
// fails fast with 503 + Retry-After without calling upstream, lets trial calls through after
// timeout_seconds and closes only after success_threshold successes.

const UPSTREAM = 'claude-api';
const CLOSED = 0;
const HALF_OPEN = 1;
const OPEN = 2;

let fake: FakeMessagesApi | undefined;
let rt: Started | undefined;

afterEach(async () => {
  await rt?.close();
  await fake?.close();
  rt = undefined;
  fake = undefined;
});

// Open for long: on the real clock a slow machine must not see it half-open too early, and tests of
// recovery move the runtime's manual clock past it.
const LONG_OPEN = 30;
const OPEN_MS = LONG_OPEN * 1000;

async function start(
  openSeconds: number,
  performance: Record<string, unknown> = {},
  clock?: ManualClock,
): Promise<{ fake: FakeMessagesApi; rt: Started }> {
  fake = await startFakeMessagesApi();
  rt = await startRuntime(
    apiDoc(fake, {
      neurons: [neuron('impl-1', 'L2')],
      performance: {
        circuit_breaker: {
          failure_threshold: 5,
          success_threshold: 3,
          timeout_seconds: openSeconds,
          window_seconds: 60,
        },
        ...performance,
      },
    }),
    { apiKey: 'test-key', ...(clock ? { clock } : {}) },
  );
  return { fake, rt };
}

let n = 0;
const send = (content = `signal ${++n}`) => rt!.post('/v1/signals', { content });
const state = () => rt!.metric('hal9_circuit_breaker_state', { upstream: UPSTREAM });

/** Fails `count` requests with upstream 500s; returns their HTTP statuses and error codes. */
async function failRequests(count: number): Promise<[number, string][]> {
  fake!.respond(apiError(500));
  const out: [number, string][] = [];
  for (let i = 0; i < count; i++) {
    const r = await send();
    out.push([r.status, r.body.errors?.[0]?.code]);
  }
  return out;
}

describe('circuit breaker', () => {
  it('opens after failure_threshold failures and then fails fast with 503, BREAKER_OPEN and Retry-After', async () => {
    const { fake, rt } = await start(LONG_OPEN);
    expect(await state()).toBe(CLOSED);

    expect(await failRequests(4)).toEqual(Array(4).fill([502, 'UPSTREAM_ERROR']));
    expect(await state()).toBe(CLOSED);
    expect(await failRequests(1)).toEqual([[502, 'UPSTREAM_ERROR']]);
    expect(await state()).toBe(OPEN);
    expect(fake.requests).toHaveLength(5);

    const res = await send();
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('failed');
    expect(res.body.errors[0].code).toBe('BREAKER_OPEN');
    expect(res.body.trace[0].error.code).toBe('BREAKER_OPEN');
    // Retry-After is the time left until trial calls (open for 30 s here), not a fixed second.
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(20);
    expect(res.body.errors[0].retryAfterSeconds).toBe(Number(res.headers.get('retry-after')));
    expect(fake.requests).toHaveLength(5);
    expect(await rt.metric('hal9_signals_total', { neuron: 'impl-1', outcome: 'error' })).toBe(6);
    expect(
      await rt.metric('hal9_upstream_requests_total', { upstream: 'claude-api', status: 'breaker_open' }),
    ).toBe(1);
  });

  it('a batch whose every item met the open breaker answers 503 with Retry-After, as one request does', async () => {
    const { rt } = await start(LONG_OPEN);
    await failRequests(5);
    expect(await state()).toBe(OPEN);
    const all = await rt.post('/v1/signals/batch', { signals: [{ content: 'a' }, { content: 'b' }] });
    expect(all.status).toBe(503);
    expect(all.body.results.map((r: { errors: { code: string }[] }) => r.errors[0]!.code)).toEqual([
      'BREAKER_OPEN',
      'BREAKER_OPEN',
    ]);
    expect(Number(all.headers.get('retry-after'))).toBeGreaterThan(20);
  });

  it('GET /v1/neurons shows the state of each breaker a neuron calls through', async () => {
    fake = await startFakeMessagesApi();
    rt = await startRuntime(
      apiDoc(fake, {
        neurons: [
          neuron('impl-1', 'L2', [], { fallback_models: ['claude-small-1'] }),
          neuron('far-1', 'L1', [], { endpoint: 'http://127.0.0.1:9' }),
        ],
        entry_neuron: 'impl-1',
        performance: { circuit_breaker: { failure_threshold: 2, timeout_seconds: LONG_OPEN } },
      }),
      { apiKey: 'test-key' },
    );
    const breakers = async (i = 0) => (await rt!.get('/v1/neurons')).body.neurons[i].breakers;
    expect(await breakers()).toEqual({ [UPSTREAM]: 'closed', [`${UPSTREAM}:claude-small-1`]: 'closed' });
    expect(await breakers(1)).toEqual({ 'peer:far-1': 'closed' });

    fake.respond(apiError(500));
    await send();
    await send();
    expect(await state()).toBe(OPEN);
    expect(await breakers()).toEqual({ [UPSTREAM]: 'open', [`${UPSTREAM}:claude-small-1`]: 'closed' });
  });

  it('counts only the failures within window_seconds', async () => {
    // The breaker's window is on the runtime's clock: time moves only as the test advances it.
    const clock = new ManualClock();
    const { fake } = await start(
      LONG_OPEN,
      {
        circuit_breaker: {
          failure_threshold: 5,
          success_threshold: 3,
          timeout_seconds: 30,
          window_seconds: 0.3,
        },
      },
      clock,
    );
    await failRequests(4);
    // The four failures age out of the window.
    clock.advance(400);
    await failRequests(4);
    expect(await state()).toBe(CLOSED);
    expect((await send()).body.errors[0].code).toBe('UPSTREAM_ERROR');
    expect(fake.requests).toHaveLength(9);
    // The four within the window did count: with the ninth they reach failure_threshold.
    expect(await state()).toBe(OPEN);
  });

  it('after timeout_seconds lets trial calls through and closes only after success_threshold successes', async () => {
    const clock = new ManualClock();
    const { fake } = await start(LONG_OPEN, {}, clock);
    await failRequests(5);
    expect(await state()).toBe(OPEN);

    clock.advance(OPEN_MS - 1);
    expect(await state()).toBe(OPEN);
    clock.advance(1);
    expect(await state()).toBe(HALF_OPEN);
    fake.respond(message('RESULT: recovered'));

    const first = await send();
    expect(first.status).toBe(200);
    expect(first.body.results[0].content).toBe('recovered');
    expect(await state()).toBe(HALF_OPEN);
    expect((await send()).status).toBe(200);
    expect(await state()).toBe(HALF_OPEN);
    expect((await send()).status).toBe(200);
    expect(await state()).toBe(CLOSED);
    expect(fake.requests).toHaveLength(8);

    // Closed again means the failure count starts over: four more failures do not open it.
    await failRequests(4);
    expect(await state()).toBe(CLOSED);
  });

  it('re-opens when a call fails while recovering', async () => {
    const clock = new ManualClock();
    const { fake } = await start(LONG_OPEN, {}, clock);
    await failRequests(5);
    clock.advance(OPEN_MS);
    expect(await state()).toBe(HALF_OPEN);

    fake.respond(message('RESULT: ok'));
    expect((await send()).status).toBe(200);
    expect(await state()).toBe(HALF_OPEN);

    expect(await failRequests(1)).toEqual([[502, 'UPSTREAM_ERROR']]);
    expect(await state()).toBe(OPEN);
    const calls = fake.requests.length;
    fake.respond(message('RESULT: ok'));
    const res = await send();
    expect(res.status).toBe(503);
    expect(res.body.errors[0].code).toBe('BREAKER_OPEN');
    expect(fake.requests).toHaveLength(calls);

    // And it recovers the same way afterwards, a whole open time after it re-opened.
    clock.advance(OPEN_MS - 1);
    expect(await state()).toBe(OPEN);
    clock.advance(1);
    expect(await state()).toBe(HALF_OPEN);
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200);
    expect(await state()).toBe(CLOSED);
  });

  it('re-opens when the first trial call fails', async () => {
    const clock = new ManualClock();
    const { fake } = await start(LONG_OPEN, {}, clock);
    await failRequests(5);
    clock.advance(OPEN_MS);
    expect(await state()).toBe(HALF_OPEN);

    expect(await failRequests(1)).toEqual([[502, 'UPSTREAM_ERROR']]);
    expect(await state()).toBe(OPEN);
    expect((await send()).status).toBe(503);
    expect(fake.requests).toHaveLength(6);
  });

  it('does not count caller errors (upstream 400) as failures', async () => {
    const { fake } = await start(LONG_OPEN);
    fake.respond(apiError(400, { message: 'max_tokens: too large' }));

    for (let i = 0; i < 7; i++) {
      const r = await send();
      expect([r.status, r.body.errors[0].code]).toEqual([502, 'UPSTREAM_ERROR']);
    }
    expect(await state()).toBe(CLOSED);
    expect(fake.requests).toHaveLength(7);
  });

  it('serves a cached answer while open, and fails fast for what is not cached', async () => {
    const { fake, rt } = await start(LONG_OPEN, { cache_layers: ['L2'] });
    fake.respond(message('RESULT: remembered'));
    expect((await send('warm')).status).toBe(200);

    await failRequests(5);
    expect(await state()).toBe(OPEN);
    expect(fake.requests).toHaveLength(6);

    const hit = await send('warm');
    expect(hit.status).toBe(200);
    expect(hit.body.results).toEqual([{ neuron: 'impl-1', layer: 'L2', content: 'remembered' }]);
    expect(hit.body.trace[0].cached).toBe(true);

    const miss = await send('cold');
    expect(miss.status).toBe(503);
    expect(miss.body.errors[0].code).toBe('BREAKER_OPEN');
    expect(fake.requests).toHaveLength(6);
    expect(await rt.metric('hal9_cache_hits_total', { neuron: 'impl-1' })).toBe(1);
  });
});

describe('the breaker around the mock back-end', () => {
  it("does not count calls cut off by their request's own deadline, so other callers are still served", async () => {
    rt = await startRuntime({
      neurons: [neuron('impl-1', 'L2')],
      performance: {
        circuit_breaker: {
          failure_threshold: 2,
          success_threshold: 1,
          timeout_seconds: LONG_OPEN,
          window_seconds: 60,
        },
      },
      claude: { mock_responses: { L2: [{ trigger: 'slow', response: 'RESULT: late', delay_ms: 5_000 }] } },
    });
    for (let i = 0; i < 4; i++) {
      const cut = await rt.post('/v1/signals?timeout_ms=50', { content: `slow ${i}` });
      expect(cut.status).toBe(504);
      expect(cut.body.status).toBe('timed_out');
    }
    expect(await rt.metric('hal9_circuit_breaker_state', { upstream: 'mock' })).toBe(CLOSED);
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: 'mock', status: 'error' })).toBe(0);
    const served = await rt.post('/v1/signals', { content: 'quick' });
    expect(served.status).toBe(200);
    expect(served.body.status).toBe('completed');
  });
});
