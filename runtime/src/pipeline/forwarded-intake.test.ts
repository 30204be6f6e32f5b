import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { Config } from '../config/types.ts';
import { Hal9Error } from '../errors.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing, type SpanRef } from '../tracing/tracing.ts';
import { ForwardedIntake } from './forwarded-intake.ts';
import type { RequestRun } from './request-run.ts';
import { RunRegistry } from './run-registry.ts';
import type { ForwardedSignal, Signal, TraceContext } from './signal.ts';
import { traceEntry } from './trace-entry.ts';

// The intake alone: signals that pass its checks land in a list instead of the engine's pipeline, and
// each test ends their sub-runs by hand.

const impl = neuronConfig('impl');
const remote = neuronConfig('far', 'L2', [], { endpoint: 'http://far:8080' });
const TRACE = 'b'.repeat(32);

function setup(o: { config?: Config; admit?: (n: number) => void } = {}) {
  const clock = new ManualClock();
  const runs = new RunRegistry(clock);
  const arrived: { run: RequestRun; parent: SpanRef; signal: Signal }[] = [];
  const neurons = new Map([
    ['impl', impl],
    ['far', remote],
  ]);
  const intake = new ForwardedIntake({
    config: o.config ?? DEFAULT_CONFIG,
    neurons,
    runs,
    tracing: noTracing(),
    admit: o.admit ?? (() => {}),
    hold: (run, bytes) => {
      run.heldContentBytes = bytes;
    },
    arrive: (run, parent, signal) => arrived.push({ run, parent, signal }),
    cutOff: (s, error, durationMs) => traceEntry(s, neurons.get(s.to)!, false, durationMs, [], [], error),
  });
  /** Ends an arrived signal's sub-run with one result. */
  const answer = (i: number) => {
    const a = arrived[i]!;
    a.run.close(a.signal, { results: [{ neuron: 'impl', layer: 'L2', content: `ok${i}` }] });
  };
  return { clock, intake, arrived, answer, runs };
}

const sent = (id: string, extra: Partial<ForwardedSignal> = {}): ForwardedSignal =>
  signalTo('impl', { id, requestId: 'req', traceId: TRACE, hop: 1, path: ['lead'], ...extra });

describe('ForwardedIntake', () => {
  it('refuses a batch for a neuron not hosted here before admitting it', () => {
    const admitted: number[] = [];
    const { intake } = setup({ admit: (n) => admitted.push(n) });
    for (const id of ['nope', 'far'])
      expect(() => intake.run(id, [sent('s1')], 1000)).toThrow(
        expect.objectContaining({ code: 'UNKNOWN_NEURON', details: { field: 'id' } }),
      );
    expect(admitted).toEqual([]);
  });

  it('admits the whole batch at once and passes its refusal on', () => {
    const { intake, arrived } = setup({
      admit: (n) => {
        throw new Hal9Error('QUEUE_FULL', `${n} signals`);
      },
    });
    expect(() => intake.run('impl', [sent('s1'), sent('s2')], 1000)).toThrow('2 signals');
    expect(arrived).toEqual([]);
  });

  it('runs each signal as a sub-run of its request at the neuron, without the sender’s context or budget', async () => {
    const { intake, arrived, answer } = setup();
    const done = intake.run(
      'impl',
      [
        sent('s1', { traceparent: `00-${TRACE}-${'1'.repeat(16)}-01`, budgetLeft: { tokens: 5 } }),
        sent('s2'),
      ],
      1000,
    );
    expect(arrived.map((a) => a.signal)).toEqual([
      { ...sent('s1'), to: 'impl' },
      { ...sent('s2'), to: 'impl' },
    ]);
    expect(arrived.map((a) => [a.run.id, a.run.entry, a.run.spent.signals])).toEqual([
      ['req', 'impl', 2],
      ['req', 'impl', 2],
    ]);
    answer(1);
    answer(0);
    expect(await done).toEqual([
      { results: [{ neuron: 'impl', layer: 'L2', content: 'ok0' }], trace: [], errors: [] },
      { results: [{ neuron: 'impl', layer: 'L2', content: 'ok1' }], trace: [], errors: [] },
    ]);
  });

  it('shares one ledger per request until its last sub-run ends, held to the least its senders had left', () => {
    const { intake, arrived, answer } = setup();
    void intake.run('impl', [sent('s1', { budgetLeft: { tokens: 50, signals: 9 } })], 1000);
    void intake.run('impl', [sent('s2', { budgetLeft: { tokens: 80, signals: 4 } })], 1000);
    expect(intake.requests).toBe(1);
    expect(arrived[0]!.run.spent).toBe(arrived[1]!.run.spent);
    expect(arrived[0]!.run.spent.carried).toEqual({ tokens: 50, signals: 4 });
    answer(0);
    expect(intake.requests).toBe(1);
    answer(1);
    expect(intake.requests).toBe(0);
  });

  it('refuses a signal past the hop limit, in a cycle, or past what its request may still start, and runs the rest', async () => {
    const config: Config = {
      ...DEFAULT_CONFIG,
      performance: { ...DEFAULT_CONFIG.performance, hop_limit: 3 },
    };
    const { intake, arrived, answer } = setup({ config });
    const progress: unknown[] = [];
    const done = intake.run(
      'impl',
      [
        sent('deep', { hop: 3 }),
        sent('cycle', { path: ['impl'] }),
        sent('ok', { budgetLeft: { tokens: 10, signals: 1 } }),
        sent('over'),
      ],
      1000,
      { onProgress: (i, p) => progress.push([i, p.trace?.error?.code ?? p.result?.content]) },
    );
    expect(arrived.map((a) => a.signal.id)).toEqual(['ok']);
    answer(0);
    const outcomes = await done;
    expect(outcomes.map((o) => o.errors.map((e) => e.code))).toEqual([
      ['HOP_LIMIT_EXCEEDED'],
      ['CYCLE_DETECTED'],
      [],
      ['BUDGET_EXCEEDED'],
    ]);
    expect(outcomes[0]!.trace).toEqual([
      expect.objectContaining({ signal: 'deep', neuron: 'impl', error: expect.anything() }),
    ]);
    expect(progress).toEqual([
      [0, 'HOP_LIMIT_EXCEEDED'],
      [1, 'CYCLE_DETECTED'],
      [3, 'BUDGET_EXCEEDED'],
      [2, 'ok0'],
    ]);
  });

  it('holds a sub-run to the sender’s deadline, never past its own request_timeout_ms', () => {
    const { intake, arrived, clock } = setup();
    void intake.run('impl', [sent('short')], 500);
    void intake.run(
      'impl',
      [sent('long', { requestId: 'other' })],
      10 * DEFAULT_CONFIG.performance.request_timeout_ms,
    );
    clock.advance(500);
    expect(arrived[0]!.run.view().errors).toEqual([
      expect.objectContaining({ code: 'REQUEST_TIMEOUT', field: 'deadlineMs' }),
    ]);
    expect(arrived[1]!.run.running).toBe(true);
    clock.advance(DEFAULT_CONFIG.performance.request_timeout_ms - 500);
    expect(arrived[1]!.run.view().errors).toEqual([
      expect.objectContaining({ code: 'REQUEST_TIMEOUT', field: 'performance.request_timeout_ms' }),
    ]);
  });

  it('opens one parent span per distinct trace context', () => {
    const { intake, arrived } = setup();
    const served: TraceContext[] = [];
    const headers = { traceparent: `00-${TRACE}-${'2'.repeat(16)}-01` };
    void intake.run(
      'impl',
      [sent('a'), sent('b'), sent('c', { traceparent: `00-${TRACE}-${'3'.repeat(16)}-01` })],
      1000,
      {
        headers,
        serve: (caller) => {
          served.push(caller);
          return noTracing().remote(caller);
        },
      },
    );
    expect(served).toEqual([headers, { traceparent: `00-${TRACE}-${'3'.repeat(16)}-01` }]);
    expect(arrived[0]!.parent).toBe(arrived[1]!.parent);
    expect(arrived[2]!.parent).not.toBe(arrived[0]!.parent);
  });

  it('ends every sub-run of the batch with the cancel’s reason, or one alone through `started`', () => {
    const { intake, arrived } = setup();
    const cancel = new AbortController();
    const stops = new Map<string, (cause: Hal9Error) => boolean>();
    void intake.run(
      'impl',
      [sent('a'), sent('b', { requestId: 'r2' }), sent('c', { requestId: 'r3' })],
      1000,
      {
        cancel: cancel.signal,
        started: (id, stop) => stops.set(id, stop),
      },
    );
    expect([...stops.keys()]).toEqual(['a', 'b', 'c']);
    expect(stops.get('b')!(new Hal9Error('CLIENT_CLOSED', 'sender cancelled'))).toBe(true);
    expect(stops.get('b')!(new Hal9Error('CLIENT_CLOSED', 'again'))).toBe(false);
    expect(arrived.map((a) => a.run.running)).toEqual([true, false, true]);
    cancel.abort(new Hal9Error('CLIENT_CLOSED', 'sender left'));
    expect(arrived.map((a) => a.run.view().errors[0]?.message)).toEqual([
      'sender left',
      'sender cancelled',
      'sender left',
    ]);
  });
});
