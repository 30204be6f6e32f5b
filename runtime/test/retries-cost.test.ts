import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { apiRuntimes } from './support/api-runtimes.ts';
import { apiDoc, apiError, message } from './support/fake-messages-api.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// Retries within the deadline, fallback models, one breaker per model and per peer, and token cost —
// the real SDK against the fake Messages API.

const runtimes = apiRuntimes();
const { started } = runtimes;
const start = (o?: Parameters<typeof apiDoc>[1]) => runtimes.api(o);
const fastRetry = { max_retries: 2, base_delay_ms: 1, max_delay_ms: 5 };

describe('retries', () => {
  it('retries a 529 and then answers; the trace and metrics count the retry', async () => {
    const { fake, rt } = await start({ claude: { retry: fastRetry } });
    fake.script(apiError(529));
    fake.respond(message('RESULT: second time'));
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.results[0].content).toBe('second time');
    expect(res.body.trace[0]).toMatchObject({ model: 'claude-test-1', retries: 1 });
    expect(fake.requests).toHaveLength(2);
    expect(await rt.metric('hal9_upstream_retries_total', { upstream: 'claude-api', status: '529' })).toBe(1);
  });

  it('does not retry when retry-after would pass the deadline', async () => {
    const { fake, rt } = await start({ claude: { retry: fastRetry } });
    fake.respond(apiError(429, { retryAfter: '5' }));
    const res = await rt.post('/v1/signals?timeout_ms=1000', { content: 'x' });
    expect(res.body.errors[0].code).toBe('UPSTREAM_RATE_LIMITED');
    expect(fake.requests).toHaveLength(1);
  });

  it('honours a 529’s retry-after and an HTTP-date retry-after: no retry that would pass the deadline', async () => {
    const { fake, rt } = await start({ claude: { retry: fastRetry } });
    fake.respond(apiError(529, { retryAfter: '5' }));
    const overloaded = await rt.post('/v1/signals?timeout_ms=1000', { content: 'x' });
    expect(overloaded.body.errors[0].code).toBe('UPSTREAM_OVERLOADED');
    expect(overloaded.headers.get('retry-after')).toBe('5');
    expect(fake.requests).toHaveLength(1);

    fake.respond(apiError(429, { retryAfter: new Date(Date.now() + 60_000).toUTCString() }));
    const limited = await rt.post('/v1/signals?timeout_ms=1000', { content: 'y' });
    expect(limited.body.errors[0].code).toBe('UPSTREAM_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(fake.requests).toHaveLength(2);
  });

  it('starts no retry after performance.latency_slo_ms: the 429 returns at once, with its retry-after', async () => {
    const { fake, rt } = await start({ claude: { retry: fastRetry }, performance: { latency_slo_ms: 300 } });
    fake.respond(apiError(429, { retryAfterMs: '400' }));
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(502);
    expect(res.body.errors[0].code).toBe('UPSTREAM_RATE_LIMITED');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(fake.requests).toHaveLength(1);
    expect(await rt.metric('hal9_upstream_retries_total', { upstream: 'claude-api', status: '429' })).toBe(0);
  });

  it('honours retry-after when it fits', async () => {
    // The retry waits on the runtime's clock: time moves here only as the test advances it.
    const clock = new ManualClock();
    const { fake, rt } = await runtimes.api({ claude: { retry: fastRetry } }, { apiKey: 'k', clock });
    fake.script(apiError(429, { retryAfterMs: '200' }));
    fake.respond(message('RESULT: ok'));
    const res = rt.post('/v1/signals', { content: 'x' });
    // The 429 counted, the wait is armed (in the same turn): from here the retry is only a timer on
    // the clock. The retry itself is counted once it is made.
    await vi.waitFor(
      async () =>
        expect(
          await rt.metric('hal9_upstream_requests_total', { upstream: 'claude-api', status: '429' }),
        ).toBe(1),
      { timeout: 5_000, interval: 5 },
    );
    expect(await rt.metric('hal9_upstream_retries_total', { upstream: 'claude-api', status: '429' })).toBe(0);
    const waiting = clock.pending;
    // The backoff alone (at most 5 ms) would have fired by now; retry-after's 200 ms has not.
    clock.advance(199);
    expect(clock.pending).toBe(waiting);
    expect(fake.requests).toHaveLength(1);
    // 200 ms plus at most half the backoff's 1 ms of jitter.
    clock.advance(2);
    const answered = await res;
    expect(answered.status).toBe(200);
    expect(answered.body.trace[0]).toMatchObject({ retries: 1 });
    expect(fake.requests).toHaveLength(2);
    expect(await rt.metric('hal9_upstream_retries_total', { upstream: 'claude-api', status: '429' })).toBe(1);
  });
});

describe('fallback models', () => {
  it('on 529 the next model of the neuron answers, and the trace says which', async () => {
    const { fake, rt } = await start({
      neurons: [neuron('impl-1', 'L2', [], { fallback_models: ['claude-b'] })],
      claude: { retry: { max_retries: 0 } },
    });
    fake.respond((req) => (req.body.model === 'claude-b' ? message('RESULT: from b') : apiError(529)));
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.results[0].content).toBe('from b');
    expect(res.body.trace[0]).toMatchObject({ model: 'claude-b', fellBackFrom: ['claude-test-1'] });
    expect(fake.requests.map((r) => r.body.model)).toEqual(['claude-test-1', 'claude-b']);
    expect(
      await rt.metric('hal9_model_fallbacks_total', {
        neuron: 'impl-1',
        from: 'claude-test-1',
        to: 'claude-b',
      }),
    ).toBe(1);
  });

  it('a call that fails after its retries and fallbacks names in its trace what it tried', async () => {
    const { fake, rt } = await start({
      neurons: [neuron('impl-1', 'L2', [], { fallback_models: ['claude-b'] }), neuron('impl-2', 'L2')],
      claude: { retry: fastRetry },
    });
    fake.respond(apiError(529));
    const res = await rt.post('/v1/signals', { content: 'x', neuron: 'impl-1' });
    expect(res.body.errors[0].code).toBe('UPSTREAM_OVERLOADED');
    expect(fake.requests.map((r) => r.body.model)).toEqual([
      ...['claude-test-1', 'claude-test-1', 'claude-test-1'],
      ...['claude-b', 'claude-b', 'claude-b'],
    ]);
    expect(res.body.trace[0]).toMatchObject({
      model: 'claude-b',
      retries: 4,
      fellBackFrom: ['claude-test-1'],
      error: { code: 'UPSTREAM_OVERLOADED' },
    });
    // One model, its retries spent on 429s: the trace names the model and the retries.
    fake.respond(apiError(429));
    const limited = await rt.post('/v1/signals', { content: 'y', neuron: 'impl-2' });
    expect(limited.body.trace[0]).toMatchObject({
      model: 'claude-test-1',
      retries: 2,
      error: { code: 'UPSTREAM_RATE_LIMITED' },
    });
    expect(limited.body.trace[0].fellBackFrom).toBeUndefined();
  });

  it('while the primary model’s breaker is open the fallback answers without calling the primary', async () => {
    const { fake, rt } = await start({
      neurons: [neuron('impl-1', 'L2', [], { fallback_models: ['claude-b'] })],
      claude: { retry: { max_retries: 0 } },
      performance: { cache_layers: [], circuit_breaker: { failure_threshold: 1, timeout_seconds: 60 } },
    });
    fake.script(apiError(500));
    fake.respond((req) => message(`RESULT: ${req.body.model}`));
    expect((await rt.post('/v1/signals', { content: 'a' })).body.errors[0].code).toBe('UPSTREAM_ERROR');
    expect(await rt.metric('hal9_circuit_breaker_state', { upstream: 'claude-api' })).toBe(2);
    const res = await rt.post('/v1/signals', { content: 'b' });
    expect(res.body.results[0].content).toBe('claude-b');
    expect(fake.requests.map((r) => r.body.model)).toEqual(['claude-test-1', 'claude-b']);
    // The fallback model has a breaker of its own, still closed.
    expect(await rt.metric('hal9_circuit_breaker_state', { upstream: 'claude-api:claude-b' })).toBe(0);
  });

  it('a fallback model’s answer is not cached under the primary’s key: once the primary answers, it answers', async () => {
    const { fake, rt } = await start({
      neurons: [neuron('impl-1', 'L2', [], { fallback_models: ['claude-b'] })],
      claude: { retry: { max_retries: 0 } },
      performance: { cache_layers: ['L2'] },
    });
    fake.respond((req) => (req.body.model === 'claude-b' ? message('RESULT: from b') : apiError(529)));
    const first = await rt.post('/v1/signals', { content: 'x' });
    expect(first.body.trace[0]).toMatchObject({ model: 'claude-b', cached: false });
    // The primary recovers: the same content is its answer, not the fallback's for the whole TTL.
    fake.respond((req) => message(`RESULT: from ${req.body.model}`));
    const second = await rt.post('/v1/signals', { content: 'x' });
    expect(second.body.trace[0]).toMatchObject({ model: 'claude-test-1', cached: false });
    expect(second.body.results[0].content).toBe('from claude-test-1');
    // The primary's own answer is cached as usual.
    const third = await rt.post('/v1/signals', { content: 'x' });
    expect(third.body.trace[0]).toMatchObject({ model: 'claude-test-1', cached: true });
    expect(fake.requests.map((r) => r.body.model)).toEqual(['claude-test-1', 'claude-b', 'claude-test-1']);
  });
});

describe('tokens and cost', () => {
  const usage = {
    input_tokens: 1000,
    // At most the call's max_tokens (64 here): a count past it fails the call.
    output_tokens: 50,
    cache_read_input_tokens: 2000,
    cache_creation_input_tokens: 100,
  };

  it('reports usage and cost per trace entry and per request, and exports them per neuron', async () => {
    const { fake, rt } = await start({
      neurons: [neuron('lead', 'L3', ['impl-1']), neuron('impl-1', 'L2')],
      claude: { prices: { 'claude-test-1': { input: 3, output: 15 } } },
    });
    fake.respond((req) =>
      message(req.body.system[0].text === 'You are lead.' ? 'FORWARD_TO: impl-1' : 'RESULT: done', usage),
    );
    const res = await rt.post('/v1/signals', { content: 'x' });
    // (1000×3 + 50×15 + 2000×0.3 + 100×3.75) / 1e6 USD, cache prices derived from the input price.
    const each = (1000 * 3 + 50 * 15 + 2000 * 0.3 + 100 * 3.75) / 1e6;
    expect(res.body.trace[0]).toMatchObject({
      model: 'claude-test-1',
      usage: { input: 1000, output: 50, cacheRead: 2000, cacheCreation: 100 },
    });
    expect(res.body.trace[0].costUsd).toBeCloseTo(each, 10);
    expect(res.body.usage).toEqual({ input: 2000, output: 100, cacheRead: 4000, cacheCreation: 200 });
    expect(res.body.costUsd).toBeCloseTo(2 * each, 10);
    expect(await rt.metric('hal9_neuron_tokens_total', { neuron: 'lead', type: 'cache_read' })).toBe(2000);
    expect(await rt.metric('hal9_cost_usd_total', { neuron: 'impl-1', model: 'claude-test-1' })).toBeCloseTo(
      each,
      10,
    );
  });

  it("exports each priced model's cost series at 0 from the start, so rate() sees the first call's cost", async () => {
    const { rt } = await start({
      neurons: [neuron('lead', 'L3', ['impl-1']), neuron('impl-1', 'L2')],
      claude: { prices: { 'claude-test-1': { input: 3, output: 15 } } },
    });
    const text = (await rt.get('/metrics')).body as string;
    const costs = text.split('\n').filter((l) => l.startsWith('hal9_cost_usd_total{'));
    expect(costs.sort()).toEqual([
      'hal9_cost_usd_total{neuron="impl-1",model="claude-test-1",hal9_cluster="standalone"} 0',
      'hal9_cost_usd_total{neuron="lead",model="claude-test-1",hal9_cluster="standalone"} 0',
    ]);
    // An unpriced model has no cost series at all (its cost is unknown, not 0).
    const { rt: unpriced } = await start();
    expect((await unpriced.get('/metrics')).body as string).not.toContain('hal9_cost_usd_total{');
  });

  it('an unpriced model has usage but no cost, never a guess', async () => {
    const { fake, rt } = await start();
    fake.respond(message('RESULT: done', usage));
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.body.usage.input).toBe(1000);
    expect(res.body.costUsd).toBeUndefined();
    expect(res.body.trace[0].costUsd).toBeUndefined();
    expect(await rt.metric('hal9_cost_usd_total')).toBe(0);
  });

  it('a call that fell back after retries costs what the model that answered charges; the refused attempts cost nothing', async () => {
    const { fake, rt } = await start({
      neurons: [neuron('impl-1', 'L2', [], { fallback_models: ['claude-b'] })],
      claude: {
        retry: fastRetry,
        prices: { 'claude-test-1': { input: 3, output: 15 }, 'claude-b': { input: 1, output: 5 } },
      },
    });
    fake.respond((req) => (req.body.model === 'claude-b' ? message('RESULT: from b', usage) : apiError(529)));
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(fake.requests.map((r) => r.body.model)).toEqual([
      'claude-test-1',
      'claude-test-1',
      'claude-test-1',
      'claude-b',
    ]);
    // claude-b's prices, cache reads and writes derived from its input price.
    const cost = (1000 * 1 + 50 * 5 + 2000 * 0.1 + 100 * 1.25) / 1e6;
    expect(res.body.trace[0]).toMatchObject({
      model: 'claude-b',
      retries: 2,
      fellBackFrom: ['claude-test-1'],
    });
    expect(res.body.trace[0].costUsd).toBeCloseTo(cost, 12);
    expect(res.body.costUsd).toBeCloseTo(cost, 12);
    expect(res.body.usage).toEqual({ input: 1000, output: 50, cacheRead: 2000, cacheCreation: 100 });
    expect(await rt.metric('hal9_cost_usd_total', { model: 'claude-b' })).toBeCloseTo(cost, 12);
    expect(await rt.metric('hal9_cost_usd_total', { model: 'claude-test-1' })).toBe(0);
    expect(await rt.metric('hal9_tokens_total', { upstream: 'claude-api', type: 'input' })).toBe(0);
    expect(await rt.metric('hal9_tokens_total', { upstream: 'claude-api:claude-b', type: 'input' })).toBe(
      1000,
    );
    expect(await rt.metric('hal9_neuron_tokens_total', { neuron: 'impl-1', type: 'output' })).toBe(50);
  });

  it('a cost budget ends the request with BUDGET_EXCEEDED naming max_cost_usd', async () => {
    const { fake, rt } = await start({
      neurons: [neuron('lead', 'L3', ['impl-1']), neuron('impl-1', 'L2')],
      claude: { prices: { 'claude-test-1': { input: 3, output: 15 } } },
      performance: { request_budget: { max_cost_usd: 0.001 } },
    });
    fake.respond(() => message('FORWARD_TO: impl-1', usage));
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.body.errors[0]).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      field: 'performance.request_budget.max_cost_usd',
    });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('tokens and cost in cluster mode', () => {
  const each = { input_tokens: 1000, output_tokens: 1000 };
  const prices = { 'claude-test-1': { input: 3, output: 15 } };
  const designs = ['design-0', 'design-1', 'design-2'];
  /** lead (this pod) forwards to three design neurons another pod hosts; every call 1,000 + 1,000. */
  async function cluster(workerPrices: Record<string, unknown>) {
    const fake = await runtimes.fake();
    fake.respond((req) =>
      message(
        req.body.system[0].text === 'You are lead.' ? `FORWARD_TO: ${designs.join(', ')}` : 'RESULT: done',
        each,
      ),
    );
    const worker = await startRuntime(
      apiDoc(fake, {
        neurons: designs.map((d) => neuron(d, 'L3')),
        claude: { max_tokens: 1000, prices: workerPrices },
      }),
      { apiKey: 'k' },
    );
    started.push(worker);
    const lead = await startRuntime(
      apiDoc(fake, {
        neurons: [
          neuron('lead', 'L4', designs),
          ...designs.map((d) => neuron(d, 'L3', [], { endpoint: worker.url })),
        ],
        claude: { max_tokens: 1000, prices },
      }),
      { apiKey: 'k' },
    );
    started.push(lead);
    return lead;
  }
  /** The `end` event of a streamed request. */
  async function streamedEnd(lead: Started) {
    const res = await fetch(`${lead.url}/v1/signals?stream=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'x' }),
    });
    const text = await res.text();
    const end = /event: end\ndata: (.*)\n/.exec(text);
    return JSON.parse(end![1]!);
  }
  const cost = (1000 * 3 + 1000 * 15) / 1e6;

  it('the totals count the model calls of the sub-trees peer pods ran (JSON and streamed answers)', async () => {
    const lead = await cluster(prices);
    const res = await lead.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.trace.filter((t: { usage?: unknown }) => t.usage)).toHaveLength(4);
    expect(res.body.usage).toEqual({ input: 4000, output: 4000, cacheRead: 0, cacheCreation: 0 });
    expect(res.body.costUsd).toBeCloseTo(4 * cost, 10);
    // A followed request gets the peer's entries as they happen (ndjson): the same totals.
    const end = await streamedEnd(lead);
    expect(end.usage).toEqual({ input: 4000, output: 4000, cacheRead: 0, cacheCreation: 0 });
    expect(end.costUsd).toBeCloseTo(4 * cost, 10);
  });

  it('a peer’s call with usage and no price makes the cost unknown, never a partial sum', async () => {
    const lead = await cluster({});
    const res = await lead.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.trace[0].costUsd).toBeCloseTo(cost, 10);
    expect(res.body.usage).toEqual({ input: 4000, output: 4000, cacheRead: 0, cacheCreation: 0 });
    expect(res.body.costUsd).toBeUndefined();
    const end = await streamedEnd(lead);
    expect(end.usage.input).toBe(4000);
    expect(end.costUsd).toBeUndefined();
  });
});

describe('crafted token counts', () => {
  it('an answer with a negative or non-numeric token count fails its call; no budget or counter runs backwards', async () => {
    const { fake, rt } = await start({ claude: { prices: { 'claude-test-1': { input: 3, output: 15 } } } });
    fake.script(
      message('RESULT: cheap', { input_tokens: 1000, output_tokens: -5_000_000 }),
      message('RESULT: cheap', { input_tokens: '1000' as unknown as number }),
    );
    for (const content of ['a', 'b']) {
      const res = await rt.post('/v1/signals', { content });
      expect(res.status).toBe(502);
      expect(res.body.errors[0]).toMatchObject({ code: 'UPSTREAM_ERROR', neuron: 'impl-1' });
      expect(res.body.errors[0].message).toMatch(
        /usage\.(output|input)_tokens must be a non-negative integer/,
      );
    }
    expect(await rt.metric('hal9_tokens_total')).toBe(0);
    expect(await rt.metric('hal9_cost_usd_total')).toBe(0);
  });
});

describe('peer breaker', () => {
  it('opens for a dead peer runtime and then fails fast', async () => {
    const lead = await startRuntime({
      neurons: [
        neuron('lead', 'L3', ['worker']),
        neuron('worker', 'L2', [], { endpoint: 'http://127.0.0.1:9' }),
      ],
      performance: { circuit_breaker: { failure_threshold: 2, timeout_seconds: 60 } },
    });
    started.push(lead);
    for (let i = 0; i < 2; i++)
      expect((await lead.post('/v1/signals', { content: `x${i}` })).body.errors[0].code).toBe('PEER_ERROR');
    expect(await lead.metric('hal9_circuit_breaker_state', { upstream: 'peer:worker' })).toBe(2);
    const res = await lead.post('/v1/signals', { content: 'y' });
    expect(res.body.errors[0].code).toBe('BREAKER_OPEN');
  });

  it('does not open on requests cut off by their own deadline while the peer streams their sub-trees', async () => {
    // Followed requests (?wait=false) ask the peer to stream: each is cut at its deadline after the
    // peer's first line arrived, while impl-1 still works there. The peer ends its stream at the
    // deadline it was given (within the grace after it): answered, not a failure.
    const worker = await startRuntime({
      neurons: [neuron('design-1', 'L3', ['impl-1']), neuron('impl-1', 'L2')],
      claude: { mock_responses: { L2: [answer('slow', 'RESULT: late', 2_000)] } },
    });
    started.push(worker);
    const lead = await startRuntime({
      neurons: [
        neuron('strategic-1', 'L4', ['design-1']),
        neuron('design-1', 'L3', [], { endpoint: worker.url }),
      ],
      performance: { circuit_breaker: { failure_threshold: 2, timeout_seconds: 60 } },
    });
    started.push(lead);
    const peer = { upstream: 'peer:design-1' };
    for (let i = 0; i < 2; i++) {
      const { body } = await lead.post('/v1/signals?wait=false&timeout_ms=1000', { content: `slow ${i}` });
      await vi.waitFor(
        async () => expect((await lead.get(`/v1/signals/${body.id}`)).body.status).toBe('timed_out'),
        { timeout: 5_000, interval: 20 },
      );
      const view = (await lead.get(`/v1/signals/${body.id}`)).body;
      // The peer's first entry came before the cut: the stream was cut mid-way, and impl-1, which that
      // entry named, is cut off here.
      expect(
        view.trace.map((t: { neuron: string; error?: { code: string } }) => [t.neuron, t.error?.code]),
      ).toEqual([
        ['strategic-1', undefined],
        ['design-1', undefined],
        ['impl-1', 'REQUEST_TIMEOUT'],
      ]);
      // The peer call has settled (and its breaker has seen it).
      const calls = () => lead.metric('hal9_upstream_requests_total', peer);
      await vi.waitFor(async () => expect(await calls()).toBe(i + 1), { timeout: 5_000, interval: 10 });
    }
    expect(await lead.metric('hal9_upstream_requests_total', { ...peer, status: '200' })).toBe(2);
    expect(await lead.metric('hal9_circuit_breaker_state', peer)).toBe(0);
    const healthy = await lead.post('/v1/signals', { content: 'quick' });
    expect(healthy.status).toBe(200);
    expect(healthy.body.status).toBe('completed');
  });
});
