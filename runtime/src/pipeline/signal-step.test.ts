import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { Config, NeuronConfig } from '../config/types.ts';
import { Hal9Error } from '../errors.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { createLoadTracker } from './load-report.ts';
import type { ModelAnswer } from './model-call.ts';
import { NeuronCounters } from './neuron-counters.ts';
import { type PipelineObserver, type SignalFinish, silentObserver } from './observer.ts';
import type { CacheLookup } from './response-cache.ts';
import { RunRegistry } from './run-registry.ts';
import type { Signal } from './signal.ts';
import { SignalStep, type Work } from './signal-step.ts';

// The signal step alone: answers come from a script, time from a manual clock, children go to a list.

const design = neuronConfig('design', 'L3', ['impl']);
const impl = neuronConfig('impl');

function setup(
  answer: (n: NeuronConfig, content: string) => Promise<CacheLookup<ModelAnswer>>,
  o: { readonly config?: Config; readonly observer?: (clock: ManualClock) => PipelineObserver } = {},
) {
  const clock = new ManualClock();
  const counters = new NeuronCounters(['design', 'impl']);
  const forwarded: Signal[] = [];
  const asked: string[] = [];
  const tracing = noTracing();
  const step = new SignalStep({
    config: o.config ?? DEFAULT_CONFIG,
    neurons: new Map([
      ['design', design],
      ['impl', impl],
    ]),
    answers: {
      parsed: () => undefined,
      answer: (n, content) => {
        asked.push(n.id);
        return answer(n, content);
      },
    },
    counters,
    observer: o.observer?.(clock) ?? silentObserver(),
    clock,
    tracing,
    nextSignalId: () => `child${forwarded.length + 1}`,
    forward: (_run, _span, child) => forwarded.push(child),
  });
  const runs = new RunRegistry(clock);
  const work = (to: string): Work => {
    const run = runs.open({ id: 'r1', traceId: 't', entry: to, timeoutMs: 1000 });
    const signal = signalTo(to);
    run.open(signal);
    const parent = tracing.request({}, 'hal9.request', {});
    return { run, signal, arrivedAt: clock.now(), parent, startedAt: 0, span: parent };
  };
  return { step, counters, forwarded, asked, clock, work };
}

const said = (text: string): Promise<CacheLookup<ModelAnswer>> =>
  Promise.resolve({ value: { text, model: 'm', retries: 0, fellBackFrom: [] }, cached: false });

describe('SignalStep', () => {
  it('forwards the answer’s children and keeps the run open until they end', async () => {
    const { step, counters, forwarded, work, clock } = setup(() => {
      clock.advance(7);
      return said('FORWARD_TO: impl\nCONTENT: build');
    });
    const w = work('design');
    await step.run(w);
    expect(forwarded).toEqual([
      expect.objectContaining({ id: 'child1', to: 'impl', hop: 1, content: 'build' }),
    ]);
    expect(w.run.trace).toEqual([
      expect.objectContaining({ neuron: 'design', forwardedTo: ['impl'], durationMs: 7 }),
    ]);
    expect(w.run.status).toBe('running');
    expect(counters.of('design')).toMatchObject({ processed: 1, active: 0 });
  });

  it('ends the run with the neuron’s results when the answer forwards nowhere', async () => {
    const { step, work } = setup(() => said('RESULT: done'));
    const w = work('impl');
    await step.run(w);
    expect((await w.run.done).results).toEqual([{ neuron: 'impl', layer: 'L2', content: 'done' }]);
  });

  it('ends the run with the error when the answer fails, and frees the neuron’s slot count', async () => {
    const { step, counters, work } = setup(() =>
      Promise.reject(new Hal9Error('UPSTREAM_CONNECTION', 'the fake is down')),
    );
    const w = work('impl');
    await step.run(w);
    const v = await w.run.done;
    expect(v.status).toBe('failed');
    expect(v.errors).toEqual([expect.objectContaining({ code: 'UPSTREAM_CONNECTION', neuron: 'impl' })]);
    expect(counters.of('impl')).toMatchObject({ failed: 1, active: 0 });
  });

  it('counts a call cut off by its request’s deadline as cancelled, not failed', async () => {
    let w: Work | undefined;
    const { step, counters, clock, work } = setup(() => {
      // The request's deadline passes while the call is out; the call then fails with the abort.
      clock.advance(1000);
      expect(w!.run.status).toBe('timed_out');
      return Promise.reject(new Hal9Error('REQUEST_TIMEOUT', 'cancelled'));
    });
    w = work('impl');
    await step.run(w);
    expect(counters.of('impl')).toMatchObject({ failed: 0, cancelled: 1, active: 0 });
  });

  it('ends the run with the error when asking throws synchronously', async () => {
    const { step, work } = setup(() => {
      throw new Error('boom');
    });
    const w = work('impl');
    await step.run(w);
    expect((await w.run.done).status).toBe('failed');
  });

  it('does not ask for an answer once the signal’s run has ended', async () => {
    const { step, asked, work } = setup(() => said('RESULT: late'));
    const w = work('impl');
    w.run.timeOut();
    await step.run(w);
    expect(asked).toEqual([]);
  });

  it('finishes a signal shed past its latency objective without a slot: completed, not served', async () => {
    const config: Config = {
      ...DEFAULT_CONFIG,
      performance: { ...DEFAULT_CONFIG.performance, latency_slo_ms: 100 },
    };
    let load!: ReturnType<typeof createLoadTracker>;
    const { step, work, clock } = setup(
      () => {
        clock.advance(20);
        return said('RESULT: done');
      },
      {
        config,
        observer: (c) => {
          load = createLoadTracker(c, [impl]);
          return load;
        },
      },
    );
    const onTime = work('impl');
    load.arrived(impl);
    expect(step.missedObjective(onTime)).toBe(false);
    await step.run(onTime);
    const late = work('impl');
    load.arrived(impl);
    clock.advance(150);
    expect(step.missedObjective(late)).toBe(true);
    expect((await late.run.done).errors[0]?.code).toBe('QUEUE_TIMEOUT');
    const r = load.report();
    expect(r).toMatchObject({ arrived: 2, completed: 2, served: 1 });
    expect(r.neurons.impl).toMatchObject({ arrived: 2, completed: 2, served: 1 });
  });

  it('counts an answer that ends its branch with a routing error as an error, not ok', async () => {
    const finished: SignalFinish[] = [];
    const { step, work, counters } = setup(() => said(''), {
      observer: () => ({ ...silentObserver(), finished: (_n, f) => finished.push(f) }),
    });
    const w = work('impl');
    await step.run(w);
    const v = await w.run.done;
    expect(v.status).toBe('failed');
    expect(v.errors).toEqual([expect.objectContaining({ code: 'UNROUTABLE_ANSWER' })]);
    expect(v.trace).toEqual([expect.objectContaining({ error: v.errors[0], errors: v.errors })]);
    // It held a slot and has an answer's latency: observed as processing, under outcome error.
    expect(finished).toEqual([expect.objectContaining({ outcome: 'error', processingMs: 0 })]);
    // GET /v1/neurons says the same: failed, not processed, and the slot is free.
    expect(counters.of('impl')).toEqual({ processed: 0, failed: 1, cancelled: 0, cacheHits: 0, active: 0 });
  });

  it('counts an answer with results and a routing error of its own (a partial branch) as ok', async () => {
    // More results than one answer may give: the first ones are kept, and the rest is an error.
    const manyResults = Array.from({ length: 101 }, (_, i) => `RESULT: r${i}`).join('\n');
    const finished: SignalFinish[] = [];
    const { step, work, counters } = setup(() => said(manyResults), {
      observer: () => ({ ...silentObserver(), finished: (_n, f) => finished.push(f) }),
    });
    const w = work('impl');
    await step.run(w);
    const v = await w.run.done;
    expect(v.results.length).toBeGreaterThan(0);
    expect(v.errors).toEqual([expect.objectContaining({ code: 'RESULT_LIMIT_EXCEEDED' })]);
    // The branch went on with its results, so no `error` ended it; its trace entry still says what failed.
    expect(v.trace).toEqual([expect.not.objectContaining({ error: expect.anything() })]);
    expect(v.trace[0]!.errors).toEqual(v.errors);
    expect(finished).toEqual([expect.objectContaining({ outcome: 'ok' })]);
    expect(counters.of('impl')).toMatchObject({ processed: 1, failed: 0 });
  });
});
