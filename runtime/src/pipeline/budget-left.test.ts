import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { RequestBudget } from '../config/types.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { budgetLeft, modelCallRefusal, newLedger, signalBudgetRefusal, signalLimit } from './budget.ts';
import {
  type Counted,
  callLimits,
  carriedLimits,
  countLimit,
  NOTHING_COUNTED,
  takenBack,
  tighter,
} from './budget-left.ts';
import { traceEntry } from './trace-entry.ts';

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

const counted = (c: Partial<Counted>): Counted => ({ ...NOTHING_COUNTED, ...c });

describe('takenBack', () => {
  const entry = (signal: string, paid?: { costUsd?: number }) => ({
    ...traceEntry(signalTo('impl', { id: signal }), neuronConfig('impl'), false, 5, [], []),
    ...(paid ? { usage: { input: 10, output: 20, cacheRead: 3, cacheCreation: 4 }, ...paid } : {}),
  });

  it('is a signal but for the forwarded one’s own entry, and a model call with its tokens and cost when paid', () => {
    expect(takenBack(entry('sent'), 'sent')).toEqual(NOTHING_COUNTED);
    expect(takenBack(entry('child'), 'sent')).toEqual(counted({ signals: 1 }));
    expect(takenBack(entry('sent', { costUsd: 0.5 }), 'sent')).toEqual(
      counted({ tokens: 37, costUsd: 0.5, modelCalls: 1 }),
    );
    // No cost: none is guessed.
    expect(takenBack(entry('child', {}), 'sent')).toEqual(counted({ tokens: 37, modelCalls: 1, signals: 1 }));
  });
});

describe('carriedLimits', () => {
  it('is what the sender had left where nothing here was counted there', () => {
    const left = { tokens: 7000, costUsd: 0.3, modelCalls: 5, signals: 9 };
    expect(
      carriedLimits(left, NOTHING_COUNTED, counted({ tokens: 2010, modelCalls: 2, signals: 2 })),
    ).toEqual(left);
  });

  it('adds back what the ledger spent that the sender counted already, per budget the signal limits', () => {
    const spent = counted({ tokens: 4000, costUsd: 0.2, modelCalls: 3, signals: 4 });
    const known = counted({ tokens: 2010, costUsd: 0.1, modelCalls: 1, signals: 1 });
    expect(carriedLimits({ tokens: 4990, costUsd: 0.05, modelCalls: 4, signals: 6 }, known, spent)).toEqual({
      tokens: 7000,
      costUsd: expect.closeTo(0.15, 12),
      modelCalls: 5,
      signals: 7,
      before: { tokens: 2010, costUsd: 0.1, modelCalls: 1, signals: 1 },
    });
    // A sender of a version without the counts, and no cost budget: tokens alone.
    expect(carriedLimits({ tokens: 4990 }, known, spent)).toEqual({ tokens: 7000, before: { tokens: 2010 } });
  });

  it('adds back no more than the ledger spent', () => {
    expect(carriedLimits({ tokens: 100 }, counted({ tokens: 500 }), counted({ tokens: 300 }))).toEqual({
      tokens: 400,
      before: { tokens: 300 },
    });
  });
});

describe('limits counted from what was spent before a signal arrived', () => {
  const b = budget({ max_tokens: 100_000, max_model_calls: 50, max_signals: 50 });
  // 2,010 tokens, a model call and a signal spent here (and counted at the sender) before B arrived.
  const carried = carriedLimits(
    { tokens: 4990, modelCalls: 3, signals: 2 },
    counted({ tokens: 2010, modelCalls: 1, signals: 1 }),
    counted({ tokens: 2010, modelCalls: 2, signals: 2 }),
  );

  it('hold the ledger’s own counts, calls in flight included, and say what was spent before', () => {
    expect(callLimits(b, carried)).toMatchObject({ tokens: 7000, tokensCarried: true, tokensBefore: 2010 });
    const ledger = { ...newLedger(), tokens: 2010, reservedTokens: 2010, modelCalls: 2, signals: 2, carried };
    expect(modelCallRefusal(ledger, b, { tokens: 2980, costUsd: 0 })).toBeUndefined();
    expect(modelCallRefusal(ledger, b, { tokens: 2981, costUsd: 0 })?.message).toBe(
      'a model call may use up to 2981 tokens, more than the 2980 left of the 7000 tokens the request may spend here, 2010 spent here when another runtime forwarded it here with 4990 left (performance.request_budget.max_tokens)',
    );
    expect(modelCallRefusal({ ...ledger, modelCalls: 4 }, b)?.message).toBe(
      'the request made 4 model calls here, all of the 4 model calls the request may make here, 1 made here when another runtime forwarded it here with 3 left (performance.request_budget.max_model_calls)',
    );
    expect(signalBudgetRefusal(3, signalLimit(b, carried), 'impl')?.message).toBe(
      'the request started 3 signals here, all of the 3 signals the request may start here, 1 started here when another runtime forwarded it here with 2 left (performance.request_budget.max_signals)',
    );
    // What the pod forwards on: what is left of them.
    expect(budgetLeft(ledger, b)).toEqual({ tokens: 2980, modelCalls: 2, signals: 2 });
  });

  it('keep, per budget, the least of any signal’s with what was spent before it', () => {
    const first = { tokens: 6000, modelCalls: 9, signals: 2 };
    expect(tighter(first, carried)).toEqual({
      tokens: 6000,
      modelCalls: 4,
      signals: 2,
      before: { modelCalls: 1 },
    });
    expect(tighter(carried, first)).toEqual(tighter(first, carried));
  });
});
