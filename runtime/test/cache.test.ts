import { afterEach, describe, expect, it, vi } from 'vitest';
import { cacheKey, cacheScope, INLINE_KEY_MAX } from '../src/pipeline/response-cache.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import {
  apiDoc,
  apiError,
  cutOffMessage,
  type FakeMessagesApi,
  gate,
  message,
  promptOf,
  type RecordedRequest,
  startFakeMessagesApi,
} from './support/fake-messages-api.ts';
import { neuron, type Started, startRuntime } from './support/runtime.ts';

// The response cache in api mode: hits save upstream calls, entries expire and are bounded, identical
// concurrent misses share one call, failures are never cached, and the key separates neurons/content.

let fake: FakeMessagesApi | undefined;
let rt: Started | undefined;

afterEach(async () => {
  await rt?.close();
  await fake?.close();
  rt = undefined;
  fake = undefined;
});

const L2 = { neuron: 'impl-1', layer: 'L2' };

async function start(
  performance: Record<string, unknown> = {},
  neurons = [neuron('impl-1', 'L2')],
  clock?: ManualClock,
): Promise<{ fake: FakeMessagesApi; rt: Started }> {
  fake = await startFakeMessagesApi();
  // Each answer names the call that produced it, so a cached answer is recognisable.
  fake.respond((req: RecordedRequest) =>
    message(`RESULT: answer ${fake!.requests.length} to ${promptOf(req).user}`),
  );
  rt = await startRuntime(apiDoc(fake, { neurons, performance: { cache_layers: ['L2'], ...performance } }), {
    apiKey: 'test-key',
    ...(clock ? { clock } : {}),
  });
  return { fake, rt };
}

const send = (content: string, neuronId?: string) =>
  rt!.post('/v1/signals', { content, ...(neuronId ? { neuron: neuronId } : {}) });
const cachedOf = (r: { body: { trace: { cached: boolean }[] } }) => r.body.trace[0]!.cached;

describe('response cache', () => {
  it('answers a repeated identical signal from the cache without an upstream call', async () => {
    const { fake, rt } = await start();

    const first = await send('same question');
    const second = await send('same question');

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(cachedOf(first)).toBe(false);
    expect(cachedOf(second)).toBe(true);
    expect(second.body.results).toEqual(first.body.results);
    expect(first.body.results[0].content).toBe('answer 1 to same question');
    expect(fake.requests).toHaveLength(1);
    expect(await rt.metric('hal9_cache_requests_total', L2)).toBe(2);
    expect(await rt.metric('hal9_cache_hits_total', L2)).toBe(1);
  });

  it('calls upstream again once an entry is older than cache_ttl_seconds, on the runtime clock', async () => {
    const clock = new ManualClock();
    const { fake } = await start({ cache_ttl_seconds: 2 }, undefined, clock);
    expect(cachedOf(await send('ttl'))).toBe(false);
    clock.advance(1999);
    expect(cachedOf(await send('ttl'))).toBe(true);
    clock.advance(2);
    expect(cachedOf(await send('ttl'))).toBe(false);
    expect(fake.requests.map((r) => promptOf(r).user)).toEqual(['ttl', 'ttl']);
  });

  it('keeps at most cache_max_entries answers, evicting the least recently used', async () => {
    const { fake } = await start({ cache_max_entries: 2 });
    for (const c of ['a', 'b', 'c']) expect(cachedOf(await send(c))).toBe(false);
    expect(fake.requests).toHaveLength(3);

    expect(cachedOf(await send('a'))).toBe(false);
    expect(fake.requests).toHaveLength(4);
    // 'c' was used more recently than 'b', so 'b' made room for 'a' and 'c' is still there.
    expect(cachedOf(await send('c'))).toBe(true);
    expect(fake.requests).toHaveLength(4);
  });

  it('keeps at most cache_max_bytes of answers, however few they are, and never one larger than that', async () => {
    // Each answer repeats its ~200k-character content: about 400 kB as estimated, so two fit in 1 MiB.
    const { fake } = await start({ cache_max_entries: 1000, cache_max_bytes: 1_048_576 });
    const big = (c: string) => c.repeat(200_000);
    for (const c of ['a', 'b', 'c']) expect(cachedOf(await send(big(c)))).toBe(false);
    expect(fake.requests).toHaveLength(3);
    expect(cachedOf(await send(big('c')))).toBe(true);
    expect(cachedOf(await send(big('b')))).toBe(true);
    // 'a' made room for 'c' by bytes, although the cache holds far fewer than cache_max_entries.
    expect(cachedOf(await send(big('a')))).toBe(false);
    expect(fake.requests).toHaveLength(4);
    // An answer over the whole budget is not cached: the same signal calls upstream again.
    const huge = 'h'.repeat(600_000);
    expect(cachedOf(await send(huge))).toBe(false);
    expect(cachedOf(await send(huge))).toBe(false);
    expect(fake.requests).toHaveLength(6);
  });

  it('makes exactly one upstream call for 20 concurrent identical signals (coalescing)', async () => {
    const hold = gate();
    const { fake, rt } = await start({ max_concurrent_signals: 32, max_concurrent_neurons: 32 });
    fake.respond(message('RESULT: shared answer', {}, { until: hold.promise }));

    const pending = Array.from({ length: 20 }, () => send('burst'));
    // Hold the one upstream answer until all 20 signals have looked the key up.
    await vi.waitFor(async () => expect(await rt.metric('hal9_cache_requests_total', L2)).toBe(20), {
      timeout: 10_000,
      interval: 10,
    });
    expect(fake.requests).toHaveLength(1);
    hold.open();
    const all = await Promise.all(pending);

    expect(all.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(all.every((r) => r.body.results[0].content === 'shared answer')).toBe(true);
    expect(all.filter((r) => !cachedOf(r))).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
    expect(await rt.metric('hal9_cache_hits_total', L2)).toBe(19);
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: 'claude-api' })).toBe(1);
  });

  it('a request’s deadline does not fail the request queued behind it for the same content', async () => {
    // A cancels the call it started; B, waiting for the only slot, starts as A's slot frees and
    // must not join that cancelled call: it makes its own.
    const hold = gate();
    const { fake, rt } = await start({ max_concurrent_signals: 1 });
    fake.script(message('RESULT: too late', {}, { until: hold.promise }));
    fake.respond(message('RESULT: done'));
    try {
      const a = rt.post('/v1/signals?timeout_ms=1000', { content: 'slow one' });
      await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 5_000, interval: 5 });
      const b = send('slow one');
      expect((await a).status).toBe(504);
      const r = await b;
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('completed');
      expect(r.body.results[0].content).toBe('done');
      expect(cachedOf(r)).toBe(false);
      expect(fake.requests).toHaveLength(2);
    } finally {
      hold.open();
    }
  });

  it('a shared call retries within the deadline of the latest request waiting on it, not only its starter’s', async () => {
    // A starts the call with a short deadline; B joins it. The 429's retry-after passes A's deadline
    // but fits B's: B gets the retried answer, not A's UPSTREAM_RATE_LIMITED.
    const hold = gate();
    const { fake, rt } = await start({ max_concurrent_signals: 4 });
    fake.script(apiError(429, { retryAfterMs: '1200', until: hold.promise }), message('RESULT: retried'));
    const a = rt.post('/v1/signals?timeout_ms=1000', { content: 'limited' });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 5_000, interval: 5 });
    const b = send('limited');
    await vi.waitFor(async () => expect(await rt.metric('hal9_cache_requests_total', L2)).toBe(2), {
      timeout: 5_000,
      interval: 5,
    });
    hold.open();
    const r = await b;
    expect(r.status).toBe(200);
    expect(r.body.results[0].content).toBe('retried');
    expect(cachedOf(r)).toBe(true);
    expect((await a).status).toBe(504);
    expect(fake.requests).toHaveLength(2);
  });

  it('a shared call that ends after its starter’s request did adds nothing to that request: its totals are final', async () => {
    const hold = gate();
    const { fake, rt } = await start({ max_concurrent_signals: 4 });
    fake.script({ ...message('RESULT: late'), until: hold.promise });
    const a = await rt.post('/v1/signals?wait=false&timeout_ms=1000', { content: 'slow' });
    expect(a.status).toBe(202);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 5_000, interval: 5 });
    const b = send('slow');
    await vi.waitFor(async () => expect(await rt.metric('hal9_cache_requests_total', L2)).toBe(2), {
      timeout: 5_000,
      interval: 5,
    });
    const view = () => rt.get(`/v1/signals/${a.body.id}`).then((r) => r.body);
    await vi.waitFor(async () => expect((await view()).status).toBe('timed_out'), {
      timeout: 5_000,
      interval: 20,
    });
    hold.open();
    const joined = await b;
    expect(joined.status).toBe(200);
    expect(cachedOf(joined)).toBe(true);
    // The call was paid (the metrics count it), but the ended request reads as it ended.
    expect(await rt.metric('hal9_neuron_tokens_total', { neuron: 'impl-1', type: 'output' })).toBeGreaterThan(
      0,
    );
    const later = await view();
    expect(later.status).toBe('timed_out');
    expect(later.usage).toBeUndefined();
    expect(later.costUsd).toBeUndefined();
  });

  it('takes a cache TTL that is no whole number of milliseconds (1.001 s, 0.0015 s)', async () => {
    for (const ttl of [1.001, 0.0015]) {
      const { rt } = await start({ cache_ttl_seconds: ttl });
      expect((await send(`ttl ${ttl}`)).status, String(ttl)).toBe(200);
      await rt.close();
      await fake!.close();
    }
  });

  it('does not cache failures: after an upstream error the same signal calls upstream again', async () => {
    const { fake } = await start();
    fake.script(apiError(500));

    const failed = await send('flaky');
    expect(failed.status).toBe(502);
    expect(failed.body.errors[0].code).toBe('UPSTREAM_ERROR');

    const ok = await send('flaky');
    expect(ok.status).toBe(200);
    expect(cachedOf(ok)).toBe(false);
    expect(fake.requests).toHaveLength(2);

    // The success is what gets cached.
    expect(cachedOf(await send('flaky'))).toBe(true);
    expect(fake.requests).toHaveLength(2);
  });

  it('does not cache an answer cut off at max_tokens, and the request says it is partial', async () => {
    const { fake } = await start();
    fake.script(cutOffMessage('RESULT: the first half of the ans'));

    const cut = await send('long');
    expect(cut.status).toBe(200);
    expect(cut.body.results).toEqual([
      { neuron: 'impl-1', layer: 'L2', content: 'the first half of the ans' },
    ]);
    expect(cut.body.errors).toEqual([
      {
        code: 'ANSWER_TRUNCATED',
        message:
          "impl-1's answer was cut off at claude.max_tokens (64 tokens); what it held was routed as it stands",
        neuron: 'impl-1',
        field: 'claude.max_tokens',
      },
    ]);

    // The next identical signal asks the model again, and that whole answer is what gets cached.
    const whole = await send('long');
    expect(cachedOf(whole)).toBe(false);
    expect(whole.body.errors).toEqual([]);
    expect(fake.requests).toHaveLength(2);
    expect(cachedOf(await send('long'))).toBe(true);
  });

  it('does not cache an answer with no text', async () => {
    const { fake } = await start();
    fake.script(message('   '));

    const blank = await send('blank');
    expect(blank.body.errors.map((e: { code: string }) => e.code)).toEqual(['UNROUTABLE_ANSWER']);

    const again = await send('blank');
    expect(cachedOf(again)).toBe(false);
    expect(again.status).toBe(200);
    expect(fake.requests).toHaveLength(2);
  });

  it('does not cache an answer that routes nowhere (only BACKWARD_TO, an unknown target)', async () => {
    const { fake } = await start();
    for (const [i, text] of ['BACKWARD_TO: top\nERROR_TYPE: Confused', 'FORWARD_TO: nonexistent'].entries()) {
      fake.script(message(text), message(text));
      for (const round of [0, 1]) {
        const r = await send(`nowhere ${i}`);
        expect(r.body.errors.length, text).toBe(1);
        expect(cachedOf(r), `${text}, round ${round}`).toBe(false);
      }
      expect(fake.requests).toHaveLength(2 * (i + 1));
    }
  });

  it('an answer cut off with nothing routable ends its branch naming the cut', async () => {
    const { fake } = await start();
    fake.script(cutOffMessage('', 'model_context_window_exceeded'));

    const r = await send('huge');
    expect(r.status).toBe(422);
    expect(r.body.status).toBe('failed');
    expect(r.body.trace[0].error).toMatchObject({ code: 'ANSWER_TRUNCATED', neuron: 'impl-1' });
    expect(r.body.trace[0].error.message).toContain("the model's context window is full");
    expect(r.body.errors.map((e: { code: string }) => e.code)).toEqual([
      'UNROUTABLE_ANSWER',
      'ANSWER_TRUNCATED',
    ]);
  });

  it('reads a code fence a cut-off answer left open as the model meant it: the directives quoted in it do not route', async () => {
    const { fake } = await start({}, [neuron('design-1', 'L3', ['impl-1']), neuron('impl-1', 'L2')]);
    const quoted = 'RESULT: Here is how to hand over:\n```\nFORWARD_TO: impl-1\nCONTENT: ship it';
    fake.script(cutOffMessage(quoted, 'max_tokens'), message(quoted));

    const cut = await send('hand over', 'design-1');
    expect(cut.status).toBe(200);
    expect(cut.body.results).toEqual([{ neuron: 'design-1', layer: 'L3', content: quoted.slice(8) }]);
    expect(cut.body.errors.map((e: { code: string }) => e.code)).toEqual(['ANSWER_TRUNCATED']);
    expect(fake.requests).toHaveLength(1);
    // Finished, the same text has a fence that never closes: an opener with no closing line is text.
    const done = await send('hand over again', 'design-1');
    expect(done.body.trace.map((t: { neuron: string }) => t.neuron)).toEqual(['design-1', 'impl-1']);
    expect(fake.requests).toHaveLength(3);
  });

  it('treats an answer the API’s classifiers stopped (refusal) as one the model did not finish', async () => {
    const { fake } = await start();
    fake.script(cutOffMessage('RESULT: the first step is', 'refusal'));

    const r = await send('risky');
    expect(r.status).toBe(200);
    expect(r.body.errors).toEqual([
      {
        code: 'ANSWER_TRUNCATED',
        message:
          "impl-1's answer was cut off (stop_reason refusal: the model API's policy classifiers stopped it); what it held was routed as it stands",
        neuron: 'impl-1',
      },
    ]);
    expect(cachedOf(await send('risky'))).toBe(false);
  });

  it('takes a stop reason it does not know, or none, as not finished, and never reads it off Object', async () => {
    const { fake } = await start();
    for (const reason of ['constructor', 'a_future_reason']) {
      fake.script(
        cutOffMessage('RESULT: done, perhaps', reason),
        cutOffMessage('RESULT: done, perhaps', reason),
      );
      const r = await send(`unknown ${reason}`);
      expect(r.status).toBe(200);
      expect(r.body.errors).toEqual([
        {
          code: 'ANSWER_TRUNCATED',
          message: `impl-1's answer was cut off (stop_reason ${reason}: not a stop reason the runtime knows as finished (end_turn, stop_sequence)); what it held was routed as it stands`,
          neuron: 'impl-1',
        },
      ]);
      expect(cachedOf(await send(`unknown ${reason}`))).toBe(false);
    }
    // A Messages answer always says why it stopped: one that does not is not taken as finished.
    fake.script(cutOffMessage('RESULT: done, perhaps', null), cutOffMessage('RESULT: done, perhaps', null));
    const none = await send('no stop reason');
    expect(none.body.errors).toEqual([
      {
        code: 'ANSWER_TRUNCATED',
        message:
          "impl-1's answer was cut off (it gave no stop_reason, which a finished Messages answer always gives); what it held was routed as it stands",
        neuron: 'impl-1',
      },
    ]);
    expect(cachedOf(await send('no stop reason'))).toBe(false);
    // A stop sequence finishes an answer: cached, no error.
    fake.script(cutOffMessage('RESULT: done', 'stop_sequence'));
    expect((await send('stopped')).body.errors).toEqual([]);
    expect(cachedOf(await send('stopped'))).toBe(true);
  });

  it('keys on content and neuron (system prompt), and only caches the configured layers', async () => {
    const { fake, rt } = await start({}, [
      neuron('design-1', 'L3', ['impl-1']),
      neuron('impl-1', 'L2', [], { system_prompt: 'Prompt one.' }),
      neuron('impl-2', 'L2', [], { system_prompt: 'Prompt two.' }),
    ]);

    expect(cachedOf(await send('alpha', 'impl-1'))).toBe(false);
    expect(cachedOf(await send('beta', 'impl-1'))).toBe(false);
    expect(cachedOf(await send('alpha', 'impl-2'))).toBe(false);
    expect(cachedOf(await send('alpha', 'impl-1'))).toBe(true);
    expect(fake.requests.map((r) => [promptOf(r).system, promptOf(r).user])).toEqual([
      ['Prompt one.', 'alpha'],
      ['Prompt one.', 'beta'],
      ['Prompt two.', 'alpha'],
    ]);

    // L3 is not in cache_layers: the same signal twice is two upstream calls and no lookups.
    fake.respond(message('RESULT: from design'));
    expect(cachedOf(await send('gamma', 'design-1'))).toBe(false);
    expect(cachedOf(await send('gamma', 'design-1'))).toBe(false);
    expect(fake.requests).toHaveLength(5);
    expect(await rt.metric('hal9_cache_requests_total', { neuron: 'design-1' })).toBe(0);
  });

  it('derives distinct keys from each of neuron, model, system prompt and content', () => {
    const base = { neuron: 'impl-1', model: 'm', systemPrompt: 'p', content: 'c' };
    const keyOf = (p: typeof base) => cacheKey(cacheScope(p.neuron, p.model, p.systemPrompt), p.content);
    const long = 'x'.repeat(INLINE_KEY_MAX + 1);
    const keys = [
      base,
      { ...base, neuron: 'impl-2' },
      { ...base, model: 'm2' },
      { ...base, systemPrompt: 'p2' },
      { ...base, content: 'c2' },
      // Field boundaries matter: moving text from one part to the next is a different key.
      { ...base, systemPrompt: 'pc', content: '' },
      { ...base, neuron: 'impl-1\0m', model: 'p' },
      // Long contents are hashed: still distinct, and the key stays small.
      { ...base, content: long },
      { ...base, content: `${long}y` },
      { ...base, content: 'x'.repeat(INLINE_KEY_MAX) },
    ].map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keyOf({ ...base })).toBe(keys[0]);
    expect(keyOf({ ...base, content: long })).toBe(keys[7]);
    expect(keys[7]!.length).toBeLessThan(100);
    expect(keyOf({ ...base, content: 'x'.repeat(10_000_000) }).length).toBeLessThan(100);
  });
});
