import { describe, expect, it } from 'vitest';
import type { Completion, ModelBackend } from '../claude/backend.ts';
import { Hal9Error } from '../errors.ts';
import { neuronConfig } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { UpstreamBreaker } from './breaker.ts';
import { breakers, type CallContext, createModelCall, retryDelayMs } from './model-call.ts';
import { type PipelineObserver, silentObserver } from './observer.ts';
import { Semaphore } from './semaphore.ts';

// The model-call chain (limit → fallback → retry → breaker → instrumentation → back-end) on a manual
// clock: retry waits are advanced, never slept. The back-end is scripted per model.

/** An answer, a failure at once, or a failure after `afterMs` of the manual clock. */
type Step = Completion | Hal9Error | { readonly error: Hal9Error; readonly afterMs: number };
const overloaded = () => new Hal9Error('UPSTREAM_OVERLOADED', 'busy', { status: 529 });
const limited = (retryAfterMs?: number) =>
  new Hal9Error('UPSTREAM_RATE_LIMITED', 'slow down', {
    status: 429,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

function setup(
  script: Record<string, Step[]>,
  o: { maxRetries?: number; fallbacks?: string[]; permits?: number } = {},
) {
  const clock = new ManualClock();
  const calls: string[] = [];
  const seen: { upstream: string; status: string; ms: number }[] = [];
  const retried: string[] = [];
  const fellBack: string[] = [];
  const permits = new Semaphore(o.permits ?? 4);
  const heldDuringCall: number[] = [];
  const backend: ModelBackend = {
    upstream: 'claude-api',
    model: 'm1',
    complete(_n, _c, _s, model = 'm1') {
      calls.push(model);
      heldDuringCall.push(permits.held);
      const step = script[model]?.shift() ?? { text: 'RESULT: default' };
      if ('afterMs' in step)
        return new Promise((_ok, no) => clock.setTimeout(() => no(step.error), step.afterMs));
      return step instanceof Hal9Error ? Promise.reject(step) : Promise.resolve(step);
    },
    close: async () => {},
  };
  const observer: PipelineObserver = {
    ...silentObserver(),
    upstream: (upstream, status, ms) => seen.push({ upstream, status, ms }),
    retried: (upstream, status) => retried.push(`${upstream} ${status}`),
    fallback: (_n, from, to) => fellBack.push(`${from}→${to}`),
  };
  const upstreamFor = (m: string) => (m === 'm1' ? 'claude-api' : `claude-api:${m}`);
  const breakerOptions = { failureThreshold: 2, successThreshold: 1, openMs: 30_000, windowMs: 60_000 };
  const all = breakers(upstreamFor, (u) => new UpstreamBreaker(u, breakerOptions, clock, () => {}));
  const call = createModelCall({
    backend,
    permits,
    breakerFor: all.get,
    upstreamFor,
    models: () => ['m1', ...(o.fallbacks ?? [])],
    retry: { maxRetries: o.maxRetries ?? 2, baseDelayMs: 100, maxDelayMs: 1000 },
    random: () => 1,
    observer,
    clock,
    tracing: noTracing(),
    provider: 'anthropic',
    maxTokens: 64,
  });
  const ctx = (deadline = 60_000, signal = new AbortController().signal): CallContext => ({
    signal,
    span: noTracing().request({}, 'test', {}),
    deadline,
  });
  const neuron = neuronConfig('impl-1');
  /** Runs a call to its end, advancing the clock through each retry wait. */
  const run = async (deadline?: number, signal?: AbortSignal) => {
    let settled = false;
    const p = call(neuron, 'build it', ctx(deadline, signal)).finally(() => {
      settled = true;
    });
    p.catch(() => {});
    for (let i = 0; i < 50 && !settled; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(1000);
    }
    return p;
  };
  return { run, calls, seen, retried, fellBack, permits, heldDuringCall, breaker: all.get };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: Hal9Error) => e,
  );

describe('the model-call chain', () => {
  it('answers with the first model, counted once as 200 and holding one permit while it runs', async () => {
    const t = setup({ m1: [{ text: 'RESULT: a' }] });

    const a = await t.run();

    expect(a).toMatchObject({ text: 'RESULT: a', model: 'm1', retries: 0, fellBackFrom: [] });
    expect(t.seen).toEqual([{ upstream: 'claude-api', status: '200', ms: 0 }]);
    expect(t.heldDuringCall).toEqual([1]);
    expect(t.permits.held).toBe(0);
  });

  it('retries a 429 after its retry-after and counts the retry', async () => {
    const t = setup({ m1: [limited(500), limited(), { text: 'RESULT: b' }] });

    const a = await t.run();

    expect(a).toMatchObject({ text: 'RESULT: b', model: 'm1', retries: 2 });
    expect(t.calls).toEqual(['m1', 'm1', 'm1']);
    expect(t.retried).toEqual(['claude-api 429', 'claude-api 429']);
    expect(t.seen.map((s) => s.status)).toEqual(['429', '429', '200']);
    expect(t.permits.held).toBe(0);
  });

  it('counts no retry for a call its caller cancelled while it waited to retry', async () => {
    const t = setup({ m1: [limited(5_000), { text: 'never' }] });
    const caller = new AbortController();
    const p = failure(t.run(60_000, caller.signal));
    await new Promise((r) => setImmediate(r));
    caller.abort();
    await p;
    expect(t.calls).toEqual(['m1']);
    expect(t.retried).toEqual([]);
  });

  it('waits at least the retry-after, and spreads the calls one 429 refused together past it', () => {
    const policy = { maxRetries: 3, baseDelayMs: 200, maxDelayMs: 5_000 };
    const waits = [0, 0.5, 0.999].map((r) => retryDelayMs(policy, 1, 2_000, r));
    expect(Math.min(...waits)).toBe(2_000);
    expect(new Set(waits).size).toBe(3);
    expect(Math.max(...waits)).toBeLessThan(2_000 + 200);
    // Without a hint: half the exponential step fixed, half random.
    expect([0, 1].map((r) => retryDelayMs(policy, 1, undefined, r))).toEqual([200, 400]);
  });

  it('gives up when the next wait would pass the deadline, with the upstream error', async () => {
    const t = setup({ m1: [limited(5_000), { text: 'never' }] });

    const e = await failure(t.run(1_000));

    expect(e.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(t.calls).toEqual(['m1']);
    expect(t.permits.held).toBe(0);
  });

  it('gives up when the wait and an attempt as long as the last would pass the deadline', async () => {
    // Each 429 takes 1 s to come back; its retry-after is 500 ms. With 1.2 s left after the first,
    // the wait fits but another such attempt does not: no call is started just to be cut.
    const t = setup({ m1: [{ error: limited(500), afterMs: 1_000 }, { text: 'never' }] });
    const e = await failure(t.run(2_200));
    expect(e.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(t.calls).toEqual(['m1']);
    // With room for both, it retries.
    const roomy = setup({ m1: [{ error: limited(500), afterMs: 1_000 }, { text: 'RESULT: b' }] });
    expect(await roomy.run(3_000)).toMatchObject({ text: 'RESULT: b', retries: 1 });
  });

  it('falls back on 529 after the retries, counting retries over every model tried', async () => {
    const t = setup(
      { m1: [overloaded(), overloaded()], m2: [limited(), { text: 'RESULT: c' }] },
      {
        maxRetries: 1,
        fallbacks: ['m2'],
      },
    );

    const a = await t.run();

    expect(a).toMatchObject({ text: 'RESULT: c', model: 'm2', retries: 2, fellBackFrom: ['m1'] });
    expect(t.calls).toEqual(['m1', 'm1', 'm2', 'm2']);
    expect(t.fellBack).toEqual(['m1→m2']);
    expect(t.permits.held).toBe(0);
  });

  it('fails with the last model’s error once every model of the chain is overloaded, calling none twice over', async () => {
    const t = setup(
      { m1: [overloaded(), overloaded()], m2: [overloaded(), overloaded()] },
      { maxRetries: 1, fallbacks: ['m2'] },
    );
    const e = await failure(t.run());
    expect(e.code).toBe('UPSTREAM_OVERLOADED');
    // The scripted back-end answers any other call: a call past the chain's end would succeed.
    expect(t.calls).toEqual(['m1', 'm1', 'm2', 'm2']);
    expect(t.fellBack).toEqual(['m1→m2']);
    expect(t.permits.held).toBe(0);
  });

  it('neither retries nor falls back on an upstream error that is not push-back (a 500)', async () => {
    const t = setup(
      { m1: [new Hal9Error('UPSTREAM_ERROR', 'boom', { status: 500 })] },
      { maxRetries: 2, fallbacks: ['m2'] },
    );
    const e = await failure(t.run());
    expect(e.code).toBe('UPSTREAM_ERROR');
    expect(t.calls).toEqual(['m1']);
    expect(t.retried).toEqual([]);
    expect(t.fellBack).toEqual([]);
  });

  it('refuses at once while a model breaker is open, counted as breaker_open, and the fallback answers', async () => {
    const t = setup(
      { m1: [overloaded(), overloaded()], m2: [{ text: 'RESULT: d' }, { text: 'RESULT: e' }] },
      {
        maxRetries: 0,
        fallbacks: ['m2'],
      },
    );
    await t.run(); // m1 fails (1), m2 answers
    await t.run(); // m1 fails (2): its breaker opens; m2 answers
    expect(t.breaker('m1').state).toBe('open');
    t.calls.length = 0;
    t.seen.length = 0;

    const a = await t.run();

    expect(a).toMatchObject({ text: 'RESULT: default', model: 'm2', fellBackFrom: ['m1'] });
    expect(t.calls).toEqual(['m2']);
    expect(t.seen).toEqual([
      { upstream: 'claude-api', status: 'breaker_open', ms: 0 },
      { upstream: 'claude-api:m2', status: '200', ms: 0 },
    ]);
  });

  it('with one permit, a second call waits for the first and starts once it is released', async () => {
    const t = setup({}, { permits: 1 });

    const [a, b] = await Promise.all([t.run(), t.run()]);

    expect([a.text, b.text]).toEqual(['RESULT: default', 'RESULT: default']);
    expect(t.heldDuringCall).toEqual([1, 1]);
    expect(t.permits.held).toBe(0);
    expect(t.permits.waiting).toBe(0);
  });
});
