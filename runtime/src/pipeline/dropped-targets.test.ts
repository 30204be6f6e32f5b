import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { metricsObserver } from '../metrics/metrics-observer.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { NeuronCounters } from './neuron-counters.ts';
import { type DropReason, silentObserver } from './observer.ts';
import { parseAnswer } from './protocol.ts';
import { type RouteInput, routeAnswer } from './route-answer.ts';
import { MAX_DROPPED_LISTED, planForwards } from './routing.ts';
import { RunRegistry } from './run-registry.ts';
import { SignalStep } from './signal-step.ts';

// An answer is the upstream's text: it may name a target of megabytes, or hundreds of thousands of
// targets. What the trace keeps of it is bounded, and counting them costs one metric update per reason.

const design = neuronConfig('design', 'L3', ['impl-a']);
const known = new Map([
  ['design', design],
  ['impl-a', neuronConfig('impl-a')],
]);
const names = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`).join(', ');

const plan = (text: string) =>
  planForwards({
    neuron: design,
    known,
    path: [],
    hop: 0,
    hopLimit: 16,
    maxFanout: 10,
    incoming: 'x',
    parsed: parseAnswer(text),
  });

function route(text: string, extra: Partial<RouteInput> = {}) {
  return routeAnswer({
    signal: signalTo('design', { id: 'parent', hop: 1, path: [] }),
    neuron: design,
    text,
    known,
    performance: DEFAULT_CONFIG.performance,
    spentSignals: 1,
    nextId: () => 'child',
    ...extra,
  });
}

describe('dropped targets of one answer', () => {
  it('lists the first MAX_DROPPED_LISTED of 900,000 names and counts the rest by reason', () => {
    const p = plan(`FORWARD_TO: impl-a, ${names(900_000)}`);
    expect(p.children.map((c) => c.target)).toEqual(['impl-a']);
    expect(p.dropped).toHaveLength(MAX_DROPPED_LISTED);
    expect(p.dropped[0]).toEqual({ target: 't0', reason: 'not_connected' });
    expect(p.unlisted).toEqual({ not_connected: 900_000 - MAX_DROPPED_LISTED });
  });

  it('still follows a connected target once and lists a repeated listed name once', () => {
    const p = plan('FORWARD_TO: nowhere, impl-a, nowhere, impl-a');
    expect(p.children.map((c) => c.target)).toEqual(['impl-a']);
    expect(p.dropped).toEqual([{ target: 'nowhere', reason: 'not_connected' }]);
    expect(p.unlisted).toBeUndefined();
  });

  it('quotes a 7 MiB name at a neuron id’s length, in the plan and in the branch’s error', () => {
    const r = route(`FORWARD_TO: ${'x'.repeat(7 * 1024 * 1024)}`);
    expect(r.dropped).toEqual([{ target: `${'x'.repeat(63)}…`, reason: 'not_connected' }]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message.length).toBeLessThan(200);
  });

  it('names ten in the error and counts every other one, listed or not', () => {
    const r = route(`FORWARD_TO: ${names(1000)}`);
    expect(r.errors[0]!.message).toMatch(/t9 \(not in its forward_connections\) and 990 more$/);
  });

  it('cuts the budget’s drops to the same list and counts the rest', () => {
    const wide = neuronConfig(
      'design',
      'L3',
      Array.from({ length: 150 }, (_, i) => `w${i}`),
    );
    const r = route(`FORWARD_TO: ${Array.from({ length: 150 }, (_, i) => `w${i}`).join(', ')}`, {
      neuron: wide,
      known: new Map(wide.forward_connections.map((w) => [w, neuronConfig(w)])),
      performance: {
        ...DEFAULT_CONFIG.performance,
        request_budget: { ...DEFAULT_CONFIG.performance.request_budget, max_fanout: 150, max_signals: 3 },
      },
    });
    expect(r.children).toHaveLength(2);
    expect(r.dropped).toHaveLength(MAX_DROPPED_LISTED);
    expect(r.dropped.every((d) => d.reason === 'budget')).toBe(true);
    expect(r.unlisted).toEqual({ budget: 148 - MAX_DROPPED_LISTED });
  });
});

describe('what the trace keeps of a large answer', () => {
  // Strings cut from an answer can keep the whole answer alive: measured on the heap after a full GC.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    return process.memoryUsage().heapUsed;
  };

  it('holds none of 16 answers of 4 MiB through a short result, a quoted target or BACKWARD_TO', () => {
    const kept: unknown[] = [];
    const before = heap();
    for (let i = 0; i < 16; i++) {
      const junk = `${i}`.padEnd(4 * 1024 * 1024, 'j');
      const r = route(
        `RESULT: a result of thirty characters ${i}\nFORWARD_TO: ${junk}\nBACKWARD_TO: ${junk}\nERROR_TYPE: ${junk}`,
      );
      kept.push(r.results, r.dropped, r.backward, r.errors);
    }
    const grew = heap() - before;
    expect(kept).toHaveLength(64);
    // With any of them a piece of its answer, 64 MiB or more stay alive.
    expect(grew).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('the dropped-signal metric', () => {
  it('is updated once per reason with the count, however many targets the answer named', async () => {
    const calls: [DropReason, number][] = [];
    const clock = new ManualClock();
    const tracing = noTracing();
    const step = new SignalStep({
      config: DEFAULT_CONFIG,
      neurons: known,
      answers: {
        parsed: () => undefined,
        answer: () =>
          Promise.resolve({
            value: { text: `FORWARD_TO: ${names(200_000)}`, model: 'm', retries: 0, fellBackFrom: [] },
            cached: false,
          }),
      },
      counters: new NeuronCounters(['design', 'impl-a']),
      observer: { ...silentObserver(), dropped: (_n, reason, count) => calls.push([reason, count]) },
      clock,
      tracing,
      nextSignalId: () => 'child',
      forward: () => {},
    });
    const run = new RunRegistry(clock).open({ id: 'r1', traceId: 't', entry: 'design', timeoutMs: 1000 });
    const signal = signalTo('design');
    run.open(signal);
    const parent = tracing.request({}, 'hal9.request', {});
    await step.run({ run, signal, arrivedAt: 0, parent, startedAt: 0, span: parent });
    expect(calls).toEqual([['not_connected', 200_000]]);
    expect(run.trace[0]!.dropped).toHaveLength(MAX_DROPPED_LISTED);
  });

  it('adds the count to hal9_signals_dropped_total', async () => {
    const registry = new Registry();
    const observer = metricsObserver(createMetrics(registry), [design]);
    observer.dropped(design, 'not_connected', 899_900);
    observer.dropped(design, 'fanout_limit', 1);
    const m = await registry.getSingleMetric('hal9_signals_dropped_total')!.get();
    // Every reason is exported from the start, at zero until counted.
    expect(Object.fromEntries(m.values.map((v) => [v.labels.reason, v.value]))).toEqual({
      not_connected: 899_900,
      hop_limit: 0,
      cycle: 0,
      fanout_limit: 1,
      budget: 0,
    });
  });
});
