import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { openRun } from '../testing/open-run.ts';
import { budgetLeft, modelCallRefusal } from './budget.ts';
import { Deadlines } from './deadlines.ts';
import { MAX_RECORDED_EVENTS, RequestRun, type RunEvent } from './request-run.ts';
import { traceEntry } from './trace-entry.ts';

/** The one signal of the runs here (a run is open while a signal of it is). */
const ONLY = signalTo('impl');

const newRun = () => openRun(new ManualClock(), ONLY);
const emit = (run: RequestRun, n: number) =>
  run.progress(
    {
      results: Array.from({ length: n }, (_, i) => ({ neuron: 'w', layer: 'L2' as const, content: `r${i}` })),
    },
    ONLY,
  );
const ids = (run: RequestRun, afterId: number) => {
  const seen: number[] = [];
  const unsubscribe = run.subscribe((e: RunEvent) => seen.push(e.id), afterId);
  unsubscribe?.();
  return unsubscribe === undefined ? undefined : seen;
};

describe('RequestRun deadline', () => {
  it('ends at its deadline naming what set it: the configured limit unless told otherwise', () => {
    const clock = new ManualClock();
    const deadlines = new Deadlines(clock);
    const run = (deadlineField?: string) =>
      new RequestRun({
        id: 'r',
        traceId: 'a'.repeat(32),
        entry: 'lead',
        timeoutMs: 250,
        clock,
        deadlines,
        onEnd: () => {},
        ...(deadlineField ? { deadlineField } : {}),
      });
    const configured = run();
    const forwarded = run('deadlineMs');
    configured.open(ONLY);
    forwarded.open(ONLY);
    clock.advance(250);
    expect([configured.status, configured.errors]).toEqual([
      'timed_out',
      [
        {
          code: 'REQUEST_TIMEOUT',
          field: 'performance.request_timeout_ms',
          message: 'the request did not finish within its deadline (performance.request_timeout_ms, 250 ms)',
        },
      ],
    ]);
    expect(forwarded.errors[0]).toMatchObject({
      field: 'deadlineMs',
      message: expect.stringContaining('(deadlineMs, 250 ms)'),
    });
  });
});

describe('RequestRun cut off', () => {
  it('gives each signal still in flight a trace entry, except one a peer already reported', () => {
    const clock = new ManualClock();
    const cut: string[] = [];
    const run = new RequestRun({
      id: 'r',
      traceId: 'a'.repeat(32),
      entry: 'lead',
      timeoutMs: 100,
      clock,
      deadlines: new Deadlines(clock),
      onEnd: () => {},
      cutOff: (s, error, durationMs) => {
        cut.push(s.id);
        return traceEntry(s, neuronConfig(s.to), false, durationMs, [], [], error);
      },
    });
    const queued = signalTo('impl', { id: 'queued' });
    const atPeer = signalTo('design', { id: 'at-peer' });
    run.open(queued);
    clock.advance(40);
    run.open(atPeer);
    // The peer streamed its entry for at-peer; its own children are the peer's to report.
    run.progress({ trace: [traceEntry(atPeer, neuronConfig('design'), false, 5, ['impl'], [])] }, atPeer);
    clock.advance(60);
    expect(run.status).toBe('timed_out');
    expect(cut).toEqual(['queued']);
    expect(run.trace.map((t) => [t.signal, t.error?.code, t.durationMs])).toEqual([
      ['at-peer', undefined, 5],
      ['queued', 'REQUEST_TIMEOUT', 100],
    ]);
    expect(run.trace[1]?.error).toMatchObject({ neuron: 'impl', field: 'performance.request_timeout_ms' });
  });
});

describe('RequestRun events (Last-Event-ID resumption)', () => {
  it('keeps the latest 10,000 events of a longer request: a recent id resumes, an older one is expired', () => {
    const run = newRun();
    emit(run, MAX_RECORDED_EVENTS + 50);
    run.close(ONLY);
    const last = run.lastEventId;
    expect(last).toBe(MAX_RECORDED_EVENTS + 51);
    // A reader a few events behind gets just those, the end included.
    expect(ids(run, last - 3)).toEqual([last - 2, last - 1, last]);
    // The oldest kept event is 52: resuming after 51 replays all 10,000 kept.
    expect(ids(run, 51)).toHaveLength(MAX_RECORDED_EVENTS);
    expect(run.event(52)?.id).toBe(52);
    expect(run.event(51)).toBeUndefined();
    // Before it: gone (EVENTS_EXPIRED for a stream).
    expect(ids(run, 50)).toBeUndefined();
    expect(ids(run, 0)).toBeUndefined();
  });

  it('replays every event of a request under the limit', () => {
    const run = newRun();
    emit(run, 5);
    expect(ids(run, 0)).toEqual([1, 2, 3, 4, 5]);
    expect(ids(run, 5)).toEqual([]);
  });
});

describe('RequestRun totals', () => {
  it('sums the calls’ costs as a decimal, as a caller adding up the trace entries gets it', () => {
    const run = newRun();
    const usage = { input: 1, output: 1, cacheRead: 0, cacheCreation: 0 };
    run.charge(usage, 0.0001);
    run.charge(usage, 0.0002);
    // A float sum would be 0.00030000000000000003.
    expect(run.view().costUsd).toBe(0.0003);
  });
});

describe('RequestRun spending across pods', () => {
  it('counts what a peer pod’s model calls spent, so the request’s next calls here are held to what is left', () => {
    const run = newRun();
    const peerSignal = signalTo('design');
    run.open(peerSignal);
    const b = { ...DEFAULT_CONFIG.performance.request_budget, max_tokens: 5000, max_cost_usd: 0.05 };
    const paid = (costUsd?: number) => ({
      ...traceEntry(peerSignal, neuronConfig('design', 'L3'), false, 5, [], []),
      usage: { input: 1000, output: 1000, cacheRead: 500, cacheCreation: 0 },
      ...(costUsd === undefined ? {} : { costUsd }),
    });
    // A streamed entry, then the sub-tree's end with another.
    run.progress({ trace: [paid(0.02)] }, peerSignal);
    run.close(peerSignal, { trace: [paid(0.025)], results: [], errors: [] }, 'peer');
    expect(run.spent.tokens).toBe(5000);
    expect(run.spent.costUsd).toBeCloseTo(0.045, 12);
    expect(budgetLeft(run.spent, b)).toEqual({
      tokens: 0,
      costUsd: expect.closeTo(0.005, 12),
      modelCalls: 198,
      signals: 501,
    });
    expect(modelCallRefusal(run.spent, b, { tokens: 1, costUsd: 0 })?.message).toBe(
      "the request spent 5000 tokens, all of the request's 5000 tokens (performance.request_budget.max_tokens)",
    );
    // An entry without a cost counts its tokens; nothing is guessed for its cost.
    run.open(peerSignal);
    run.close(peerSignal, { trace: [paid()], results: [], errors: [] }, 'peer');
    expect(run.spent.tokens).toBe(7500);
    expect(run.spent.costUsd).toBeCloseTo(0.045, 12);
  });

  it('counts the signals and paid model calls of a peer pod’s sub-tree, but not the forwarded signal itself', () => {
    const run = newRun();
    const sent = signalTo('design', { id: 'sent' });
    run.open(sent);
    run.spent.signals = 2;
    run.spent.modelCalls = 1;
    const b = { ...DEFAULT_CONFIG.performance.request_budget, max_model_calls: 3, max_signals: 4 };
    const entry = (id: string, paid: boolean) => ({
      ...traceEntry(signalTo('impl', { id, parentId: 'sent' }), neuronConfig('impl'), !paid, 5, [], []),
      ...(paid ? { usage: { input: 10, output: 10, cacheRead: 0, cacheCreation: 0 } } : {}),
    });
    run.progress({ trace: [{ ...entry('sent', true), signal: 'sent' }] }, sent);
    expect(run.spent).toMatchObject({ signals: 2, modelCalls: 2 });
    run.close(sent, { trace: [entry('c1', true), entry('c2', false)], results: [], errors: [] }, 'peer');
    expect(run.spent).toMatchObject({ signals: 4, modelCalls: 3 });
    expect(budgetLeft(run.spent, b, 2)).toMatchObject({ modelCalls: 0, signals: 2 });
    expect(modelCallRefusal(run.spent, b)?.message).toBe(
      "the request made 3 model calls, all of the request's 3 model calls (performance.request_budget.max_model_calls)",
    );
  });
});
