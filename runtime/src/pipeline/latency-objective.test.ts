import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Completion, ModelBackend } from '../claude/backend.ts';
import { parseConfig } from '../config/parse.ts';
import { Hal9Error } from '../errors.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { metricsObserver } from '../metrics/metrics-observer.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { Engine } from './engine.ts';
import { type PipelineObserver, silentObserver } from './observer.ts';

// performance.latency_slo_ms: a signal that has certainly missed its objective is refused instead
// of started late — in the executor queue, and before a 429/529 retry. Time moves only by hand.

/** A model back-end whose calls wait until the test answers them, in order. */
function scriptedBackend() {
  const calls: { resolve: (c: Completion) => void; reject: (e: unknown) => void }[] = [];
  const backend: ModelBackend = {
    upstream: 'claude-api',
    model: 'claude-test-1',
    complete: () => new Promise<Completion>((resolve, reject) => calls.push({ resolve, reject })),
    close: async () => {},
  };
  return { backend, calls };
}

function engine(
  performance: Record<string, unknown>,
  retry = { max_retries: 2 },
  observer: PipelineObserver = silentObserver(),
) {
  const clock = new ManualClock();
  const { backend, calls } = scriptedBackend();
  const shed: string[] = [];
  const config = parseConfig({
    neurons: [{ id: 'impl', layer: 'L2' }],
    performance: { cache_layers: [], ...performance },
    claude: { retry },
  });
  const e = new Engine({
    config,
    backend,
    observer: {
      ...observer,
      shed: (n) => {
        shed.push(n.id);
        observer.shed(n);
      },
    },
    peers: { send: () => Promise.reject(new Error('no peers here')) },
    clock,
    random: () => 0,
    tracing: noTracing(),
  });
  return { e, clock, calls, shed };
}

const flush = () => new Promise((r) => setImmediate(r));
const rateLimited = (retryAfterMs: number) =>
  new Hal9Error('UPSTREAM_RATE_LIMITED', 'rate limited', { status: 429, retryAfterMs });

describe('latency objective: the executor queue', () => {
  it('refuses a signal that waited past the objective, and serves the next one', async () => {
    const { e, clock, calls, shed } = engine({ max_concurrent_signals: 1, latency_slo_ms: 100 });
    const first = e.submit({ content: 'a' });
    const late = e.submit({ content: 'b' });
    expect(calls).toHaveLength(1);
    clock.advance(150);
    calls[0]!.resolve({ text: 'RESULT: a' });
    const v = await late.done;
    expect(v.status).toBe('failed');
    expect(v.errors[0]).toMatchObject({ code: 'QUEUE_TIMEOUT', field: 'performance.latency_slo_ms' });
    expect(v.errors[0]!.message).toContain('100 ms latency objective');
    expect((await first.done).status).toBe('completed');
    expect(shed).toEqual(['impl']);
    // The refused signal never reached the model; a new one starts at once.
    const next = e.submit({ content: 'c' });
    await flush();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve({ text: 'RESULT: c' });
    expect((await next.done).status).toBe('completed');
  });

  it('refuses a waiting signal as its objective passes, while the slot ahead is still busy', async () => {
    const { e, clock, calls, shed } = engine({ max_concurrent_signals: 1, latency_slo_ms: 100 });
    const running = e.submit({ content: 'a' });
    const waiting = [e.submit({ content: 'b' })];
    clock.advance(60);
    waiting.push(e.submit({ content: 'c' }));
    let ended = 0;
    for (const w of waiting) void w.done.then(() => ended++);
    clock.advance(39);
    await flush();
    expect(ended).toBe(0);
    // b's objective passes: its caller learns now, not when a's call ends (here: never).
    clock.advance(1);
    await flush();
    expect(ended).toBe(1);
    expect((await waiting[0]!.done).errors[0]).toMatchObject({ code: 'QUEUE_TIMEOUT' });
    expect(e.occupancy.queued).toBe(1);
    // c's, 60 ms later.
    clock.advance(60);
    expect((await waiting[1]!.done).errors[0]!.message).toContain('waited 100 ms');
    expect(e.occupancy).toMatchObject({ active: 1, queued: 0 });
    expect(shed).toEqual(['impl', 'impl']);
    expect(calls).toHaveLength(1);
    calls[0]!.resolve({ text: 'RESULT: a' });
    expect((await running.done).status).toBe('completed');
  });

  it('starts a signal whose wait is still within the objective', async () => {
    const { e, clock, calls, shed } = engine({ max_concurrent_signals: 1, latency_slo_ms: 100 });
    e.submit({ content: 'a' });
    const waiting = e.submit({ content: 'b' });
    clock.advance(99);
    calls[0]!.resolve({ text: 'RESULT: a' });
    await flush();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve({ text: 'RESULT: b' });
    expect((await waiting.done).status).toBe('completed');
    expect(shed).toEqual([]);
  });

  it('without an objective (0, the default) a signal waits as long as its request may', async () => {
    const { e, clock, calls } = engine({ max_concurrent_signals: 1 });
    e.submit({ content: 'a' });
    const waiting = e.submit({ content: 'b' });
    clock.advance(10_000);
    calls[0]!.resolve({ text: 'RESULT: a' });
    await flush();
    calls[1]!.resolve({ text: 'RESULT: b' });
    expect((await waiting.done).status).toBe('completed');
  });
});

describe('latency objective: metrics', () => {
  it('counts a shed signal by outcome but never observes it as processing time, which starts in a slot', async () => {
    const registry = new Registry();
    const neurons = parseConfig({ neurons: [{ id: 'impl', layer: 'L2' }] }).neurons;
    const observer = metricsObserver(createMetrics(registry), neurons);
    const { e, clock, calls } = engine(
      { max_concurrent_signals: 1, latency_slo_ms: 100 },
      undefined,
      observer,
    );
    const served = e.submit({ content: 'a' });
    const late = [e.submit({ content: 'b' }), e.submit({ content: 'c' }), e.submit({ content: 'd' })];
    clock.advance(500);
    calls[0]!.resolve({ text: 'RESULT: a' });
    expect((await served.done).status).toBe('completed');
    for (const r of late) expect((await r.done).errors[0]?.code).toBe('QUEUE_TIMEOUT');
    /** The sum of the samples named `name` whose labels include `labels`. */
    const value = async (name: string, labels: Record<string, string> = {}) =>
      (await registry.getMetricsAsJSON())
        .flatMap((m) =>
          (m.values as { metricName?: string; labels: Record<string, string | number>; value: number }[]).map(
            (v) => ({ ...v, sample: v.metricName ?? m.name }),
          ),
        )
        .filter((v) => v.sample === name)
        .filter((v) => Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x))
        .reduce((sum, v) => sum + v.value, 0);
    // One signal held a slot (500 ms); the three shed ones add no 0 s sample under the SLO buckets.
    expect(await value('hal9_processing_time_count')).toBe(1);
    expect(await value('hal9_processing_time_bucket', { le: '0.001' })).toBe(0);
    expect(await value('hal9_processing_time_sum')).toBeCloseTo(0.5);
    expect(await value('hal9_signals_total', { outcome: 'ok' })).toBe(1);
    expect(await value('hal9_signals_total', { outcome: 'error' })).toBe(3);
    expect(await value('hal9_signals_shed_total')).toBe(3);
    // Their wait is what their callers saw: caller-visible latency keeps them.
    expect(await value('hal9_signal_latency_seconds_count')).toBe(4);
  });
});

describe('latency objective: retries', () => {
  it('does not start a retry after the objective: the 429 returns at once and frees the slot', async () => {
    const { e, calls } = engine({ max_concurrent_signals: 1, latency_slo_ms: 300 });
    const run = e.submit({ content: 'a' });
    calls[0]!.reject(rateLimited(400));
    const v = await run.done;
    expect(v.errors[0]?.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(calls).toHaveLength(1);
    await flush();
    expect(e.occupancy.active).toBe(0);
  });

  it('retries when the wait ends within the objective', async () => {
    const { e, clock, calls } = engine({ max_concurrent_signals: 1, latency_slo_ms: 1000 });
    const run = e.submit({ content: 'a' });
    calls[0]!.reject(rateLimited(400));
    await flush();
    clock.advance(400);
    await flush();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve({ text: 'RESULT: a' });
    expect((await run.done).status).toBe('completed');
  });
});
