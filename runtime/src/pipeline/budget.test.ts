import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { RequestBudget } from '../config/types.ts';
import { modelCallRefusal, type Spent, withinSignalBudget, worstCase } from './budget.ts';
import type { ForwardPlan } from './routing.ts';

const budget = (b: Partial<RequestBudget> = {}): RequestBudget => ({
  ...DEFAULT_CONFIG.performance.request_budget,
  ...b,
});
const spent = (s: Partial<Spent> = {}): Spent => ({
  signals: 0,
  modelCalls: 0,
  tokens: 0,
  costUsd: 0,
  reservedTokens: 0,
  reservedCostUsd: 0,
  ...s,
});
const plan = (targets: string[]): ForwardPlan => ({
  children: targets.map((target) => ({ target, content: `to ${target}` })),
  dropped: [{ target: 'x', reason: 'not_connected' }],
  errors: [],
});

describe('modelCallRefusal', () => {
  it.each([
    ['model calls', spent({ modelCalls: 3 }), budget({ max_model_calls: 3 }), 'max_model_calls'],
    ['tokens', spent({ tokens: 500 }), budget({ max_tokens: 400 }), 'max_tokens'],
    ['cost', spent({ costUsd: 0.5 }), budget({ max_cost_usd: 0.5 }), 'max_cost_usd'],
  ])('refuses once the %s budget is spent, naming the field to raise', (_what, s, b, key) => {
    const e = modelCallRefusal(s, b);
    expect(e?.code).toBe('BUDGET_EXCEEDED');
    expect(e?.details).toMatchObject({ field: `performance.request_budget.${key}` });
    expect(e?.message).toContain(`performance.request_budget.${key}`);
  });

  it('allows a call below every limit, and ignores cost when no cost budget is set', () => {
    expect(
      modelCallRefusal(
        spent({ modelCalls: 2, tokens: 399 }),
        budget({ max_model_calls: 3, max_tokens: 400 }),
      ),
    ).toBe(undefined);
    expect(modelCallRefusal(spent({ costUsd: 99 }), budget({ max_cost_usd: 0 }))).toBe(undefined);
  });
});

describe('what a refusal says', () => {
  it.each([
    [
      'how far over the budget the request went (a call used more than its estimated worst case)',
      spent({ tokens: 5005 }),
      "the request spent 5005 tokens, 4005 more than the request's 1000 tokens (performance.request_budget.max_tokens)",
    ],
    [
      'a budget spent exactly',
      spent({ tokens: 1000 }),
      "the request spent 1000 tokens, all of the request's 1000 tokens (performance.request_budget.max_tokens)",
    ],
    [
      'what the calls in flight hold',
      spent({ tokens: 700, reservedTokens: 300 }),
      "the request spent 700 tokens of the request's 1000 tokens, and its model calls in flight hold the other 300 (performance.request_budget.max_tokens)",
    ],
  ])('%s', (_what, s, message) => {
    expect(modelCallRefusal(s, budget({ max_tokens: 1000 }))?.message).toBe(message);
  });

  it('a cost budget the same way, in USD', () => {
    expect(modelCallRefusal(spent({ costUsd: 0.0123 }), budget({ max_cost_usd: 0.01 }))?.message).toBe(
      "the request spent 0.0123 USD, 0.0023 more than the request's 0.01 USD (performance.request_budget.max_cost_usd)",
    );
  });
});

describe('reservations (concurrent model calls of one request)', () => {
  it('refuses a call whose worst case would not fit beside what is spent and what calls in flight hold', () => {
    const b = budget({ max_tokens: 2500, max_cost_usd: 0.02 });
    const need = { tokens: 1100, costUsd: 0.0155 };
    expect(modelCallRefusal(spent(), b, need)).toBe(undefined);
    // One call in flight holds 1,100 tokens: a second fits (2,200), a third would not (3,300).
    expect(modelCallRefusal(spent({ reservedTokens: 1100 }), budget({ max_tokens: 2500 }), need)).toBe(
      undefined,
    );
    const third = modelCallRefusal(spent({ reservedTokens: 2200 }), budget({ max_tokens: 2500 }), need);
    expect(third?.details.field).toBe('performance.request_budget.max_tokens');
    expect(third?.message).toBe(
      "a model call may use up to 1100 tokens, more than the 300 left of the request's 2500 tokens (spent 0, and 2200 held for its model calls in flight, each at its worst case) (performance.request_budget.max_tokens)",
    );
    // Nothing in flight, nothing said of it.
    expect(modelCallRefusal(spent({ tokens: 2200 }), budget({ max_tokens: 2500 }), need)?.message).toBe(
      "a model call may use up to 1100 tokens, more than the 300 left of the request's 2500 tokens (performance.request_budget.max_tokens)",
    );
    // The cost budget the same way, spent and reserved together.
    const cost = modelCallRefusal(spent({ costUsd: 0.003, reservedCostUsd: 0.002 }), b, need);
    expect(cost?.details.field).toBe('performance.request_budget.max_cost_usd');
  });

  it('prices the worst case at the dearest model of the chain and input-side rate, from the larger input estimate', () => {
    const p = (input: number, output: number) => ({
      input,
      output,
      cache_read: input / 10,
      cache_write: input * 1.25,
    });
    expect(
      worstCase({
        promptBytes: 300,
        lastInputTokens: 0,
        maxOutputTokens: 1000,
        prices: [p(3, 15), undefined],
      }),
    ).toEqual({ tokens: 1100, costUsd: (100 * 3.75 + 1000 * 15) / 1e6 });
    const w = worstCase({
      promptBytes: 300,
      lastInputTokens: 1000,
      maxOutputTokens: 1000,
      prices: [p(3, 15), p(15, 75)],
    });
    expect(w.tokens).toBe(2000);
    expect(w.costUsd).toBeCloseTo((1000 * 18.75 + 1000 * 75) / 1e6, 12);
    expect(worstCase({ promptBytes: 1, lastInputTokens: 0, maxOutputTokens: 64, prices: [] })).toEqual({
      tokens: 65,
      costUsd: 0,
    });
  });
});

const own = (limit: number) => ({ limit, carried: false });

describe('withinSignalBudget', () => {
  it('returns the plan itself when every child fits', () => {
    const p = plan(['a', 'b']);
    expect(withinSignalBudget(p, 8, own(10), 'n')).toBe(p);
  });

  it('starts only the children that fit and drops the rest with reason budget and one error', () => {
    const cut = withinSignalBudget(plan(['a', 'b', 'c']), 9, own(10), 'n');
    expect(cut.children.map((c) => c.target)).toEqual(['a']);
    expect(cut.dropped).toEqual([
      { target: 'x', reason: 'not_connected' },
      { target: 'b', reason: 'budget' },
      { target: 'c', reason: 'budget' },
    ]);
    expect(cut.errors).toHaveLength(1);
    expect(cut.errors[0]).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      neuron: 'n',
      message:
        "the request started 10 signals, all of the request's 10 signals (performance.request_budget.max_signals)",
    });
  });

  it('holds a forwarded request to what it had left at the sender, and says so', () => {
    const cut = withinSignalBudget(plan(['a', 'b']), 2, { limit: 3, carried: true }, 'n');
    expect(cut.children.map((c) => c.target)).toEqual(['a']);
    expect(cut.errors[0]?.message).toBe(
      'the request started 3 signals here, all of the 3 signals the request had left when another runtime forwarded it here (performance.request_budget.max_signals)',
    );
  });

  it('starts nothing when the run already spent more than its budget', () => {
    expect(withinSignalBudget(plan(['a']), 12, own(10), 'n').children).toEqual([]);
  });
});
