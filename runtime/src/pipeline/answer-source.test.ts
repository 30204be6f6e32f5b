import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { Config, NeuronConfig } from '../config/types.ts';
import { neuronConfig } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { AnswerSource } from './answer-source.ts';
import { Deadlines } from './deadlines.ts';
import type { CallContext, ModelAnswer } from './model-call.ts';
import { silentObserver } from './observer.ts';
import { RequestRun } from './request-run.ts';

const l2 = neuronConfig('impl', 'L2', ['design', 'elsewhere']);
const l3 = neuronConfig('design', 'L3');

function setup(performance: Partial<Config['performance']> = {}) {
  const clock = new ManualClock();
  const config: Config = {
    ...DEFAULT_CONFIG,
    neurons: [l2, l3],
    performance: { ...DEFAULT_CONFIG.performance, cache_layers: ['L2'], ...performance },
    claude: {
      ...DEFAULT_CONFIG.claude,
      prices: { m1: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 } },
    },
  };
  const calls: { neuron: string; content: string; ctx: CallContext }[] = [];
  const pending: ((a: ModelAnswer) => void)[] = [];
  const charged: number[] = [];
  const source = new AnswerSource({
    config,
    model: 'm1',
    observer: { ...silentObserver(), charged: (_n, _m, _u, cost) => charged.push(cost ?? -1) },
    known: new Map(config.neurons.map((n) => [n.id, n])),
    clock: new ManualClock(),
    modelCall: (neuron: NeuronConfig, content: string, ctx: CallContext) => {
      calls.push({ neuron: neuron.id, content, ctx });
      return new Promise<ModelAnswer>((resolve) => pending.push(resolve));
    },
  });
  const run = (timeoutMs = 30_000) =>
    new RequestRun({
      id: 'r',
      traceId: 't',
      entry: 'impl',
      timeoutMs,
      clock,
      deadlines: new Deadlines(clock),
      onEnd: () => {},
    });
  const span = noTracing().request({}, 'test', {});
  const answer = (a: Partial<ModelAnswer> = {}): ModelAnswer => ({
    text: 'RESULT: done',
    model: 'm1',
    retries: 0,
    fellBackFrom: [],
    ...a,
  });
  return { clock, source, calls, pending, charged, run, span, answer };
}

describe('AnswerSource', () => {
  it('shares one model call between concurrent misses of a cached layer, and serves the next from the cache', async () => {
    const t = setup();
    const r = t.run();
    const first = t.source.answer(l2, 'same', r, t.span, 0);
    const second = t.source.answer(l2, 'same', r, t.span, 0);
    expect(t.calls).toHaveLength(1);
    t.pending[0]!(t.answer());
    expect((await first).cached).toBe(false);
    expect((await second).value.text).toBe('RESULT: done');
    const third = await t.source.answer(l2, 'same', r, t.span, 0);
    expect(third).toMatchObject({ cached: true });
    expect(t.calls).toHaveLength(1);
    expect(t.source.caches('L2')).toBe(true);
    expect(t.source.caches('L3')).toBe(false);
  });

  it('calls the model every time for a layer that is not cached', async () => {
    const t = setup();
    const r = t.run();
    const a = t.source.answer(l3, 'same', r, t.span, 0);
    const b = t.source.answer(l3, 'same', r, t.span, 0);
    expect(t.calls.map((c) => c.neuron)).toEqual(['design', 'design']);
    for (const resolve of t.pending) resolve(t.answer());
    expect((await a).cached).toBe(false);
    expect((await b).cached).toBe(false);
  });

  it('charges tokens and cost to the run and attaches the cost to the answer', async () => {
    const t = setup();
    const r = t.run();
    const p = t.source.answer(l3, 'x', r, t.span, 0);
    t.pending[0]!(t.answer({ usage: { input: 1_000_000, output: 0, cacheRead: 0, cacheCreation: 0 } }));
    const { value } = await p;
    expect(value.costUsd).toBe(3);
    expect(r.spent).toMatchObject({ modelCalls: 1, tokens: 1_000_000, costUsd: 3 });
    expect(t.charged).toEqual([3]);
  });

  it('refuses a call past the run’s model-call budget without calling the model', async () => {
    const t = setup({ request_budget: { ...DEFAULT_CONFIG.performance.request_budget, max_model_calls: 1 } });
    const r = t.run();
    r.spent.modelCalls = 1;
    await expect(t.source.answer(l3, 'x', r, t.span, 0)).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(t.calls).toEqual([]);
  });

  it('gives the model call the earlier of the run’s deadline and the signal’s latency objective', () => {
    const t = setup({ latency_slo_ms: 200 });
    const r = t.run(30_000);
    t.source.answer(l3, 'x', r, t.span, 50);
    expect(t.calls[0]!.ctx.deadline).toBe(250);
    const slow = setup({ latency_slo_ms: 0 });
    const r2 = slow.run(1_000);
    slow.source.answer(l3, 'x', r2, slow.span, 50);
    expect(slow.calls[0]!.ctx.deadline).toBe(r2.deadline);
  });

  it('a lookup after every caller of a shared call gave up starts a new call, not the cancelled one', async () => {
    const t = setup();
    const early = t.run(100);
    const first = t.source.answer(l2, 'same', early, t.span, 0);
    t.clock.advance(100);
    await expect(first).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT' });
    expect(t.calls[0]!.ctx.signal.aborted).toBe(true);
    const later = t.run();
    const second = t.source.answer(l2, 'same', later, t.span, 0);
    expect(t.calls).toHaveLength(2);
    t.pending[1]!(t.answer());
    expect(await second).toMatchObject({ cached: false, value: { text: 'RESULT: done' } });
  });

  it('a shared call may retry until the latest deadline of the callers waiting on it', () => {
    const t = setup({ latency_slo_ms: 0 });
    const short = t.run(1_000);
    const long = t.run(20_000);
    void t.source.answer(l2, 'same', short, t.span, 0).catch(() => {});
    expect(t.calls[0]!.ctx.deadline).toBe(1_000);
    void t.source.answer(l2, 'same', long, t.span, 0);
    expect(t.calls).toHaveLength(1);
    expect(t.calls[0]!.ctx.deadline).toBe(20_000);
    // A caller with an earlier deadline joining does not shorten it.
    void t.source.answer(l2, 'same', t.run(5_000), t.span, 0);
    expect(t.calls[0]!.ctx.deadline).toBe(20_000);
  });

  it('one run’s spent budget refuses only that run: another run looking up the same content calls the model', async () => {
    const t = setup({ request_budget: { ...DEFAULT_CONFIG.performance.request_budget, max_model_calls: 1 } });
    const spent = t.run();
    spent.spent.modelCalls = 1;
    const fresh = t.run();
    const refused = t.source.answer(l2, 'same', spent, t.span, 0);
    const served = t.source.answer(l2, 'same', fresh, t.span, 0);
    await expect(refused).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(t.calls).toHaveLength(1);
    t.pending[0]!(t.answer());
    expect(await served).toMatchObject({ cached: false, value: { text: 'RESULT: done' } });
    expect(fresh.spent.modelCalls).toBe(1);
  });

  it('shares a fallback model’s answer with the callers waiting on it, but does not cache it', async () => {
    const t = setup();
    const r = t.run();
    const first = t.source.answer(l2, 'same', r, t.span, 0);
    const joined = t.source.answer(l2, 'same', r, t.span, 0);
    t.pending[0]!(t.answer({ model: 'fb', fellBackFrom: ['m1'] }));
    expect((await first).value.model).toBe('fb');
    expect(await joined).toMatchObject({ cached: true, value: { model: 'fb' } });
    const next = t.source.answer(l2, 'same', r, t.span, 0);
    expect(t.calls).toHaveLength(2);
    t.pending[1]!(t.answer());
    expect(await next).toMatchObject({ cached: false, value: { model: 'm1' } });
  });

  it('does not cache an answer that routes nowhere; caches one that forwards to a neuron it may reach', async () => {
    const t = setup();
    const r = t.run();
    // Each would fail its signal (UNROUTABLE_ANSWER, or every target dropped), on every hit.
    const nowhere = [
      'BACKWARD_TO: top\nERROR_TYPE: X',
      'FORWARD_TO:\nCONTENT: c',
      'FORWARD_TO: nonexistent',
      'FORWARD_TO: elsewhere', // in forward_connections, but no runtime hosts it
    ];
    for (const [i, text] of nowhere.entries()) {
      for (const round of [0, 1]) {
        const a = t.source.answer(l2, `c${i}`, r, t.span, 0);
        expect(t.calls, `${text}, round ${round}`).toHaveLength(2 * i + round + 1);
        t.pending[2 * i + round]!(t.answer({ text }));
        expect(await a, text).toMatchObject({ cached: false });
      }
    }
    const forwards = t.source.answer(l2, 'f', r, t.span, 0);
    t.pending[t.calls.length - 1]!(t.answer({ text: 'FORWARD_TO: design\nCONTENT: go on' }));
    expect(await forwards).toMatchObject({ cached: false });
    expect(await t.source.answer(l2, 'f', r, t.span, 0)).toMatchObject({ cached: true });
  });

  it('hands routing the parse it stored an answer by, once, and keeps none beside the cached answer', async () => {
    const t = setup();
    const r = t.run();
    const a = t.source.answer(l2, 'p', r, t.span, 0);
    t.pending[0]!(t.answer({ text: 'RESULT: one\nFORWARD_TO: design' }));
    const { value } = await a;
    expect(t.source.parsed(value)).toMatchObject({ results: ['one'], forwards: [{ targets: ['design'] }] });
    expect(t.source.parsed(value)).toBeUndefined();
    // Not a cached layer: nothing was parsed here.
    const b = t.source.answer(l3, 'q', r, t.span, 0);
    t.pending[1]!(t.answer());
    expect(t.source.parsed((await b).value)).toBeUndefined();
  });
});
