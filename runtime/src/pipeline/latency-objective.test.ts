import { describe, expect, it } from 'vitest';
import type { Completion, ModelBackend } from '../claude/backend.ts';
import { parseConfig } from '../config/parse.ts';
import { Hal9Error } from '../errors.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { Engine } from './engine.ts';
import { silentObserver } from './observer.ts';

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

function engine(performance: Record<string, unknown>, retry = { max_retries: 2 }) {
  const clock = new ManualClock();
  const { backend, calls } = scriptedBackend();
  const shed: string[] = [];
  const e = new Engine({
    config: parseConfig({
      neurons: [{ id: 'impl', layer: 'L2' }],
      performance: { cache_layers: [], ...performance },
      claude: { retry },
    }),
    backend,
    observer: { ...silentObserver(), shed: (n) => shed.push(n.id) },
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
  it('refuses a signal that waited past the objective when its turn comes, and serves the next one', async () => {
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
