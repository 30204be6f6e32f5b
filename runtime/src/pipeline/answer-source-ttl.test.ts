import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { Config } from '../config/types.ts';
import { neuronConfig } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { AnswerSource } from './answer-source.ts';
import { Deadlines } from './deadlines.ts';
import type { ModelAnswer } from './model-call.ts';
import { silentObserver } from './observer.ts';
import { RequestRun } from './request-run.ts';

// cache_ttl_seconds on the runtime's clock: a cached answer is served up to its TTL to the
// millisecond, and the model is asked again just past it.

const l2 = neuronConfig('impl', 'L2');

function setup(ttlSeconds: number) {
  const clock = new ManualClock();
  const config: Config = {
    ...DEFAULT_CONFIG,
    neurons: [l2],
    performance: { ...DEFAULT_CONFIG.performance, cache_layers: ['L2'], cache_ttl_seconds: ttlSeconds },
  };
  let calls = 0;
  const source = new AnswerSource({
    config,
    model: 'm1',
    observer: silentObserver(),
    known: new Map([[l2.id, l2]]),
    clock,
    modelCall: async (): Promise<ModelAnswer> => ({
      text: `RESULT: answer ${++calls}`,
      model: 'm1',
      retries: 0,
      fellBackFrom: [],
    }),
  });
  const span = noTracing().request({}, 'test', {});
  const ask = async () => {
    const run = new RequestRun({
      id: 'r',
      traceId: 't',
      entry: 'impl',
      timeoutMs: 30_000,
      clock,
      deadlines: new Deadlines(clock),
      onEnd: () => {},
    });
    const { cached, value } = await source.answer(l2, 'same', run, span, clock.now());
    return { cached, text: value.text };
  };
  return { clock, ask };
}

describe('AnswerSource cache_ttl_seconds', () => {
  it.each([0.5, 30])(
    'serves a %s s answer from the cache until its TTL, then asks the model again',
    async (s) => {
      const ttlMs = s * 1000;
      const t = setup(s);
      expect(await t.ask()).toEqual({ cached: false, text: 'RESULT: answer 1' });
      t.clock.advance(ttlMs - 1);
      expect(await t.ask()).toEqual({ cached: true, text: 'RESULT: answer 1' });
      t.clock.advance(2);
      expect(await t.ask()).toEqual({ cached: false, text: 'RESULT: answer 2' });
      // The new answer is stored from now on, for a whole TTL again.
      t.clock.advance(ttlMs - 1);
      expect(await t.ask()).toEqual({ cached: true, text: 'RESULT: answer 2' });
    },
  );
});
