import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { RequestBudget } from '../config/types.ts';
import { budgetLeft, modelCallRefusal, newLedger } from './budget.ts';
import { callLimits, countLimit, tighter } from './budget-left.ts';

const budget = (b: Partial<RequestBudget> = {}): RequestBudget => ({
  ...DEFAULT_CONFIG.performance.request_budget,
  ...b,
});

describe('callLimits', () => {
  it.each([
    ['nothing carried: this runtime’s own', budget({ max_tokens: 900 }), undefined, 900, undefined],
    ['a smaller token budget carried wins', budget({ max_tokens: 900 }), { tokens: 400 }, 400, undefined],
    ['a larger carried one does not', budget({ max_tokens: 900 }), { tokens: 5000 }, 900, undefined],
    ['a carried cost budget bounds a runtime without one', budget(), { tokens: 10, costUsd: 0.2 }, 10, 0.2],
    ['the smaller cost budget wins', budget({ max_cost_usd: 0.1 }), { tokens: 10, costUsd: 0.2 }, 10, 0.1],
    ['nothing left of a carried cost budget is a limit of 0', budget(), { tokens: 10, costUsd: 0 }, 10, 0],
  ])('%s', (_what, b, carried, tokens, costUsd) => {
    expect(callLimits(b, carried)).toMatchObject({ tokens, costUsd });
  });
});

describe('countLimit', () => {
  it('is this runtime’s own unless less was carried, and says which', () => {
    expect(countLimit(200, undefined)).toEqual({ limit: 200, carried: false });
    expect(countLimit(200, 7)).toEqual({ limit: 7, carried: true });
    expect(countLimit(200, 0)).toEqual({ limit: 0, carried: true });
    expect(countLimit(200, 500)).toEqual({ limit: 200, carried: false });
  });
});

describe('tighter', () => {
  it('keeps the least model call and signal counts, and a count either side has', () => {
    expect(
      tighter({ tokens: 5, modelCalls: 3, signals: 9 }, { tokens: 5, modelCalls: 4, signals: 2 }),
    ).toEqual({
      tokens: 5,
      modelCalls: 3,
      signals: 2,
    });
    expect(tighter({ tokens: 5 }, { tokens: 5, modelCalls: 4 })).toEqual({ tokens: 5, modelCalls: 4 });
  });

  it('keeps the least of each, and a cost budget either side has', () => {
    expect(tighter(undefined, { tokens: 5 })).toEqual({ tokens: 5 });
    expect(tighter({ tokens: 5, costUsd: 0.3 }, { tokens: 9 })).toEqual({ tokens: 5, costUsd: 0.3 });
    expect(tighter({ tokens: 9 }, { tokens: 5, costUsd: 0.3 })).toEqual({ tokens: 5, costUsd: 0.3 });
    expect(tighter({ tokens: 9, costUsd: 0.1 }, { tokens: 5, costUsd: 0.3 })).toEqual({
      tokens: 5,
      costUsd: 0.1,
    });
  });
});

describe('budgetLeft', () => {
  it('is the limit less what is spent and held by calls in flight, never below 0; cost only under a cost budget', () => {
    const spent = { ...newLedger(), tokens: 300, reservedTokens: 200, costUsd: 0.01, reservedCostUsd: 0.02 };
    expect(budgetLeft(spent, budget({ max_tokens: 1000 }))).toMatchObject({ tokens: 500 });
    const left = budgetLeft(spent, budget({ max_tokens: 1000, max_cost_usd: 0.05 }));
    expect(left.tokens).toBe(500);
    expect(left.costUsd).toBeCloseTo(0.02, 12);
    expect(budgetLeft({ ...spent, tokens: 5000 }, budget({ max_tokens: 1000 }))).toMatchObject({ tokens: 0 });
    // A forwarded request's: the least of this runtime's budget and what the sender had left.
    expect(budgetLeft({ ...spent, carried: { tokens: 600, costUsd: 0.04 } }, budget())).toMatchObject({
      tokens: 100,
      costUsd: expect.closeTo(0.01, 12),
    });
  });

  it('carries the model calls and signals left, the signals sent with it counted back in', () => {
    const b = budget({ max_model_calls: 10, max_signals: 20 });
    const spent = { ...newLedger(), modelCalls: 4, signals: 15 };
    expect(budgetLeft(spent, b)).toEqual({ tokens: b.max_tokens, modelCalls: 6, signals: 6 });
    expect(budgetLeft(spent, b, 3)).toMatchObject({ signals: 8 });
    expect(budgetLeft({ ...spent, modelCalls: 12, signals: 25 }, b, 2)).toMatchObject({
      modelCalls: 0,
      signals: 2,
    });
    // A forwarded request's: the least of this runtime's and what the sender had left.
    expect(budgetLeft({ ...spent, carried: { tokens: 1, modelCalls: 5, signals: 18 } }, b)).toMatchObject({
      modelCalls: 1,
      signals: 4,
    });
  });

  it('holds a peer’s model calls to the count the sender had left, naming where the limit came from', () => {
    const carried = budgetLeft({ ...newLedger(), modelCalls: 3 }, budget({ max_model_calls: 5 }));
    const atPeer = { ...newLedger(), modelCalls: 1, carried };
    expect(modelCallRefusal(atPeer, budget())).toBeUndefined();
    const e = modelCallRefusal({ ...atPeer, modelCalls: 2 }, budget());
    expect(e?.details.field).toBe('performance.request_budget.max_model_calls');
    expect(e?.message).toBe(
      'the request made 2 model calls here, all of the 2 model calls the request had left when another runtime forwarded it here (performance.request_budget.max_model_calls)',
    );
    // The peer's own budget, when less, is its own.
    expect(modelCallRefusal({ ...atPeer, modelCalls: 1 }, budget({ max_model_calls: 1 }))?.message).toBe(
      "the request made 1 model call, all of the request's 1 model call (performance.request_budget.max_model_calls)",
    );
  });

  it('is what a peer then holds the request’s calls to, naming where the limit came from', () => {
    const carried = budgetLeft({ ...newLedger(), costUsd: 0.04 }, budget({ max_cost_usd: 0.05 }));
    const atPeer = { ...newLedger(), costUsd: 0.006, carried };
    const e = modelCallRefusal(atPeer, budget(), { tokens: 100, costUsd: 0.005 });
    expect(e?.details.field).toBe('performance.request_budget.max_cost_usd');
    expect(e?.message).toBe(
      'a model call may use up to 0.005 USD, more than the 0.004 left of the 0.01 USD the request had left when another runtime forwarded it here (performance.request_budget.max_cost_usd)',
    );
  });
});
