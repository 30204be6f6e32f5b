import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { RequestBudget } from '../config/types.ts';
import { modelCallRefusal, type Spent, withinSignalBudget } from './budget.ts';
import type { ForwardPlan } from './routing.ts';

const budget = (b: Partial<RequestBudget> = {}): RequestBudget => ({
  ...DEFAULT_CONFIG.performance.request_budget,
  ...b,
});
const spent = (s: Partial<Spent> = {}): Spent => ({ signals: 0, modelCalls: 0, tokens: 0, costUsd: 0, ...s });
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

describe('withinSignalBudget', () => {
  it('returns the plan itself when every child fits', () => {
    const p = plan(['a', 'b']);
    expect(withinSignalBudget(p, 8, 10, 'n')).toBe(p);
  });

  it('starts only the children that fit and drops the rest with reason budget and one error', () => {
    const cut = withinSignalBudget(plan(['a', 'b', 'c']), 9, 10, 'n');
    expect(cut.children.map((c) => c.target)).toEqual(['a']);
    expect(cut.dropped).toEqual([
      { target: 'x', reason: 'not_connected' },
      { target: 'b', reason: 'budget' },
      { target: 'c', reason: 'budget' },
    ]);
    expect(cut.errors).toHaveLength(1);
    expect(cut.errors[0]).toMatchObject({ code: 'BUDGET_EXCEEDED', neuron: 'n' });
  });

  it('starts nothing when the run already spent more than its budget', () => {
    expect(withinSignalBudget(plan(['a']), 12, 10, 'n').children).toEqual([]);
  });
});
