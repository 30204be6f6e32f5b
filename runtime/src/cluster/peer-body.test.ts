import { describe, expect, it } from 'vitest';
import { signalTo } from '../testing/builders.ts';
import { deadlineHead, deadlineLeft, signalsTail, spendOf, withFields } from './peer-body.ts';

const signal = signalTo('impl', { content: 'a "quoted" line\n€' });
const json = JSON.stringify(signal);
const traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;

describe('withFields', () => {
  it('leaves a signal without context or budget as it was encoded', () => {
    expect(withFields(json, undefined, undefined)).toBe(json);
    expect(withFields(json, {}, undefined)).toBe(json);
  });

  const cases: Record<string, { args: Parameters<typeof withFields>; added: object }> = {
    'a context': { args: [json, { traceparent }, undefined], added: { traceparent } },
    'a context with its tracestate': {
      args: [json, { traceparent, tracestate: 'v=1,"w"=2' }, undefined],
      added: { traceparent, tracestate: 'v=1,"w"=2' },
    },
    'a tracestate alone: dropped, it means nothing without its traceparent': {
      args: [json, { tracestate: 'v=1' }, { tokens: 5 }],
      added: { budgetLeft: { tokens: 5 } },
    },
    'a token budget': { args: [json, undefined, { tokens: 100 }], added: { budgetLeft: { tokens: 100 } } },
    'every budget': {
      args: [json, { traceparent }, { tokens: 100, costUsd: 0.25, modelCalls: 3, signals: 7 }],
      added: { traceparent, budgetLeft: { tokens: 100, costUsd: 0.25, modelCalls: 3, signals: 7 } },
    },
    'counts without cost': {
      args: [json, undefined, { tokens: 1, modelCalls: 0, signals: 2 }],
      added: { budgetLeft: { tokens: 1, modelCalls: 0, signals: 2 } },
    },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(`adds ${name} to the signal's JSON`, () => {
      expect(JSON.parse(withFields(...c.args))).toEqual({ ...signal, ...c.added });
    });
  }
});

describe('spendOf', () => {
  it("keeps a budget's tokens and cost, not its counts", () => {
    expect(spendOf({ tokens: 9, costUsd: 1.5, modelCalls: 2, signals: 3 })).toEqual({
      tokens: 9,
      costUsd: 1.5,
    });
    expect(spendOf({ tokens: 9, modelCalls: 2 })).toEqual({ tokens: 9 });
    expect(spendOf(undefined)).toBeUndefined();
  });
});

describe('the body of a batch', () => {
  it('is the PeerBatchBody JSON of its deadline and signals', () => {
    const body = deadlineHead(1500, 4) + signalsTail([json, withFields(json, { traceparent }, undefined)]);
    expect(JSON.parse(body)).toEqual({ deadlineMs: 1500, signals: [signal, { ...signal, traceparent }] });
  });

  it('keeps its length when a smaller deadline replaces the one it was measured with', () => {
    const tail = signalsTail([json]);
    for (const ms of [1, 42, 999]) {
      expect(deadlineHead(ms, 4).length).toBe(deadlineHead(1500, 4).length);
      expect(JSON.parse(deadlineHead(ms, 4) + tail).deadlineMs).toBe(ms);
    }
  });

  it('carries what is left of its deadline, at least 1 ms and at most as given', () => {
    expect(deadlineLeft(1000, 5000, 4200)).toBe(800);
    expect(deadlineLeft(1000, 5000, 4199.6)).toBe(800);
    expect(deadlineLeft(1000, 5000, 5000)).toBe(1);
    expect(deadlineLeft(1000, 5000, 9000)).toBe(1);
    expect(deadlineLeft(1000, 5000, 3000)).toBe(1000);
  });
});
