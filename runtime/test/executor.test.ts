import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  apiDoc,
  type FakeMessagesApi,
  gate,
  message,
  promptOf,
  startFakeMessagesApi,
} from './support/fake-messages-api.ts';
import { type HeldAnswers, startWithHeldAnswers } from './support/held-answers.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

let held: HeldAnswers | undefined;
afterEach(async () => {
  await held?.close();
  held = undefined;
});

let fake: FakeMessagesApi | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** A one-neuron api-mode runtime (into `rt`) whose every answer waits until the test opens the gate. */
async function heldAnswers(performance: Record<string, unknown>) {
  held = await startWithHeldAnswers(performance, 'only');
  rt = held.rt;
  return held.hold;
}

const slowNeuron = (limit: number, extra: Record<string, unknown> = {}, delayMs = 40) =>
  startRuntime({
    neurons: [neuron('only', 'L2')],
    performance: { max_concurrent_signals: limit, cache_layers: [], ...extra },
    claude: { mock_responses: { L2: [answer('default', 'RESULT: ok', delayMs)] } },
  });

/**
 * Runs `n` concurrent requests on the held-answers runtime: counted at the upstream, not by the
 * executor itself, exactly `limit` calls reach it while the rest wait in the runtime; then every
 * answer is let through. Returns the most calls the upstream was answering at once.
 */
async function upstreamConcurrency(n: number, limit: number): Promise<number> {
  const h = held!;
  const res = Promise.all(
    Array.from({ length: n }, (_, i) => h.rt.post('/v1/signals', { content: `c${i}` })),
  );
  await vi.waitFor(
    () => {
      expect(h.fake.requests).toHaveLength(limit);
      expect(h.rt.runtime.engine.occupancy).toMatchObject({ active: limit, queued: n - limit });
    },
    { timeout: 5_000, interval: 5 },
  );
  expect(await h.rt.metric('hal9_parallel_tasks_active')).toBe(limit);
  h.hold.open();
  const done = await res;
  expect(done.every((r) => r.status === 200)).toBe(true);
  expect(h.fake.requests).toHaveLength(n);
  return h.fake.maxInFlight;
}

describe('the order waiting signals start in', () => {
  it('finishes the requests it accepted first: a forwarded signal starts before new requests’ first signals that waited longer', async () => {
    // a → b → c, one slot; every answer waits until the test opens the gate once all four requests wait.
    const hold = gate();
    fake = await startFakeMessagesApi();
    const next: Record<string, string> = { 'You are a.': 'b', 'You are b.': 'c' };
    fake.respond((req) => {
      const to = next[promptOf(req).system];
      return message(
        to ? `FORWARD_TO: ${to}\nCONTENT: ${promptOf(req).user}` : 'RESULT: done',
        {},
        { until: hold.promise },
      );
    });
    rt = await startRuntime(
      apiDoc(fake, {
        neurons: [neuron('a', 'L4', ['b']), neuron('b', 'L3', ['c']), neuron('c', 'L2')],
        performance: { max_concurrent_signals: 1 },
      }),
      { apiKey: 'k' },
    );
    const started = rt;
    const ends: string[] = [];
    const res = Promise.all(
      ['r1', 'r2', 'r3', 'r4'].map((c) =>
        started.post('/v1/signals', { content: c }).then((r) => {
          ends.push(c);
          return r;
        }),
      ),
    );
    await vi.waitFor(() => expect(started.runtime.engine.occupancy).toMatchObject({ active: 1, queued: 3 }), {
      timeout: 5_000,
      interval: 5,
    });
    hold.open();
    const done = await res;
    expect(done.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // The upstream saw each request's three steps together, in the order the requests came.
    const first = promptOf(fake.requests[0]!).user;
    const seen = fake.requests.map((r) => `${promptOf(r).system.slice(8, 9)}:${promptOf(r).user}`);
    expect(seen.slice(0, 3)).toEqual([`a:${first}`, `b:${first}`, `c:${first}`]);
    for (let i = 0; i < 12; i += 3) {
      const user = seen[i]!.slice(2);
      expect(seen.slice(i, i + 3)).toEqual([`a:${user}`, `b:${user}`, `c:${user}`]);
    }
    expect(ends[0]).toBe(first);
  });
});

describe('parallel executor', () => {
  it('never runs more than max_concurrent_signals at once, and reaches it under load', async () => {
    await heldAnswers({ max_concurrent_signals: 3 });
    expect(await upstreamConcurrency(15, 3)).toBe(3);
    expect(await rt!.metric('hal9_parallel_tasks_max')).toBe(3);
  });

  it('changes the limit live through the admin API', async () => {
    await heldAnswers({ max_concurrent_signals: 2 });
    const put = await rt!.put('/v1/admin/performance', { max_concurrent_signals: 5 });
    expect(put.status).toBe(200);
    expect(put.body.max_concurrent_signals).toBe(5);
    expect(await upstreamConcurrency(20, 5)).toBe(5);
    expect(await rt!.metric('hal9_parallel_tasks_max')).toBe(5);
  });

  it('answers 429 with Retry-After when the queue is full, and finishes what it accepted', async () => {
    rt = await slowNeuron(1, { max_queue_depth: 2 });
    const res = await Promise.all(
      Array.from({ length: 12 }, (_, i) => rt!.post('/v1/signals', { content: `q${i}` })),
    );
    const rejected = res.filter((r) => r.status === 429);
    const accepted = res.filter((r) => r.status === 200);
    expect(rejected.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThanOrEqual(3);
    expect(accepted.length + rejected.length).toBe(12);
    expect(rejected[0]!.headers.get('retry-after')).toBe('1');
    expect(rejected[0]!.body.error).toEqual({
      code: 'QUEUE_FULL',
      field: 'performance.max_queue_depth',
      // Nothing served yet: no rate to size the wait by.
      message: 'the signal queue is full (performance.max_queue_depth, 2); retry in 1 s',
      retryAfterSeconds: 1,
    });
    expect(accepted.every((r) => r.body.status === 'completed')).toBe(true);
    expect(await rt.metric('hal9_executor_rejections_total')).toBe(rejected.length);
    expect(await rt.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(rejected.length);
  });

  it('sizes Retry-After by the queue ahead and the rate served lately: a full queue of seconds is not "retry in 1 s"', async () => {
    // 4 slots of 400 ms serve at most 10 signals a second: 20 waiting take 2 s at least. Slow
    // enough that the 40 requests below fill the queue however slowly a busy machine sends them (by
    // 800 ms only 8 have finished).
    rt = await slowNeuron(4, { max_queue_depth: 20 }, 400);
    await Promise.all(Array.from({ length: 8 }, (_, i) => rt!.post('/v1/signals', { content: `warm ${i}` })));
    // A whole second with signals served is behind the rate.
    await new Promise((r) => setTimeout(r, 1_100));
    const queued = await Promise.all(
      Array.from({ length: 40 }, (_, i) => rt!.post('/v1/signals?wait=false', { content: `q${i}` })),
    );
    const refused = queued.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    const after = Number(refused[0]!.headers.get('retry-after'));
    expect(after).toBeGreaterThanOrEqual(2);
    expect(after).toBeLessThanOrEqual(30);
    expect(refused[0]!.body.error).toMatchObject({
      retryAfterSeconds: after,
      message: expect.stringContaining(`retry in ${after} s`),
    });
  });

  it('refuses 429 a request whose content would pass what requests in progress may hold, and takes it once they ended', async () => {
    rt = await startRuntime({
      server: { body_limit_bytes: 4_194_304 },
      neurons: [neuron('only', 'L2')],
      performance: { max_in_flight_content_bytes: 1_048_576, cache_layers: [] },
      claude: {
        mock_responses: { L2: [answer('slow', 'RESULT: ok', 600), answer('default', 'RESULT: ok')] },
      },
    });
    const big = (tag: string) => `slow ${tag} ${'x'.repeat(600_000)}`;
    const first = rt.post('/v1/signals', { content: big('a') });
    await vi.waitFor(() => expect(rt!.runtime.engine.occupancy).toMatchObject({ active: 1 }), {
      interval: 5,
    });
    const second = await rt.post('/v1/signals', { content: big('b') });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.body.error).toMatchObject({
      code: 'QUEUE_FULL',
      field: 'performance.max_in_flight_content_bytes',
    });
    expect(await rt.metric('hal9_executor_rejections_total', { reason: 'content_limit' })).toBe(1);
    expect(await rt.metric('hal9_executor_rejections_total', { reason: 'queue_full' })).toBe(0);
    // A small one still fits beside it.
    expect((await rt.post('/v1/signals', { content: 'small' })).status).toBe(200);
    expect((await first).status).toBe(200);
    // The first one's content is released with its end: the same request is taken now.
    expect((await rt.post('/v1/signals', { content: big('c') })).status).toBe(200);
  });

  it('frees the queue places of requests that ended while they waited: new requests are admitted, not refused 429', async () => {
    const hold = await heldAnswers({ max_concurrent_signals: 2, max_queue_depth: 3 });
    if (!rt) throw new Error('not started');
    // Two requests hold both slots until the test lets go; three more wait for one, and their deadlines pass.
    const holders = await Promise.all(
      [1, 2].map((i) => rt!.post('/v1/signals?wait=false', { content: `h${i}` })),
    );
    expect(holders.map((r) => r.status)).toEqual([202, 202]);
    const waiters = await Promise.all(
      [1, 2, 3].map((i) => rt!.post('/v1/signals?timeout_ms=100', { content: `w${i}` })),
    );
    expect(waiters.map((r) => r.status)).toEqual([504, 504, 504]);
    await vi.waitFor(() => expect(rt!.runtime.engine.occupancy).toMatchObject({ active: 2, queued: 0 }), {
      timeout: 10_000,
      interval: 5,
    });
    expect(await rt.metric('hal9_queue_depth')).toBe(0);
    // The queue's three places are free again while the slots are still held.
    const next = await Promise.all(
      [1, 2, 3].map((i) => rt!.post('/v1/signals?wait=false', { content: `n${i}` })),
    );
    expect(next.map((r) => r.status)).toEqual([202, 202, 202]);
    hold.open();
  });

  it('a batch call refused whole by a full queue answers 429 with Retry-After; a partly refused one 200 with it', async () => {
    const hold = await heldAnswers({ max_concurrent_signals: 1, max_queue_depth: 2 });
    const partly = rt!.post('/v1/signals/batch', {
      signals: Array.from({ length: 6 }, (_, i) => ({ content: `b${i}` })),
    });
    // Once that batch is admitted (1 running, 2 queued, 3 refused), the queue stays full until the
    // held answer is let go.
    await vi.waitFor(async () => expect(await rt!.metric('hal9_executor_rejections_total')).toBe(3), {
      timeout: 10_000,
      interval: 5,
    });
    if (!rt) throw new Error('not started');
    const whole = await rt.post('/v1/signals/batch', { signals: [{ content: 'x' }, { content: 'y' }] });
    expect(whole.status).toBe(429);
    expect(whole.headers.get('retry-after')).toBe('1');
    expect(whole.body.results.map((r: { error: { code: string } }) => r.error.code)).toEqual([
      'QUEUE_FULL',
      'QUEUE_FULL',
    ]);
    // A request that can never run is told so while the queue is full, not asked to retry.
    const unknown = await rt.post('/v1/signals', { content: 'x', neuron: 'no-such' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'UNKNOWN_NEURON']);
    expect(unknown.headers.get('retry-after')).toBeNull();
    expect(await rt.metric('hal9_executor_rejections_total')).toBe(5);
    hold.open();
    const first = await partly;
    expect(first.status).toBe(200);
    expect(first.headers.get('retry-after')).toBe('1');
    const codes = first.body.results.map(
      (r: { status?: string; error?: { code: string } }) => r.status ?? r.error!.code,
    );
    expect(codes.slice(0, 3)).toEqual(['completed', 'completed', 'completed']);
    expect(codes.slice(3)).toEqual(['QUEUE_FULL', 'QUEUE_FULL', 'QUEUE_FULL']);
  });

  it('protects the admin API with the configured bearer token and validates values', async () => {
    rt = await startRuntime({ server: { auth_token: 's3cret-admin-token' } });
    const body = { max_concurrent_signals: 4 };
    const denied = await rt.put('/v1/admin/performance', body, { authorization: 'Bearer wrong!' });
    expect(denied.status).toBe(401);
    expect(denied.body.error.code).toBe('UNAUTHORIZED');
    const ok = await rt.put('/v1/admin/performance', body, { authorization: 'Bearer s3cret-admin-token' });
    expect(ok.status).toBe(200);
    expect(rt.runtime.engine.tuning().max_concurrent_signals).toBe(4);
    const bad = await rt.put(
      '/v1/admin/performance',
      { max_concurrent_signals: 0 },
      { authorization: 'Bearer s3cret-admin-token' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('max_concurrent_signals');
  });
});
